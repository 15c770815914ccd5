#!/usr/bin/env python3
"""Generate tests/onnx_vectors.h from the ONNX ConvTranspose node-test vectors.

Usage:
    python3 tests/gen_onnx_vectors.py ../shared/testdata/onnx_convtranspose_2d.json \\
        tests/onnx_vectors.h

The JSON file holds the 2-D cases of onnx/backend/test/case/node/convtranspose.py
(onnx 1.23.0): X, W and the literal expected Y as nested lists, plus the node's
attributes. The header keeps the RAW ONNX attributes only (with a presence flag
for each); the test maps them to crops through tconv's own ONNX helpers, so
the JSON's "derived_common_form" is deliberately not copied.

Python 3 standard library only. The output depends only on the JSON contents,
so regenerating an unchanged file gives a byte-identical header.
"""

import json
import math
import re
import sys

ONNX_VERSION = "onnx 1.23.0"
REGEN_COMMAND = ("python3 tests/gen_onnx_vectors.py "
                 "../shared/testdata/onnx_convtranspose_2d.json tests/onnx_vectors.h")

AUTO_PAD = {
    "NOTSET": "ONNX_AUTO_PAD_NOTSET",
    "SAME_UPPER": "ONNX_AUTO_PAD_SAME_UPPER",
    "SAME_LOWER": "ONNX_AUTO_PAD_SAME_LOWER",
    "VALID": "ONNX_AUTO_PAD_VALID",
}

# attribute name -> number of integers (None: a scalar)
INT_ATTRS = {
    "strides": 2,
    "pads": 4,
    "output_padding": 2,
    "output_shape": 2,
    "dilations": 2,
    "group": None,
    "kernel_shape": 2,
}
KNOWN_ATTRS = set(INT_ATTRS) | {"auto_pad"}


def fail(msg):
    sys.stderr.write("gen_onnx_vectors.py: error: %s\n" % msg)
    sys.exit(1)


def flatten(v):
    if isinstance(v, list):
        out = []
        for e in v:
            out.extend(flatten(e))
        return out
    return [v]


def shape_of(v):
    """Shape of a rectangular nested list (checked)."""
    if not isinstance(v, list):
        return []
    if not v:
        return [0]
    inner = [shape_of(e) for e in v]
    if any(s != inner[0] for s in inner):
        fail("ragged nested list")
    return [len(v)] + inner[0]


