#!/usr/bin/env python3
"""Write a tconv-tune layer spec for every ConvTranspose node of an ONNX model.

    python3 scripts/onnx-to-spec.py [--batch N] [--input NAME=SHAPE]... [--fuse-activations]
                                    MODEL.onnx > layers.txt
    tconv-tune --file layers.txt

One line per node: `c f k s d g pads op h w n layout=nchw weights=iohw
dtype`, the fields of tconv-tune's SPEC (README, "tconv-tune"), followed by a
`#` comment naming the node. ONNX holds data as NCHW and ConvTranspose
weights as [C, F/group, kH, kW] (tconv's IOHW), so those are the layouts a
plan made from the model's tensors has. The crops are the ones tconv's ONNX
helpers compute (tconv_crop_onnx_pads, _auto_pad, _output_shape: the
rules of onnxruntime), written as ONNX `pads=T,L,B,R` and `op=OHxOW`, which
tconv-tune turns back into the same crops.

Input sizes come from onnx.shape_inference. A symbolic batch takes --batch
(default 1); another symbolic size of a graph input can be fixed with
--input NAME=1x3x256x256. With --fuse-activations a node whose output feeds
only a Relu, LeakyRelu, Elu, Sigmoid, Tanh or Gelu (exact form) gets that
activation (act=, alpha=), as a runtime that fuses it would plan it.

A node it cannot convert (a kernel that is not 1-D or 2-D, a size shape
inference could not find, a dtype tconv does not run) becomes a `# skipped`
line saying why, and the same reason goes to stderr. Exit status: 0 when at
least one node was converted; 1 when none was, or the model cannot be read;
2 for bad arguments (an --input naming no input of the model too) or a
missing `onnx` package (Debian python3-onnx, or pip install onnx).

The conversion itself (node_spec and the functions it calls) takes plain
Python values, so it runs, and is tested, without the onnx package
(tests/test_onnx_to_spec.py).
"""
import argparse
import sys

# ONNX TensorProto element types and tconv's dtypes.
ELEM_TYPES = {1: "f32", 11: "f64"}
ELEM_NAMES = {2: "uint8", 3: "int8", 5: "int16", 6: "int32", 7: "int64", 10: "float16",
              16: "bfloat16"}
# ONNX activation ops a runtime could fuse -> (tconv act, default alpha or None).
ACTIVATIONS = {"Relu": ("relu", None), "LeakyRelu": ("leaky_relu", 0.01), "Elu": ("elu", 1.0),
               "Sigmoid": ("sigmoid", None), "Tanh": ("tanh", None), "Gelu": ("gelu", None)}


def _usage_error(msg):
    sys.stderr.write(f"onnx-to-spec.py: {msg}\n")
    sys.exit(2)


class Unsupported(Exception):
    """A node tconv-tune cannot be given, with the reason."""


def _ints(attrs, name, n, default):
    v = attrs.get(name)
    if v is None:
        return list(default)
    v = [int(x) for x in v]
    if len(v) != n:
        raise Unsupported(f"{name} {v} has {len(v)} values, expected {n}")
    return v


def _pair(vals):
    """'4' or '3x5'."""
    return str(vals[0]) if vals[0] == vals[1] else f"{vals[0]}x{vals[1]}"


