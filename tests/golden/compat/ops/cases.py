"""The operator cases shared by the golden generator and the tests (plain Python, no MXNet/JAX).

A case is ``dict(id, op, inputs=[(name, spec)], attrs, train, nograd, backward, heads)``.
Input specs (drawn from a numpy RandomState seeded per case):
``("n", shape[, dtype])`` standard normal; ``("u", shape, lo, hi[, dtype])`` uniform;
``("i", shape, lo, hi[, dtype])`` integers in [lo, hi) (float32 unless a dtype is given);
``("v", values[, dtype])`` explicit values; ``("p", shape[, dtype])`` positive (uniform 0.5..2).
``nograd``: inputs without a gradient (indices, labels, integer arrays); ``backward=False``:
no gradient recorded (integer or index outputs, or MXNet has none); ``heads='first'``: only the
first output gets a (random) head gradient, the others zero; ``mkldnn_error``: MXNet's MKLDNN
kernel fails on this case, the golden values come from its reference kernels.
"""

F32 = "float32"


def C(op, inputs, attrs=None, *, id=None, train=False, nograd=(), backward=True, heads="all",
      mkldnn_error=False):
    return dict(id=id or op, op=op, inputs=[[n, list(s)] for n, s in inputs], attrs=attrs or {},
                train=train, nograd=list(nograd), backward=backward, heads=heads,
                mkldnn_error=mkldnn_error)


def n(*shape, dtype=F32):
    return ("n", list(shape), dtype)


def p(*shape, dtype=F32):
    return ("p", list(shape), dtype)


def u(shape, lo, hi, dtype=F32):
    return ("u", list(shape), lo, hi, dtype)


def i(shape, lo, hi, dtype=F32):
    return ("i", list(shape), lo, hi, dtype)


def v(values, dtype=F32):
    return ("v", values, dtype)


CASES = []
add = CASES.append

# ---- nn: FullyConnected, dot, batch_dot, Embedding, Dropout
add(C("FullyConnected", [("data", n(4, 3, 2)), ("weight", n(5, 6)), ("bias", n(5))],
      dict(num_hidden=5)))
add(C("FullyConnected", [("data", n(2, 3, 4)), ("weight", n(5, 4)), ("bias", n(5))],
      dict(num_hidden=5, flatten=False), id="FullyConnected_noflatten"))
add(C("FullyConnected", [("data", n(4, 6)), ("weight", n(3, 6))],
      dict(num_hidden=3, no_bias=True), id="FullyConnected_nobias"))
add(C("FullyConnected", [("data", n(4, 6, dtype="float64")), ("weight", n(3, 6, dtype="float64")),
                         ("bias", n(3, dtype="float64"))], dict(num_hidden=3), id="FullyConnected_f64"))
add(C("dot", [("lhs", n(3, 4)), ("rhs", n(4, 5))]))
add(C("dot", [("lhs", n(4, 3)), ("rhs", n(5, 4))], dict(transpose_a=True, transpose_b=True),
      id="dot_tt"))
add(C("dot", [("lhs", n(2, 3, 4)), ("rhs", n(4, 5))], id="dot_3d"))
add(C("dot", [("lhs", n(3, 2, 4)), ("rhs", n(3, 5))], dict(transpose_a=True), id="dot_3d_ta"))
add(C("dot", [("lhs", n(2, 3, 4)), ("rhs", n(5, 2, 4))], dict(transpose_b=True), id="dot_3d_tb"))
add(C("dot", [("lhs", n(4)), ("rhs", n(4))], id="dot_1d"))
add(C("batch_dot", [("lhs", n(2, 3, 4)), ("rhs", n(2, 4, 5))]))
add(C("batch_dot", [("lhs", n(2, 4, 3)), ("rhs", n(2, 5, 4))], dict(transpose_a=True, transpose_b=True),
      id="batch_dot_tt"))
add(C("Embedding", [("data", i((2, 3), 0, 10)), ("weight", n(10, 4))],
      dict(input_dim=10, output_dim=4), nograd=["data"]))
add(C("Dropout", [("data", n(3, 4))], dict(p=0.5), id="Dropout_predict"))
add(C("Dropout", [("data", n(3, 4))], dict(p=0.0), train=True, id="Dropout_p0_train"))

# ---- activations
for act in ["relu", "sigmoid", "tanh", "softrelu", "softsign"]:
    add(C("Activation", [("data", n(3, 4))], dict(act_type=act), id=f"Activation_{act}"))