def fmt_value(x):
    """Integers print as integers; anything else as repr-exact %.17g."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        fail("non-numeric tensor value %r" % (x,))
    x = float(x)
    if not math.isfinite(x):
        fail("non-finite tensor value %r" % (x,))
    if x == 0.0 and math.copysign(1.0, x) < 0:
        return "-0.0"
    if x.is_integer() and abs(x) < 2.0 ** 53:
        return "%d" % int(x)
    s = "%.17g" % x
    if float(s) != x:
        fail("value %r does not round-trip" % (x,))
    return s


def c_ident(name):
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        fail("case name %r is not a C identifier" % (name,))
    return name


def c_int_list(vals):
    return "{" + ", ".join("%d" % v for v in vals) + "}"


def emit_array(out, cname, values, shape):
    """One line per innermost row, so the array reads like the tensor."""
    row = shape[-1] if shape and shape[-1] > 0 else max(1, len(values))
    out.append("static const double %s[%d] = {" % (cname, len(values)))
    for i in range(0, len(values), row):
        out.append("    " + ", ".join(fmt_value(v) for v in values[i:i + row]) + ",")
    out.append("};")


def tensor(case, key):
    name = case["name"]
    if key not in case or key + "_shape" not in case:
        fail("%s: missing %s or %s_shape" % (name, key, key))
    shape = case[key + "_shape"]
    if not (isinstance(shape, list) and len(shape) == 4
            and all(isinstance(d, int) and d > 0 for d in shape)):
        fail("%s: %s_shape %r is not 4 positive integers" % (name, key, shape))
    if shape_of(case[key]) != shape:
        fail("%s: %s has shape %r, %s_shape says %r"
             % (name, key, shape_of(case[key]), key, shape))
    values = flatten(case[key])
    if len(values) != shape[0] * shape[1] * shape[2] * shape[3]:
        fail("%s: %s has %d values for shape %r" % (name, key, len(values), shape))
    return shape, values


def attrs_of(case):
    name = case["name"]
    attrs = case.get("attrs", {})
    unknown = set(attrs) - KNOWN_ATTRS
    if unknown:
        fail("%s: unknown attribute(s) %s" % (name, ", ".join(sorted(unknown))))
    res = {}
    for key, n in INT_ATTRS.items():
        if key not in attrs:
            continue
        v = attrs[key]
        if n is None:
            ok = isinstance(v, int) and not isinstance(v, bool)
        else:
            ok = (isinstance(v, list) and len(v) == n
                  and all(isinstance(e, int) and not isinstance(e, bool) for e in v))
        if not ok:
            fail("%s: attribute %s = %r is not %s" % (
                name, key, v, "an integer" if n is None else "%d integers" % n))
        res[key] = v
    if "auto_pad" in attrs:
        if attrs["auto_pad"] not in AUTO_PAD:
            fail("%s: auto_pad %r unknown" % (name, attrs["auto_pad"]))
        res["auto_pad"] = attrs["auto_pad"]
    return res


def emit_case_entry(out, case, ident, xs, ws, ys, attrs):
    """Designated initializers; an absent attribute is left zero (has_* = 0)."""
    out.append("    {")
    out.append('        .name = "%s",' % case["name"])
    for key in ("x", "w", "y"):
        shape = {"x": xs, "w": ws, "y": ys}[key]
        out.append("        .%s_shape = %s, .%s = onnx_%s_%s,"
                   % (key, c_int_list(shape), key, ident, key))
    for key in ("strides", "pads", "output_padding", "output_shape", "dilations", "group",
                "kernel_shape"):
        if key in attrs:
            v = attrs[key]
            val = c_int_list(v) if isinstance(v, list) else "%d" % v
            out.append("        .has_%s = 1, .%s = %s," % (key, key, val))
    if "auto_pad" in attrs:
        out.append("        .has_auto_pad = 1, .auto_pad = %s," % AUTO_PAD[attrs["auto_pad"]])
    out.append("    },")


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: %s onnx_convtranspose_2d.json onnx_vectors.h\n" % argv[0])
        return 2
    with open(argv[1], "r", encoding="utf-8") as f:
        cases = json.load(f)
    if not isinstance(cases, list) or not cases:
        fail("expected a non-empty JSON list of cases")

    names = [c.get("name") for c in cases]
    if len(set(names)) != len(names):
        fail("duplicate case names")

    out = []
    out.append("/* Generated by tests/gen_onnx_vectors.py from onnx_convtranspose_2d.json "
               "(ONNX node tests, %s); do not edit." % ONNX_VERSION)
    out.append(" * Regenerate with:")
    out.append(" *   " + REGEN_COMMAND)
    out.append(" *")
    out.append(" * The 2-D cases of onnx/backend/test/case/node/convtranspose.py: X, W and")
    out.append(" * the expected Y (written literally in that file), flattened row-major")
    out.append(" * (X: N x C x H x W, W: C x M/group x kH x kW, Y: N x M x H_out x W_out),")
    out.append(" * and the node's raw attributes. An attribute whose has_* flag is 0 was")
    out.append(" * absent from the node; its value field is then 0 and means nothing. */")
    out.append("#ifndef TCONV_TESTS_ONNX_VECTORS_H")
    out.append("#define TCONV_TESTS_ONNX_VECTORS_H")
    out.append("")
    out.append("#include <stdint.h>")
    out.append("")
    out.append("/* ONNX ConvTranspose auto_pad (the attribute's string values). */")
    out.append("typedef enum onnx_auto_pad {")
    out.append("    ONNX_AUTO_PAD_NOTSET = 0,")
    out.append("    ONNX_AUTO_PAD_SAME_UPPER = 1,")
    out.append("    ONNX_AUTO_PAD_SAME_LOWER = 2,")
    out.append("    ONNX_AUTO_PAD_VALID = 3")
    out.append("} onnx_auto_pad;")
    out.append("")
    out.append("typedef struct onnx_case {")
    out.append("    const char *name;")
    out.append("    int64_t x_shape[4]; const double *x; /* N, C, H, W */")
    out.append("    int64_t w_shape[4]; const double *w; /* C, M/group, kH, kW */")
    out.append("    int64_t y_shape[4]; const double *y; /* N, M, H_out, W_out */")
    out.append("    /* raw attributes; has_* = 0: absent (value then 0) */")
    out.append("    int has_strides;        int64_t strides[2];        /* [h, w] */")
    out.append("    int has_pads;           int64_t pads[4];           /* [top, left, bottom, right] */")
    out.append("    int has_output_padding; int64_t output_padding[2]; /* [h, w] */")
    out.append("    int has_output_shape;   int64_t output_shape[2];   /* [h, w] */")
    out.append("    int has_dilations;      int64_t dilations[2];      /* [h, w] */")
    out.append("    int has_group;          int64_t group;")
    out.append("    int has_kernel_shape;   int64_t kernel_shape[2];   /* [h, w] */")
    out.append("    int has_auto_pad;       onnx_auto_pad auto_pad;")
    out.append("} onnx_case;")

    entries = []
    for case in cases:
        name = case.get("name")
        if not isinstance(name, str):
            fail("a case has no name")
        ident = c_ident(name)
        if case.get("Y_written_literally_in_source") is not True:
            fail("%s: Y is not marked as written literally in the ONNX source" % name)
        if ONNX_VERSION not in case.get("source", ""):
            fail("%s: source %r is not %s" % (name, case.get("source"), ONNX_VERSION))
        xs, xv = tensor(case, "X")
        ws, wv = tensor(case, "W")
        ys, yv = tensor(case, "Y")
        attrs = attrs_of(case)
        origin = case["source"].split(" :: ")[-1]

        out.append("")
        out.append("/* %s: %s */" % (name, origin))
        emit_array(out, "onnx_%s_x" % ident, xv, xs)
        emit_array(out, "onnx_%s_w" % ident, wv, ws)
        emit_array(out, "onnx_%s_y" % ident, yv, ys)
        entries.append((case, ident, xs, ws, ys, attrs))

    out.append("")
    out.append("#define ONNX_NUM_CASES %d" % len(entries))
    out.append("")
    out.append("static const onnx_case onnx_cases[ONNX_NUM_CASES] = {")
    for e in entries:
        emit_case_entry(out, *e)
    out.append("};")
    out.append("")
    out.append("#endif /* TCONV_TESTS_ONNX_VECTORS_H */")

    with open(argv[2], "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