def crops(attrs, in_hw, k_hw, stride, dil):
    """The crops [top, bottom, left, right] tconv's ONNX helpers make of the
    node's pads / output_padding / auto_pad / output_shape, over 2-D sizes."""
    op = _ints(attrs, "output_padding", 2, (0, 0))
    if any(v < 0 for v in op):
        raise Unsupported(f"output_padding {op} has a negative value")
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
        raise Unsupported(f"auto_pad {auto_pad!r} is not NOTSET, SAME_UPPER, SAME_LOWER or VALID")
    full = [(in_hw[i] - 1) * stride[i] + (k_hw[i] - 1) * dil[i] + 1 for i in range(2)]
    c = [0, 0, 0, 0]
    if attrs.get("output_shape") is not None:
        shape = [int(x) for x in attrs["output_shape"]]
        if len(shape) == 4:  # N, C, H, W: the spatial part
            shape = shape[2:]
        if len(shape) != 2 or min(shape) < 1:
            raise Unsupported(f"output_shape {shape} is not two sizes >= 1")
        for i in range(2):  # tconv_crop_onnx_output_shape: onnxruntime's rule
            total = max(0, full[i] + op[i] - shape[i])
            begin = total - total // 2 if auto_pad == "SAME_UPPER" else total // 2
            c[2 * i], c[2 * i + 1] = begin, full[i] - begin - shape[i]
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        for i in range(2):  # tconv_crop_onnx_auto_pad
            begin = end = 0
            if auto_pad != "VALID":
                t = (k_hw[i] - 1) * dil[i] + 1 - stride[i] + op[i]
                if t >= 0:
                    small, large = t // 2, t - t // 2
                    begin, end = (small, large) if auto_pad == "SAME_UPPER" else (large, small)
                else:
                    end = t
            c[2 * i], c[2 * i + 1] = begin, end - op[i]
    else:
        pads = _ints(attrs, "pads", 4, (0, 0, 0, 0))  # [top, left, bottom, right]
        if any(v < 0 for v in pads):
            raise Unsupported(f"pads {pads} has a negative value")
        c = [pads[0], pads[2] - op[0], pads[1], pads[3] - op[1]]
    for i in range(2):
        out = full[i] - c[2 * i] - c[2 * i + 1]
        if out < 1 or c[2 * i] < 0:
            raise Unsupported(f"the crops {c} leave no output (uncropped size {full})")
    return c


def pads_and_op(c):
    """ONNX pads [T, L, B, R] and output_padding [h, w] that tconv_crop_onnx_pads
    turns back into the crops c = [top, bottom, left, right]."""
    pads = [c[0], c[2], max(c[1], 0), max(c[3], 0)]
    return pads, [max(-c[1], 0), max(-c[3], 0)]