add(C("LeakyReLU", [("data", n(3, 4))], dict(slope=0.1), id="LeakyReLU_leaky"))
add(C("LeakyReLU", [("data", n(2, 3, 4)), ("gamma", u((3,), 0.1, 0.5))], dict(act_type="prelu"),
      id="LeakyReLU_prelu"))
add(C("LeakyReLU", [("data", n(2, 3, 4)), ("gamma", u((1,), 0.1, 0.5))], dict(act_type="prelu"),
      id="LeakyReLU_prelu_scalar"))
add(C("LeakyReLU", [("data", n(3, 4))], dict(act_type="elu", slope=0.7), id="LeakyReLU_elu"))
add(C("LeakyReLU", [("data", n(3, 4))], dict(act_type="selu"), id="LeakyReLU_selu"))
add(C("LeakyReLU", [("data", n(3, 4))], dict(act_type="gelu"), id="LeakyReLU_gelu"))
# MXNet's rrelu backward in predict mode reads a mask it did not fill (varies run to run): forward only.
add(C("LeakyReLU", [("data", n(3, 4))], dict(act_type="rrelu"), id="LeakyReLU_rrelu_predict",
      backward=False))
for op in ["softmax", "log_softmax", "softmin"]:
    add(C(op, [("data", n(3, 5))]))
    add(C(op, [("data", n(3, 4, 2))], dict(axis=1, temperature=2.0), id=f"{op}_axis1_T2"))
add(C("softmax", [("data", n(3, 5, dtype="float64"))], id="softmax_f64"))
add(C("softmax", [("data", n(2, 5)), ("length", v([3, 5], "int32"))], dict(use_length=True, axis=-1),
      id="softmax_length", nograd=["length"]))

# ---- output ops (MXNet's own gradients)
lab4 = v([0, 2, 4, 1])
add(C("SoftmaxOutput", [("data", n(4, 5)), ("label", lab4)], nograd=["label"]))
add(C("SoftmaxOutput", [("data", n(4, 5)), ("label", lab4)],
      dict(grad_scale=2.0, normalization="batch"), nograd=["label"], id="SoftmaxOutput_batch"))
add(C("SoftmaxOutput", [("data", n(4, 5)), ("label", v([0, -1, 4, -1]))],
      dict(use_ignore=True, ignore_label=-1, normalization="valid"), nograd=["label"],
      id="SoftmaxOutput_ignore_valid"))
add(C("SoftmaxOutput", [("data", n(4, 5)), ("label", v([0, 3, 4, 3]))],
      dict(use_ignore=False, ignore_label=3, normalization="valid"), nograd=["label"],
      id="SoftmaxOutput_noignore_valid"))
add(C("SoftmaxOutput", [("data", n(2, 3, 4)), ("label", i((2, 4), 0, 3))],
      dict(multi_output=True), nograd=["label"], id="SoftmaxOutput_multi"))
add(C("SoftmaxOutput", [("data", n(2, 3, 4)), ("label", i((2, 4), 0, 3))],
      dict(multi_output=True, normalization="batch"), nograd=["label"], id="SoftmaxOutput_multi_batch"))
add(C("SoftmaxOutput", [("data", n(2, 3, 4)), ("label", v([[0, 1, -1, 2], [-1, -1, 2, 0]]))],
      dict(multi_output=True, use_ignore=True, normalization="valid"), nograd=["label"],
      id="SoftmaxOutput_multi_valid"))
add(C("SoftmaxOutput", [("data", n(2, 3, 4)), ("label", i((2, 3), 0, 4))],
      dict(preserve_shape=True, normalization="batch"), nograd=["label"], id="SoftmaxOutput_preserve"))
add(C("SoftmaxOutput", [("data", n(2, 3, 2)), ("label", i((2, 3), 0, 6))], nograd=["label"],
      id="SoftmaxOutput_3d"))
add(C("SoftmaxOutput", [("data", n(2, 3, 2)), ("label", v([[1, 5, 0], [-1, 2, 2]]))],
      dict(normalization="valid", use_ignore=True), nograd=["label"], id="SoftmaxOutput_3d_valid"))
add(C("SoftmaxOutput", [("data", n(2, 3, 2)), ("label", i((2, 3), 0, 6))],
      dict(normalization="batch"), nograd=["label"], id="SoftmaxOutput_3d_batch"))
add(C("SoftmaxOutput", [("data", n(4, 5)), ("label", lab4)], dict(smooth_alpha=0.1),
      nograd=["label"], id="SoftmaxOutput_smooth"))
