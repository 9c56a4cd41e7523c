"""Test setup: 8 simulated CPU devices (for the sharding tests) and x64 available.

XLA_FLAGS must be set before jax is first imported, so this file does it.
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