def node_spec(attrs, x_shape, w_shape, elem_type=1, batch=1, act=None, alpha=None):
    """The tconv-tune SPEC of one ConvTranspose node.

    attrs: the node's attributes as plain values (lists of ints, auto_pad a
    str); x_shape: the input's dims [N, C, (H,) W], an int or None (unknown)
    each; w_shape: the weights' [C, F/group, (kH,) kW]; elem_type: ONNX's
    element type of x; batch: N when x_shape's is unknown; act, alpha: a
    fused activation. Raises Unsupported with the reason."""
    if elem_type not in ELEM_TYPES:
        name = ELEM_NAMES.get(elem_type, f"element type {elem_type}")
        raise Unsupported(f"its data is {name}: tconv runs float (f32) and double (f64)")
    if w_shape is None or x_shape is None:
        raise Unsupported(f"the {'weights' if w_shape is None else 'input'} shape is unknown "
                          "(shape inference found none)")
    rank = len(x_shape)
    if rank not in (3, 4) or len(w_shape) != rank:
        raise Unsupported(f"input rank {rank}, weight rank {len(w_shape)}: tconv runs 2-D "
                          "(and 1-D as 2-D) transposed convolutions")
    one_d = rank == 3
    if one_d:  # 1-D as 2-D with a height of 1
        x_shape, w_shape = [x_shape[0], x_shape[1], 1, x_shape[2]], [w_shape[0], w_shape[1], 1, w_shape[2]]
        lift = {"strides": 1, "dilations": 1, "kernel_shape": 1, "output_padding": 0}
        attrs = dict(attrs)
        for name, unit in lift.items():
            if attrs.get(name) is not None:
                attrs[name] = [unit] + list(attrs[name])
        if attrs.get("pads") is not None:
            p = list(attrs["pads"])
            attrs["pads"] = [0, p[0], 0, p[1]] if len(p) == 2 else p
        if attrs.get("output_shape") is not None:
            attrs["output_shape"] = [1] + list(attrs["output_shape"])[-1:]
    n, c, h, w = x_shape
    if n is None:
        n = batch
    missing = [name for name, v in (("C", c), ("H", h), ("W", w)) if v is None]
    if missing:
        raise Unsupported(f"the input's {', '.join(missing)} is symbolic (fix it with --input "
                          "NAME=NxCxHxW)")
    if any(v is None for v in w_shape):
        raise Unsupported(f"the weights' shape {w_shape} is not fully known")
    group = int(attrs.get("group", 1))
    if group < 1:
        raise Unsupported(f"group {group} is below 1")
    if w_shape[0] != c:
        raise Unsupported(f"the weights have {w_shape[0]} input channels, the input {c}")
    f = w_shape[1] * group
    k = _ints(attrs, "kernel_shape", 2, w_shape[2:])
    if k != list(w_shape[2:]):
        raise Unsupported(f"kernel_shape {k} differs from the weights' {list(w_shape[2:])}")
    s = _ints(attrs, "strides", 2, (1, 1))
    d = _ints(attrs, "dilations", 2, (1, 1))
    if min(s + d) < 1:
        raise Unsupported(f"strides {s} or dilations {d} below 1")
    pads, op = pads_and_op(crops(attrs, [h, w], k, s, d))
    fields = [f"c={c}", f"f={f}", f"k={_pair(k)}", f"s={_pair(s)}"]
    fields += [f"d={_pair(d)}"] if d != [1, 1] else []
    fields += [f"g={group}"] if group != 1 else []
    if any(pads + op):  # pads= makes op ONNX's output_padding (no PyTorch bound on it)
        fields.append(f"pads={','.join(map(str, pads))}")
        fields += [f"op={_pair(op)}"] if any(op) else []
    fields += [f"h={h}", f"w={w}", f"n={n}", "layout=nchw", "weights=iohw",
               f"dtype={ELEM_TYPES[elem_type]}"]
    if act:
        fields.append(f"act={act}")
        if alpha is not None:
            fields.append(f"alpha={alpha:g}")
    return " ".join(fields)


def fused_activation(consumer_op, consumer_attrs):
    """(act, alpha) of a sole consumer tconv can fuse, or None."""
    if consumer_op not in ACTIVATIONS:
        return None
    if consumer_op == "Gelu" and consumer_attrs.get("approximate", "none") != "none":
        return None  # tconv's GELU is the exact (erf) form
    act, default = ACTIVATIONS[consumer_op]
    return act, (float(consumer_attrs.get("alpha", default)) if default is not None else None)


# --- the onnx part ------------------------------------------------------------

def _load_onnx():
    try:
        import onnx
        import onnx.shape_inference  # noqa: F401
    except ImportError as e:
        sys.stderr.write(f"onnx-to-spec.py: the Python package 'onnx' is missing ({e}).\n"
                         "Install Debian's python3-onnx (and run /usr/bin/python3), or from the\n"
                         "Python package index, e.g.\n"
                         "  python3 -m venv --system-site-packages ~/venv-onnx && "
                         "~/venv-onnx/bin/pip install onnx\n"
                         "  ~/venv-onnx/bin/python scripts/onnx-to-spec.py MODEL.onnx\n")
        sys.exit(2)
    return onnx


def _attrs(onnx, node):
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else list(v) if isinstance(v, (list, tuple)) else v
    return out


def _dims(type_proto):
    """[int or None] of a tensor type, or None when it has no shape."""
    t = type_proto.tensor_type
    if not t.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in t.shape.dim]


def _parse_inputs(items):
    fixed = {}
    for item in items:
        name, eq, shape = item.rpartition("=")
        try:
            dims = [int(v) for v in shape.split("x")]
        except ValueError:
            dims = []
        if not eq or not name or not dims or min(dims) < 1:
            _usage_error(f"--input {item!r}: expected NAME=1x3x256x256")
        fixed[name] = dims
    return fixed