# MXNet 1.9.1 with out_grad=True multiplies the gradient by the output, not the head gradient.
add(C("SoftmaxOutput", [("data", n(4, 5)), ("label", lab4)], dict(out_grad=True),
      nograd=["label"], id="SoftmaxOutput_out_grad"))
add(C("SoftmaxOutput", [("data", n(3, 4)), ("label", u((3, 4), 0, 1))], nograd=["label"],
      id="SoftmaxOutput_prob_label"))
for op in ["LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"]:
    add(C(op, [("data", n(4, 3)), ("label", n(4, 3))], dict(grad_scale=2.0), nograd=["label"]))
    add(C(op, [("data", n(4, 1)), ("label", n(4))], nograd=["label"], id=f"{op}_1d_label"))
for norm in ["null", "batch", "valid"]:
    add(C("MakeLoss", [("data", n(4, 3))], dict(grad_scale=3.0, normalization=norm, valid_thresh=0.1),
          id=f"MakeLoss_{norm}"))

# ---- normalization
bn_in = [("data", n(4, 3, 2, 2)), ("gamma", u((3,), 0.5, 1.5)), ("beta", n(3)),
         ("moving_mean", n(3)), ("moving_var", u((3,), 0.5, 1.5))]
add(C("BatchNorm", bn_in, dict(fix_gamma=False), train=True, id="BatchNorm_train"))
add(C("BatchNorm", bn_in, {}, train=True, id="BatchNorm_train_fixgamma"))
add(C("BatchNorm", bn_in, dict(fix_gamma=False, momentum=0.7, eps=1e-5), id="BatchNorm_predict"))
add(C("BatchNorm", bn_in, dict(fix_gamma=False, use_global_stats=True), train=True,
      id="BatchNorm_global_stats"))
add(C("BatchNorm", bn_in, dict(fix_gamma=False, output_mean_var=True), train=True, heads="first",
      id="BatchNorm_output_mean_var"))
add(C("BatchNorm", [("data", n(5, 3)), ("gamma", u((3,), 0.5, 1.5)), ("beta", n(3)),
                    ("moving_mean", n(3)), ("moving_var", u((3,), 0.5, 1.5))],
      dict(fix_gamma=False), train=True, id="BatchNorm_2d"))
add(C("BatchNorm", [("data", n(2, 2, 2, 3)), ("gamma", u((3,), 0.5, 1.5)), ("beta", n(3)),
                    ("moving_mean", n(3)), ("moving_var", u((3,), 0.5, 1.5))],
      dict(fix_gamma=False, axis=-1), train=True, id="BatchNorm_axis_last"))
add(C("LayerNorm", [("data", n(3, 4, 5)), ("gamma", u((5,), 0.5, 1.5)), ("beta", n(5))]))
add(C("LayerNorm", [("data", n(3, 4, 5)), ("gamma", u((4,), 0.5, 1.5)), ("beta", n(4))],
      dict(axis=1, eps=1e-3), id="LayerNorm_axis1"))
add(C("InstanceNorm", [("data", n(2, 3, 4, 4)), ("gamma", u((3,), 0.5, 1.5)), ("beta", n(3))]))
for mode in ["instance", "channel", "spatial"]:
    add(C("L2Normalization", [("data", n(2, 3, 4))], dict(mode=mode), id=f"L2Normalization_{mode}"))

# ---- convolution and pooling
add(C("Convolution", [("data", n(2, 3, 7, 7)), ("weight", n(4, 3, 3, 3)), ("bias", n(4))],
      dict(kernel=(3, 3), num_filter=4)))
add(C("Convolution", [("data", n(2, 4, 9, 8)), ("weight", n(6, 2, 3, 2)), ("bias", n(6))],
      dict(kernel=(3, 2), num_filter=6, stride=(2, 1), pad=(1, 1), dilate=(2, 1), num_group=2),
      id="Convolution_strided_grouped"))
add(C("Convolution", [("data", n(2, 3, 9)), ("weight", n(4, 3, 3))],
      dict(kernel=(3,), num_filter=4, no_bias=True, stride=(2,), pad=(1,)), id="Convolution_1d"))
add(C("Convolution", [("data", n(1, 2, 4, 5, 5)), ("weight", n(3, 2, 2, 3, 3)), ("bias", n(3))],
      dict(kernel=(2, 3, 3), num_filter=3, pad=(0, 1, 1)), id="Convolution_3d"))
add(C("Convolution", [("data", n(2, 3, 6, 6, dtype="float64")), ("weight", n(4, 3, 3, 3, dtype="float64")),
                      ("bias", n(4, dtype="float64"))],
      dict(kernel=(3, 3), num_filter=4), id="Convolution_f64"))
