#!/usr/bin/env python3
"""Tests of scripts/onnx-to-spec.py (ONNX ConvTranspose nodes -> tconv-tune specs).

    python3 tests/test_onnx_to_spec.py pure    # the conversion, on plain values: no onnx needed
    python3 tests/test_onnx_to_spec.py model   # a small model built with onnx.helper, end to end

`pure` runs everywhere (CI has no `onnx`: it is on the Python package index,
not in Debian). `model` needs the `onnx` package; without it it says so and
exits 77, which meson reports as SKIP (never as a pass). With TCONV_TUNE set
to the built tconv-tune it also tunes the specs it wrote into a fresh cache
and checks the keys. Standard library only besides onnx; exit 0 on success.
"""
import importlib.util
import io
import os
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "scripts", "onnx-to-spec.py")


def load_script():
    spec = importlib.util.spec_from_file_location("onnx_to_spec", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


m = load_script()

# The 2-D cases of onnx/backend/test/case/node/convtranspose.py (onnx 1.23.0;
# tests/onnx_vectors.h holds their data): x, w, attributes, y's shape.
NODE_TESTS = [
    ("convtranspose", [1, 1, 3, 3], [1, 2, 3, 3], {}, [1, 2, 5, 5]),
    ("output_shape", [1, 1, 3, 3], [1, 2, 3, 3], {"strides": [3, 2], "output_shape": [10, 8]}, [1, 2, 10, 8]),
    ("pad", [1, 1, 3, 3], [1, 2, 3, 3], {"strides": [3, 2], "output_padding": [1, 1]}, [1, 2, 10, 8]),
    ("kernel_shape", [1, 1, 3, 3], [1, 2, 3, 3], {"strides": [3, 2], "output_padding": [1, 1],
                                                  "output_shape": [10, 8], "kernel_shape": [3, 3]}, [1, 2, 10, 8]),
    ("pads", [1, 1, 3, 3], [1, 2, 3, 3], {"strides": [3, 2], "pads": [1, 2, 1, 2]}, [1, 2, 7, 3]),
    ("dilations", [1, 1, 3, 3], [1, 1, 2, 2], {"dilations": [2, 2]}, [1, 1, 5, 5]),
    ("autopad_same", [1, 1, 3, 3], [1, 2, 3, 3], {"strides": [2, 2], "auto_pad": "SAME_UPPER"}, [1, 2, 6, 6]),
    ("group_2", [1, 2, 3, 3], [2, 1, 3, 3], {"group": 2}, [1, 2, 5, 5]),
    ("group_2_image_3", [3, 2, 3, 3], [2, 1, 3, 3], {"group": 2}, [3, 2, 5, 5]),
]


def fields(spec):
    return dict(f.split("=", 1) for f in spec.split())


def out_size(spec):
    """(OH, OW) of a spec as tconv-tune plans it (tconv_crop_onnx_pads)."""
    f = fields(spec)
    pair = lambda v: [int(v)] * 2 if "x" not in v else [int(p) for p in v.split("x")]
    k, s, d = pair(f["k"]), pair(f.get("s", "1")), pair(f.get("d", "1"))
    pads = [int(v) for v in f.get("pads", "0,0,0,0").split(",")]
    op = pair(f.get("op", "0"))
    hw = [int(f["h"]), int(f["w"])]
    return tuple((hw[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - pads[i] - (pads[i + 2] - op[i])
                 for i in range(2))


def test_node_tests_give_onnx_output_sizes():
    for name, x, w, attrs, y in NODE_TESTS:
        spec = m.node_spec(attrs, x, w)
        f = fields(spec)
        assert int(f["c"]) == x[1] and int(f["f"]) == y[1] and int(f["n"]) == x[0], (name, spec)
        assert out_size(spec) == tuple(y[2:]), (name, spec, out_size(spec), y)
        assert f["layout"] == "nchw" and f["weights"] == "iohw" and f["dtype"] == "f32", spec


def test_spec_text():
    assert m.node_spec({"strides": [2, 2], "pads": [1, 1, 1, 1]}, [1, 512, 4, 4], [512, 256, 4, 4]) == \
        "c=512 f=256 k=4 s=2 pads=1,1,1,1 h=4 w=4 n=1 layout=nchw weights=iohw dtype=f32"
    # Symbolic batch -> batch; groups, dilation, rectangular kernel and stride, f64.
    spec = m.node_spec({"group": 4, "dilations": [2, 1], "strides": [3, 1], "output_padding": [1, 0]},
                       [None, 8, 5, 7], [8, 2, 3, 5], elem_type=11, batch=16)
    assert spec == ("c=8 f=8 k=3x5 s=3x1 d=2x1 g=4 pads=0,0,0,0 op=1x0 h=5 w=7 n=16 layout=nchw "
                    "weights=iohw dtype=f64"), spec
    spec = m.node_spec({}, [1, 4, 3, 3], [4, 4, 2, 2], act="leaky_relu", alpha=0.2)
    assert spec.endswith("dtype=f32 act=leaky_relu alpha=0.2") and "pads" not in spec, spec


def test_auto_pad_and_output_shape_crops_match_tconv():
    # SAME_UPPER / SAME_LOWER put the larger half of k_eff - stride + op at the
    # end / beginning; k < stride: 0 at the beginning, the rest (negative) at the end.
    assert m.crops({"auto_pad": "SAME_UPPER"}, [4, 4], [4, 4], [2, 2], [1, 1]) == [1, 1, 1, 1]
    assert m.crops({"auto_pad": "SAME_UPPER"}, [4, 4], [5, 5], [2, 2], [1, 1]) == [1, 2, 1, 2]
    assert m.crops({"auto_pad": "SAME_LOWER"}, [4, 4], [5, 5], [2, 2], [1, 1]) == [2, 1, 2, 1]
    assert m.crops({"auto_pad": "SAME_UPPER"}, [4, 4], [1, 1], [2, 2], [1, 1]) == [0, -1, 0, -1]
    assert m.crops({"auto_pad": "VALID", "output_padding": [1, 0]}, [4, 4], [3, 3], [2, 2], [1, 1]) == \
        [0, -1, 0, 0]
    # output_shape: P = full + op - O split P/2 first (SAME_UPPER: the larger half first);
    # an output larger than the uncropped one gets its extra positions at the end.
    assert m.crops({"output_shape": [8, 9], "strides": [2, 2]}, [4, 4], [3, 3], [2, 2], [1, 1]) == \
        [0, 1, 0, 0]
    assert m.crops({"output_shape": [1, 1, 12, 12]}, [4, 4], [3, 3], [2, 2], [1, 1]) == [0, -3, 0, -3]
    assert m.crops({"output_shape": [6, 6], "auto_pad": "SAME_UPPER"}, [4, 4], [3, 3], [2, 2], [1, 1]) == \
        [2, 1, 2, 1]
    # Every crop survives the trip through pads/op (tconv_crop_onnx_pads).
    for c in ([1, 1, 1, 1], [0, -3, 2, -1], [3, 0, 0, 5]):
        pads, op = m.pads_and_op(c)
        assert min(pads + op) >= 0 and [pads[0], pads[2] - op[0], pads[1], pads[3] - op[1]] == c, c


def test_one_d_is_lifted_to_two_d():
    spec = m.node_spec({"strides": [4], "pads": [1, 2]}, [1, 8, 10], [8, 2, 8])
    assert spec == "c=8 f=2 k=1x8 s=1x4 pads=0,1,0,2 h=1 w=10 n=1 layout=nchw weights=iohw dtype=f32", spec


def expect_unsupported(want, *args, **kw):
    try:
        spec = m.node_spec(*args, **kw)
    except m.Unsupported as e:
        assert want in str(e), (want, str(e))
        return
    raise AssertionError(f"converted, want Unsupported({want!r}): {spec}")


def test_unsupported_nodes_say_why():
    expect_unsupported("float16", {}, [1, 4, 3, 3], [4, 4, 3, 3], elem_type=10)
    expect_unsupported("rank 5", {}, [1, 4, 3, 3, 3], [4, 4, 3, 3, 3])
    expect_unsupported("input shape is unknown", {}, None, [4, 4, 3, 3])
    expect_unsupported("weights shape is unknown", {}, [1, 4, 3, 3], None)
    expect_unsupported("H is symbolic", {}, [1, 4, None, 3], [4, 4, 3, 3])
    expect_unsupported("kernel_shape [2, 2] differs", {"kernel_shape": [2, 2]}, [1, 4, 3, 3], [4, 4, 3, 3])
    expect_unsupported("4 input channels, the input 8", {}, [1, 8, 3, 3], [4, 4, 3, 3])
    expect_unsupported("auto_pad 'SAME'", {"auto_pad": "SAME"}, [1, 4, 3, 3], [4, 4, 3, 3])
    expect_unsupported("leave no output", {"pads": [3, 0, 3, 0]}, [1, 4, 1, 3], [4, 4, 3, 3])
    expect_unsupported("pads [1, 1] has 2 values", {"pads": [1, 1]}, [1, 4, 3, 3], [4, 4, 3, 3])


def test_fused_activations():
    assert m.fused_activation("Relu", {}) == ("relu", None)
    assert m.fused_activation("LeakyRelu", {}) == ("leaky_relu", 0.01)
    assert m.fused_activation("LeakyRelu", {"alpha": 0.2}) == ("leaky_relu", 0.2)
    assert m.fused_activation("Elu", {}) == ("elu", 1.0)
    assert m.fused_activation("Gelu", {"approximate": "tanh"}) is None
    assert m.fused_activation("Add", {}) is None


# --- with onnx ----------------------------------------------------------------

def build_model(onnx, path):
    """X [N, 8, 6, 6] -> three ConvTranspose nodes (one followed by a LeakyRelu)
    and a 3-D one on a second input, which the script must refuse."""
    h, TP = onnx.helper, onnx.TensorProto
    import random
    rnd = random.Random(1)

    def weights(name, dims):
        n = 1
        for d in dims:
            n *= d
        return h.make_tensor(name, TP.FLOAT, dims, [rnd.uniform(-1, 1) for _ in range(n)])

    nodes = [
        h.make_node("ConvTranspose", ["X", "W1"], ["Y1"], name="up1", strides=[2, 2], pads=[1, 1, 0, 0],
                    output_padding=[1, 1]),
        h.make_node("LeakyRelu", ["Y1"], ["A1"], alpha=0.2),
        h.make_node("ConvTranspose", ["A1", "W2"], ["Y2"], name="up2", strides=[2, 2], group=2,
                    auto_pad="SAME_UPPER"),
        h.make_node("ConvTranspose", ["Y2", "W3"], ["Y3"], name="up3", dilations=[2, 2],
                    output_shape=[26, 27]),
        h.make_node("ConvTranspose", ["Z", "W4"], ["Y4"], name="vol"),
    ]
    graph = h.make_graph(
        nodes, "tiny",
        [h.make_tensor_value_info("X", TP.FLOAT, ["N", 8, 6, 6]),
         h.make_tensor_value_info("Z", TP.FLOAT, [1, 2, 2, 2, 2])],
        [h.make_tensor_value_info("Y3", TP.FLOAT, ["N", 2, 26, 27]),
         h.make_tensor_value_info("Y4", TP.FLOAT, [1, 2, 3, 3, 3])],
        [weights("W1", [8, 4, 3, 3]), weights("W2", [4, 2, 4, 4]), weights("W3", [4, 2, 3, 3]),
         weights("W4", [2, 2, 2, 2, 2])])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return onnx.shape_inference.infer_shapes(model)


def run_model_test(onnx, tmp):
    path = os.path.join(tmp, "tiny.onnx")
    inferred = build_model(onnx, path)
    out, err = io.StringIO(), io.StringIO()
    converted, skipped = m.convert(path, batch=2, fuse=True, out=out, err=err)
    text = out.getvalue()
    print(text, end="")
    assert (converted, skipped) == (3, 1), (converted, skipped, text, err.getvalue())
    assert "# skipped vol: input rank 5" in text and "ConvTranspose vol: not converted" in err.getvalue(), text
    specs = {line.split("# ")[1].split()[0]: line.split("  #")[0] for line in text.splitlines()
             if line and not line.startswith("#")}
    assert specs["up1"] == ("c=8 f=4 k=3 s=2 pads=1,1,0,0 op=1 h=6 w=6 n=2 layout=nchw weights=iohw dtype=f32 "
                            "act=leaky_relu alpha=0.2"), specs["up1"]
    # The output sizes shape inference gives are the ones the specs make.
    shapes = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim] for vi in inferred.graph.value_info}
    shapes.update({vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim] for vi in inferred.graph.output})
    for node, y in (("up1", "Y1"), ("up2", "Y2"), ("up3", "Y3")):
        assert out_size(specs[node]) == tuple(shapes[y][2:]), (node, specs[node], shapes[y])
    assert "g=2" in specs["up2"] and "d=2" in specs["up3"], specs
    # Without --fuse-activations: no act field.
    out2 = io.StringIO()
    m.convert(path, batch=2, out=out2, err=io.StringIO())
    assert "act=" not in out2.getvalue(), out2.getvalue()

    tune = os.environ.get("TCONV_TUNE")
    if not tune:
        print("test_onnx_to_spec.py: TCONV_TUNE is not set: the specs were not tuned")
        return
    layers = os.path.join(tmp, "layers.txt")
    with open(layers, "w") as f:
        f.write(text)
    cache = os.path.join(tmp, "tuning.txt")
    env = dict(os.environ, TCONV_CACHE=cache)
    r = subprocess.run([tune, "--file", layers, "--budget", "0.5", "--threads", "1"], env=env,
                       capture_output=True, text=True)
    print(r.stdout, r.stderr, sep="")
    assert r.returncode == 0, r.returncode
    with open(cache) as f:
        entries = f.read()
    assert "fwd f32 NCHW/W_IOHW c8 f4 g1 k3x3 s2x2 d1x1 phase1,1 act2 h~6 w~6 n~2 " in entries, entries
    assert "fwd f32 NCHW/W_IOHW c4 f4 g2 k4x4 s2x2 d1x1 phase1,1 act0 " in entries, entries
    assert "fwd f32 NCHW/W_IOHW c4 f2 g1 k3x3 s1x1 d2x2 " in entries, entries
    assert "fwd f64" not in entries, entries


def main(argv):
    mode = argv[1] if len(argv) > 1 else "pure"
    if mode == "pure":
        tests = [v for k, v in sorted(globals().items()) if k.startswith("test_")]
        failed = 0
        for t in tests:
            try:
                t()
                print(f"ok   {t.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {t.__name__}")
                traceback.print_exc(file=sys.stdout)
        print(f"test_onnx_to_spec.py pure: {len(tests) - failed} passed, {failed} failed")
        return 1 if failed else 0
    if mode == "model":
        try:
            import onnx
            import onnx.shape_inference  # noqa: F401
        except ImportError as e:
            print(f"test_onnx_to_spec.py model: NOT RUN: the Python package 'onnx' is missing ({e}); "
                  f"{sys.executable} -m pip install onnx (e.g. in a venv) runs it. Exit 77: meson reports SKIP.")
            return 77
        with tempfile.TemporaryDirectory(prefix="tconv-onnx-spec-") as tmp:
            run_model_test(onnx, tmp)
        print(f"test_onnx_to_spec.py model: passed (onnx {onnx.__version__})")
        return 0
    print(f"usage: {argv[0]} pure|model", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
