"""The optax 0.2.8 test files the optax suite runs (paths inside the optax wheel)."""

SUITE_FILES = [
    "optax/_src/alias_test.py",
    "optax/_src/base_test.py",
    "optax/_src/combine_test.py",
    "optax/_src/factorized_test.py",
    "optax/_src/float64_test.py",
    "optax/_src/linear_algebra_test.py",
    "optax/_src/linesearch_test.py",
    "optax/_src/lookahead_test.py",
    "optax/_src/numerics_test.py",
    "optax/_src/sharding_test.py",
    "optax/_src/transform_test.py",
    "optax/_src/update_test.py",
    "optax/_src/utils_test.py",
    "optax/contrib/_muon_test.py",
    "optax/contrib/_reduce_on_plateau_test.py",
    "optax/schedules/_inject_test.py",
    "optax/schedules/_join_test.py",
    "optax/schedules/_schedule_test.py",
    "optax/transforms/_accumulation_test.py",
    "optax/transforms/_adding_test.py",
    "optax/transforms/_clipping_test.py",
    "optax/transforms/_combining_test.py",
    "optax/transforms/_conditionality_test.py",
    "optax/transforms/_constraining_test.py",
    "optax/transforms/_freezing_test.py",
    "optax/transforms/_layouts_test.py",
    "optax/transforms/_masking_test.py",
    "optax/transforms/_monitoring_test.py",
]

# Tests that fail on optjax on purpose: optjax differs from optax there by design
# (docs/optax-users.md, "Deliberate differences"). The tool reports them apart from failures.
DELIBERATE = {
    "optax/_src/base_test.py": {
        "ExtraArgsTest.test_isinstance":
            "every optjax transform takes extra args, so a plain GradientTransformation is "
            "also a GradientTransformationExtraArgs",
    },
    "optax/schedules/_inject_test.py": {
        "InjectHyperparamsTest.test_hyperparam_default_dtype_bf16":
            "injected Python floats are stored in float32 at least, not in bfloat16 "
            "(b2=0.999 would become 1.0)",
    },
    "optax/schedules/_schedule_test.py": {
        "ExponentialTest.test_nonvalid_transition_steps0": "negative transition_steps is an error",
        "ExponentialTest.test_nonvalid_transition_steps1": "negative transition_steps is an error",
        "PolynomialTest.test_zero_steps_schedule": "negative transition_steps is an error",
    },
}

# Tests that fail on the real optax 0.2.8 in this environment too (python tools/optax_suite.py --real)
FAIL_ON_OPTAX = {
    "optax/_src/linear_algebra_test.py": ("LinearAlgebraTest.test_nnls4", "LinearAlgebraTest.test_nnls5"),
    "optax/transforms/_clipping_test.py": ("ClippingTest.test_clip_by_block_rms",),
}