add(C("Deconvolution", [("data", n(2, 3, 4, 4)), ("weight", n(3, 5, 3, 3))],
      dict(kernel=(3, 3), num_filter=5, stride=(2, 2), pad=(1, 1), adj=(1, 1))))
add(C("Deconvolution", [("data", n(2, 4, 3, 5)), ("weight", n(4, 3, 2, 3)), ("bias", n(6))],
      dict(kernel=(2, 3), num_filter=6, num_group=2, no_bias=False, stride=(1, 2)),
      id="Deconvolution_grouped_bias"))
add(C("Deconvolution", [("data", n(2, 3, 5, 5)), ("weight", n(3, 2, 4, 4))],
      dict(kernel=(4, 4), num_filter=2, stride=(2, 2), target_shape=(10, 10)),
      id="Deconvolution_target_shape", mkldnn_error=True))
add(C("Deconvolution", [("data", n(2, 3, 5, 5)), ("weight", n(3, 2, 4, 4))],
      dict(kernel=(4, 4), num_filter=2, stride=(2, 2), target_shape=(9, 9)),
      id="Deconvolution_target_shape_odd", mkldnn_error=True))
add(C("Deconvolution", [("data", n(2, 3, 6)), ("weight", n(3, 2, 3))],
      dict(kernel=(3,), num_filter=2, stride=(2,), dilate=(2,), pad=(1,)), id="Deconvolution_1d"))
pool_x = ("data", n(2, 3, 7, 6))
add(C("Pooling", [pool_x], dict(kernel=(2, 2), stride=(2, 2)), id="Pooling_max"))
add(C("Pooling", [pool_x], dict(kernel=(3, 3), stride=(2, 2), pooling_convention="full"),
      id="Pooling_max_full"))
add(C("Pooling", [pool_x], dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg"),
      id="Pooling_avg_pad"))
add(C("Pooling", [pool_x], dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg",
                                count_include_pad=False), id="Pooling_avg_pad_exclude"))
add(C("Pooling", [pool_x], dict(kernel=(3, 3), stride=(2, 2), pool_type="avg",
                                pooling_convention="full"), id="Pooling_avg_full"))
add(C("Pooling", [pool_x], dict(kernel=(2, 2), pool_type="sum"), id="Pooling_sum"))
add(C("Pooling", [pool_x], dict(kernel=(2, 2), stride=(2, 2), pool_type="lp", p_value=2),
      id="Pooling_lp2"))
add(C("Pooling", [pool_x], dict(kernel=(1, 1), global_pool=True, pool_type="avg"),
      id="Pooling_global_avg"))
add(C("Pooling", [pool_x], dict(kernel=(1, 1), global_pool=True, pool_type="max"),
      id="Pooling_global_max"))
add(C("Pooling", [("data", n(2, 3, 9))], dict(kernel=(3,), stride=(2,), pool_type="max"),
      id="Pooling_1d"))
add(C("Pooling", [("data", n(1, 2, 4, 4, 4))], dict(kernel=(2, 2, 2), stride=(2, 2, 2), pool_type="avg"),
      id="Pooling_3d"))
add(C("UpSampling", [("data0", n(2, 3, 2, 3))], dict(scale=2, sample_type="nearest", num_args=1)))
add(C("UpSampling", [("data0", n(1, 2, 4, 4)), ("data1", n(1, 3, 2, 2))],
      dict(scale=2, sample_type="nearest", num_args=2), id="UpSampling_two"))
add(C("Pad", [("data", n(1, 2, 3, 4))], dict(mode="constant", pad_width=(0, 0, 0, 0, 1, 2, 2, 1),
                                             constant_value=1.5), id="Pad_constant"))
add(C("Pad", [("data", n(1, 2, 3, 4))], dict(mode="edge", pad_width=(0, 0, 0, 0, 1, 2, 2, 1)),
      id="Pad_edge"))
add(C("Pad", [("data", n(1, 2, 3, 4))], dict(mode="reflect", pad_width=(0, 0, 0, 0, 1, 2, 2, 1)),
      id="Pad_reflect"))

# ---- tensor layout and indexing
add(C("broadcast_to", [("data", n(3, 1))], dict(shape=(0, 4))))
add(C("broadcast_like", [("lhs", n(1, 4)), ("rhs", n(3, 4))]))
add(C("broadcast_like", [("lhs", n(1, 4)), ("rhs", n(5, 3))], dict(lhs_axes=(0,), rhs_axes=(0,)),
      id="broadcast_like_axes"))