def convert(path, batch=1, inputs=None, fuse=False, out=sys.stdout, err=sys.stderr):
    """Writes the specs of path's ConvTranspose nodes; returns (converted, skipped)."""
    onnx = _load_onnx()
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as e:  # onnx raises DecodeError, OSError, ...
        raise SystemExit(f"onnx-to-spec.py: {path}: cannot read it as an ONNX model: {e}") from None
    graph = model.graph
    for name, dims in (inputs or {}).items():
        gi = next((i for i in graph.input if i.name == name), None)
        if gi is None:
            _usage_error(f"--input {name}: the model has no input of that name "
                         f"(inputs: {', '.join(i.name for i in graph.input)})")
        shape = gi.type.tensor_type.shape
        if len(shape.dim) != len(dims):
            _usage_error(f"--input {name}: {len(dims)} sizes for a rank-{len(shape.dim)} input")
        for d, v in zip(shape.dim, dims):
            d.Clear()
            d.dim_value = v
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception as e:
        err.write(f"onnx-to-spec.py: warning: shape inference failed ({e}); using the shapes the "
                  "model states\n")
        inferred = model
    g = inferred.graph
    types = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        types[vi.name] = (_dims(vi.type), vi.type.tensor_type.elem_type)
    for t in g.initializer:
        types[t.name] = (list(t.dims), t.data_type)
    consumers = {}
    for node in g.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    graph_outputs = {o.name for o in g.output}
    converted = skipped = 0
    print(f"# tconv-tune --file: the ConvTranspose nodes of {path}", file=out)
    for idx, node in enumerate(g.node):
        if node.op_type != "ConvTranspose" or node.domain not in ("", "ai.onnx"):
            continue
        label = node.name or f"node {idx}"
        try:
            x_shape, elem = types.get(node.input[0], (None, 1))
            w_shape = types.get(node.input[1], (None, None))[0] if len(node.input) > 1 else None
            act = alpha = None
            users = consumers.get(node.output[0], [])
            if fuse and len(users) == 1 and node.output[0] not in graph_outputs:
                fused = fused_activation(users[0].op_type, _attrs(onnx, users[0]))
                if fused:
                    act, alpha = fused
            spec = node_spec(_attrs(onnx, node), x_shape, w_shape, elem, batch, act, alpha)
        except Unsupported as e:
            skipped += 1
            print(f"# skipped {label}: {e}", file=out)
            err.write(f"onnx-to-spec.py: {path}: ConvTranspose {label}: not converted: {e}\n")
            continue
        converted += 1
        print(f"{spec}  # {label}" + (f" + {users[0].op_type}" if act else ""), file=out)
    err.write(f"onnx-to-spec.py: {path}: {converted} ConvTranspose node(s) converted"
              + (f", {skipped} not (listed above)" if skipped else "") + "\n")
    return converted, skipped


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Then: tconv-tune --file layers.txt (README, \"tconv-tune\").")
    ap.add_argument("model", metavar="MODEL.onnx")
    ap.add_argument("--batch", type=int, default=1, help="N where the model's batch is symbolic (default 1)")
    ap.add_argument("--input", action="append", default=[], metavar="NAME=SHAPE",
                    help="fix a graph input's shape, e.g. input=1x3x256x256 (repeatable)")
    ap.add_argument("--fuse-activations", action="store_true",
                    help="give a node the activation of its sole consumer (Relu, LeakyRelu, Elu, "
                         "Sigmoid, Tanh, Gelu)")
    args = ap.parse_args(argv)
    if args.batch < 1:
        ap.error(f"--batch {args.batch}: expected a whole number >= 1")
    inputs = _parse_inputs(args.input)
    converted, _ = convert(args.model, args.batch, inputs, args.fuse_activations)
    return 0 if converted else 1


if __name__ == "__main__":
    sys.exit(main())
