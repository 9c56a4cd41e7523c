"""``python -m optjax demo`` / ``python -m optjax list``."""

import sys

from optjax.cli import main

sys.exit(main())