add(C("broadcast_axis", [("data", n(3, 1, 1))], dict(axis=(1, 2), size=(2, 4))))
add(C("tile", [("data", n(2, 3))], dict(reps=(2, 1, 2))))
add(C("repeat", [("data", n(2, 3))], dict(repeats=2, axis=1)))
add(C("repeat", [("data", n(2, 3))], dict(repeats=3), id="repeat_flat"))
add(C("reverse", [("data", n(2, 3, 4))], dict(axis=(0, 2))))
add(C("take", [("a", n(5, 3)), ("indices", v([[0, 4], [6, -2]]))], nograd=["indices"]))
add(C("take", [("a", n(3, 5)), ("indices", v([1, 7, -1]))], dict(axis=1, mode="wrap"),
      nograd=["indices"], id="take_wrap_axis1"))
add(C("pick", [("data", n(3, 4)), ("index", v([0, 3, 9]))], nograd=["index"]))
add(C("pick", [("data", n(3, 4)), ("index", v([2, 0, 1, 2]))], dict(axis=0, keepdims=True),
      nograd=["index"], id="pick_axis0_keep"))
add(C("pick", [("data", n(3, 4)), ("index", v([2, 0, -1]))], dict(mode="wrap"),
      nograd=["index"], id="pick_wrap"))
add(C("one_hot", [("indices", v([0, 3, 1, 5]))], dict(depth=4), backward=False))
add(C("one_hot", [("indices", v([[0, 2], [1, 1]]))],
      dict(depth=3, on_value=5.0, off_value=-1.0, dtype="int32"), backward=False,
      id="one_hot_values"))
add(C("where", [("condition", v([[1, 0, 1], [0, 0, 1]])), ("x", n(2, 3)), ("y", n(2, 3))],
      nograd=["condition"]))
add(C("where", [("condition", v([0, 1])), ("x", n(2, 3)), ("y", n(2, 3))], nograd=["condition"],
      id="where_rows"))
add(C("gather_nd", [("data", n(3, 4, 2)), ("indices", v([[0, 2, 1], [1, 3, 0]]))],
      nograd=["indices"]))
add(C("scatter_nd", [("data", n(3)), ("indices", v([[0, 2, 1], [1, 3, 0]]))], dict(shape=(3, 4)),
      nograd=["indices"]))
add(C("topk", [("data", n(3, 5))], dict(k=2), backward=False, id="topk_indices"))
add(C("topk", [("data", n(3, 5))], dict(k=2, ret_typ="value", axis=0), id="topk_value"))
add(C("topk", [("data", n(3, 5))], dict(k=3, ret_typ="both", is_ascend=True), backward=False,
      id="topk_both_ascend"))
add(C("topk", [("data", n(3, 5))], dict(k=2, ret_typ="mask"), backward=False, id="topk_mask"))
add(C("topk", [("data", n(3, 4))], dict(k=3, axis=None), backward=False, id="topk_flat"))
add(C("sort", [("data", n(3, 5))], backward=False))  # MXNet's sort backward fails (_backward_topk axis="")
add(C("sort", [("data", n(3, 5))], dict(axis=0, is_ascend=False), id="sort_desc", backward=False))
add(C("argsort", [("data", n(3, 5))], backward=False))
add(C("argsort", [("data", n(3, 5))], dict(is_ascend=False, dtype="int32"), backward=False,
      id="argsort_desc_int"))
add(C("diag", [("data", n(4))], dict(k=1)))
add(C("diag", [("data", n(3, 4))], dict(k=-1), id="diag_2d"))
add(C("khatri_rao", [("args0", n(2, 3)), ("args1", n(4, 3))], dict(num_args=2), backward=False))  # no FGradient in MXNet
add(C("SequenceMask", [("data", n(4, 2, 3)), ("sequence_length", v([2, 4]))],
      dict(use_sequence_length=True, value=-1.0), nograd=["sequence_length"]))
add(C("SequenceMask", [("data", n(2, 4, 3)), ("sequence_length", v([1, 3]))],
      dict(use_sequence_length=True, axis=1), nograd=["sequence_length"], id="SequenceMask_axis1"))
add(C("SequenceLast", [("data", n(4, 2, 3)), ("sequence_length", v([2, 4]))],
      dict(use_sequence_length=True), nograd=["sequence_length"]))
add(C("smooth_l1", [("data", n(3, 4))], dict(scalar=1.5)))
add(C("softmax_cross_entropy", [("data", n(4, 5)), ("label", lab4)], nograd=["label"]))
add(C("moments", [("data", n(3, 4, 2))], dict(axes=(0, 2))))
add(C("moments", [("data", n(3, 4, 2))], dict(axes=(1,), keepdims=True), id="moments_keep"))
add(C("shape_array", [("data", n(3, 4, 2))], backward=False))
add(C("size_array", [("data", n(3, 4, 2))], backward=False))

# ---- elementwise unary (the domain of each input chosen so the function is finite)
UNARY_DOMAIN = {
    "arccos": u((3, 4), -0.9, 0.9), "arcsin": u((3, 4), -0.9, 0.9), "arctanh": u((3, 4), -0.9, 0.9),
    "erfinv": u((3, 4), -0.9, 0.9), "arccosh": u((3, 4), 1.1, 3.0), "log": p(3, 4), "log10": p(3, 4),
    "log2": p(3, 4), "log1p": p(3, 4), "sqrt": p(3, 4), "rsqrt": p(3, 4), "gamma": p(3, 4),
    "gammaln": p(3, 4), "reciprocal": p(3, 4), "rcbrt": p(3, 4), "cbrt": p(3, 4),
}
for op in ["negative", "abs", "sign", "round", "rint", "ceil", "floor", "trunc", "fix", "square",
           "sqrt", "rsqrt", "cbrt", "rcbrt", "exp", "log", "log10", "log2", "log1p", "expm1",
           "reciprocal", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
           "arcsinh", "arccosh", "arctanh", "degrees", "radians", "relu", "sigmoid", "softsign",
           "gamma", "gammaln", "erf", "erfinv", "logical_not", "zeros_like", "ones_like",
           "BlockGrad", "identity"]:
    add(C(op, [("data", UNARY_DOMAIN.get(op, n(3, 4)))]))
add(C("clip", [("data", n(3, 4))], dict(a_min=-0.5, a_max=0.7)))
add(C("Cast", [("data", n(3, 4))], dict(dtype="float64")))
add(C("Cast", [("data", u((3, 4), -5, 5))], dict(dtype="int32"), backward=False, id="Cast_int32"))

# ---- elementwise binary and scalar
for op in ["add", "sub", "mul", "div", "mod", "power", "maximum", "minimum", "hypot", "equal",
           "not_equal", "greater", "greater_equal", "lesser", "lesser_equal", "logical_and",
           "logical_or", "logical_xor", "plus", "minus"]:
    rhs = p(1, 2, 4) if op in ("div", "mod", "power") else n(1, 2, 4)
    lhs = p(3, 1, 4) if op == "power" else n(3, 1, 4)
    add(C(f"broadcast_{op}", [("lhs", lhs), ("rhs", rhs)]))
for op in ["add", "sub", "mul", "div"]:
    add(C(f"elemwise_{op}", [("lhs", n(3, 4)), ("rhs", p(3, 4))]))
add(C("broadcast_div", [("lhs", v([7, -7, 9], "int32")), ("rhs", v([2, 2, -4], "int32"))],
      backward=False, id="broadcast_div_int"))
add(C("broadcast_mod", [("lhs", v([7, -7, 9], "int32")), ("rhs", v([2, 2, -4], "int32"))],
      backward=False, id="broadcast_mod_int"))
for op in ["plus", "minus", "rminus", "mul", "div", "rdiv", "mod", "rmod", "power", "rpower", "maximum",
           "minimum", "hypot", "equal", "not_equal", "greater", "greater_equal", "lesser",
           "lesser_equal", "logical_and", "logical_or", "logical_xor"]:
    data = p(3, 4) if op in ("power", "rdiv", "rmod", "mod") else n(3, 4)
    add(C(f"_{op}_scalar", [("data", data)], dict(scalar=1.5)))
add(C("_div_scalar", [("data", v([7, -7, 9], "int32"))], dict(scalar=2), backward=False,
      id="_div_scalar_int"))
add(C("add_n", [("args0", n(3, 4)), ("args1", n(3, 4)), ("args2", n(3, 4))], dict(num_args=3)))

# ---- reductions
for op in ["sum", "mean", "prod", "max", "min", "nansum", "nanprod"]:
    add(C(op, [("data", n(3, 4, 2))]))
    add(C(op, [("data", n(3, 4, 2))], dict(axis=(0, 2), keepdims=True), id=f"{op}_axes_keep"))
    add(C(op, [("data", n(3, 4, 2))], dict(axis=1, exclude=True), id=f"{op}_exclude"))
add(C("norm", [("data", n(3, 4))]))
add(C("norm", [("data", n(3, 4))], dict(ord=1, axis=1), id="norm_l1_axis"))
add(C("norm", [("data", n(3, 4, 2))], dict(axis=(1, 2), keepdims=True), id="norm_axes_keep"))
for op in ["argmax", "argmin"]:
    add(C(op, [("data", n(3, 4))], dict(axis=1), backward=False))
    add(C(op, [("data", n(3, 4))], backward=False, id=f"{op}_all"))
add(C("argmax_channel", [("data", n(3, 4))], backward=False))

# ---- shape
add(C("Reshape", [("data", n(2, 3, 4))], dict(shape=(0, -1))))
add(C("Reshape", [("data", n(2, 3, 4))], dict(shape=(-3, -2)), id="Reshape_m3"))
add(C("Reshape", [("data", n(2, 3, 4))], dict(shape=(-4, 1, 2, -2)), id="Reshape_m4"))
add(C("Reshape", [("data", n(2, 3, 4))], dict(shape=(-1, 0), reverse=True), id="Reshape_reverse"))
add(C("reshape_like", [("lhs", n(2, 6)), ("rhs", n(3, 4))], nograd=["rhs"]))
add(C("Flatten", [("data", n(2, 3, 4))]))
add(C("transpose", [("data", n(2, 3, 4))], dict(axes=(1, 2, 0))))
add(C("transpose", [("data", n(2, 3, 4))], id="transpose_default"))
add(C("SwapAxis", [("data", n(2, 3, 4))], dict(dim1=0, dim2=2)))
add(C("expand_dims", [("data", n(2, 3))], dict(axis=1)))
add(C("squeeze", [("data", n(2, 1, 3, 1))]))
add(C("squeeze", [("data", n(2, 1, 3, 1))], dict(axis=1), id="squeeze_axis"))
add(C("Concat", [("data0", n(2, 3)), ("data1", n(2, 2))], dict(dim=1, num_args=2)))
add(C("stack", [("data0", n(2, 3)), ("data1", n(2, 3))], dict(axis=1, num_args=2)))
add(C("SliceChannel", [("data", n(2, 6))], dict(num_outputs=3, axis=1)))
add(C("SliceChannel", [("data", n(3, 2))], dict(num_outputs=3, axis=0, squeeze_axis=True),
      id="SliceChannel_squeeze"))
add(C("slice_axis", [("data", n(3, 5))], dict(axis=1, begin=1, end=-1)))
add(C("slice", [("data", n(4, 5))], dict(begin=(1, 0), end=(None, 4), step=(2, 1))))

# ---- more activations, normalizations, layout, indexing and linear algebra
add(C("hard_sigmoid", [("data", n(3, 4))], dict(alpha=0.3, beta=0.4)))
# MXNet's instance-mode backward on N-D (N > 2) data is not the softmax's gradient: forward only.
add(C("SoftmaxActivation", [("data", n(2, 3, 2))], backward=False))
add(C("SoftmaxActivation", [("data", n(3, 4))], id="SoftmaxActivation_2d"))
add(C("SoftmaxActivation", [("data", n(2, 3, 2))], dict(mode="channel"), id="SoftmaxActivation_channel"))
add(C("LRN", [("data", n(2, 5, 3, 3))], dict(nsize=3, alpha=0.01, beta=0.75, knorm=2.0)))
add(C("GroupNorm", [("data", n(2, 4, 3, 3)), ("gamma", u((2,), 0.5, 1.5)), ("beta", n(2))],
      dict(num_groups=2)))
add(C("slice_like", [("data", n(4, 5)), ("shape_like", n(2, 3))], nograd=["shape_like"]))
add(C("slice_like", [("data", n(4, 5)), ("shape_like", n(2, 3))], dict(axes=(1,)),
      nograd=["shape_like"], id="slice_like_axes"))
add(C("depth_to_space", [("data", n(1, 8, 2, 3))], dict(block_size=2)))
add(C("space_to_depth", [("data", n(1, 2, 4, 6))], dict(block_size=2)))
add(C("SequenceReverse", [("data", n(4, 2, 3)), ("sequence_length", v([2, 4]))],
      dict(use_sequence_length=True), nograd=["sequence_length"]))
add(C("batch_take", [("a", n(3, 4)), ("indices", v([0, 3, 1], "int32"))], backward=False))  # no FGradient
add(C("ravel_multi_index", [("data", v([[0, 1, 2], [3, 0, 1]]))], dict(shape=(3, 4)), backward=False))
add(C("unravel_index", [("data", v([3, 5, 11]))], dict(shape=(3, 4)), backward=False))
spd = v([[[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]], [[2.0, 0.3, 0.1], [0.3, 1.5, 0.4], [0.1, 0.4, 1.0]]])
tril = v([[[2.0, 0.0, 0.0], [0.5, 1.5, 0.0], [0.3, -0.2, 1.2]], [[1.2, 0.0, 0.0], [0.1, 0.9, 0.0], [-0.4, 0.6, 1.1]]])
add(C("linalg_gemm2", [("A", n(2, 3, 4)), ("B", n(2, 5, 4))], dict(transpose_b=True, alpha=0.5)))
add(C("linalg_gemm", [("A", n(2, 4, 3)), ("B", n(2, 4, 5)), ("C", n(2, 3, 5))],
      dict(transpose_a=True, alpha=2.0, beta=0.5)))
add(C("linalg_potrf", [("A", spd)]))
add(C("linalg_potri", [("A", tril)]))
add(C("linalg_inverse", [("A", spd)]))
add(C("linalg_det", [("A", spd)]))
add(C("linalg_slogdet", [("A", spd)]))
add(C("linalg_sumlogdiag", [("A", spd)]))
add(C("linalg_syrk", [("A", n(2, 3, 4))], dict(alpha=0.7)))
add(C("linalg_syrk", [("A", n(2, 3, 4))], dict(transpose=True), id="linalg_syrk_t"))
add(C("linalg_extractdiag", [("A", n(2, 3, 3))], dict(offset=1)))
add(C("linalg_makediag", [("A", n(2, 3))], dict(offset=-1)))
add(C("linalg_trsm", [("A", tril), ("B", n(2, 3, 4))], dict(alpha=1.5)))
add(C("linalg_trsm", [("A", tril), ("B", n(2, 4, 3))], dict(rightside=True, transpose=True),
      id="linalg_trsm_right_t"))
add(C("linalg_trmm", [("A", tril), ("B", n(2, 3, 4))], dict(transpose=True)))

# Operators whose weight shapes MXNet infers from the data shape (``param_shapes``): the
# generator records ``mx.sym.<op>(...).infer_shape(data=...)`` for their cases.
PARAM_OPS = ["FullyConnected", "Convolution", "Deconvolution", "BatchNorm", "Embedding",
             "LeakyReLU", "LayerNorm", "InstanceNorm", "GroupNorm"]

# ---- float16 (MXNet's CPU kernels accumulate float16 in float32 for some operators)
F16 = "float16"
# (MXNet's reference CPU kernels have no float16 FullyConnected or Convolution.)
add(C("softmax", [("data", n(3, 5, dtype=F16))], id="softmax_f16"))
add(C("Activation", [("data", n(3, 4, dtype=F16))], dict(act_type="sigmoid"), id="Activation_f16"))
add(C("sum", [("data", n(3, 40, dtype=F16))], dict(axis=1), id="sum_f16"))
add(C("SVMOutput", [("data", n(4, 5)), ("label", lab4)], dict(margin=0.8, regularization_coefficient=1.5),
      nograd=["label"]))
add(C("SVMOutput", [("data", n(4, 5)), ("label", lab4)], dict(use_linear=True), nograd=["label"],
      id="SVMOutput_linear"))
add(C("amp_cast", [("data", n(3, 4))], dict(dtype="float16")))
add(C("amp_cast", [("data", i((3,), 0, 5, "int32"))], dict(dtype="float16"), backward=False,
      id="amp_cast_int"))
add(C("amp_multicast", [("data0", n(3, dtype="float16")), ("data1", n(3)), ("data2", i((2,), 0, 3, "int32"))],
      dict(num_outputs=3), backward=False, mkldnn_error=True))
add(C("amp_multicast", [("data0", n(3, dtype="float16")), ("data1", n(3))],
      dict(num_outputs=2, cast_narrow=True), backward=False, id="amp_multicast_narrow",
      mkldnn_error=True))  # MKLDNN: "unknown type for MKLDNN :2" (float16)
add(C("all_finite", [("data", v([1.0, 2.0, 3.0]))], backward=False))
add(C("all_finite", [("data", v([1.0, float("inf"), 3.0]))], backward=False, id="all_finite_inf"))
add(C("multi_all_finite", [("data0", v([1.0])), ("data1", v([float("nan"), 1.0]))],
      dict(num_arrays=2), backward=False))
add(C("Crop", [("data0", n(1, 2, 6, 7))], dict(num_args=1, offset=(1, 2), h_w=(3, 4))))
add(C("Crop", [("data0", n(1, 2, 6, 7)), ("data1", n(1, 3, 4, 3))], dict(num_args=2, center_crop=True),
      nograd=["data1"], id="Crop_like_center"))
