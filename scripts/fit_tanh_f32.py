#!/usr/bin/env python3
"""Coefficients of the f32 tanh polynomial in kernels/template/activation_tanh_f32.inc.

tanh(x) = x + x^3 P(x^2) on |x| < T: P is mpmath's Chebyshev fit (near
minimax in absolute error) of (tanh(x) - x) / x^3 as a function of s = x^2
on [0, T^2], rounded to f32. Prints the coefficients (highest degree first)
as C hex floats and the relative error of x + x^3 P(x^2) with them, in exact
arithmetic, in units of 2^-24 (an f32 ulp at the bottom of a binade).

    python3 scripts/fit_tanh_f32.py [T [degree]]     # defaults: 1.0 8, the ones in use
"""
import struct
import sys

import mpmath as mp

mp.mp.dps = 40
T = mp.mpf(sys.argv[1] if len(sys.argv) > 1 else "1.0")
DEGREE = int(sys.argv[2]) if len(sys.argv) > 2 else 8


def g(s):
    """(tanh(x) - x) / x^3 at s = x^2; -1/3 at 0."""
    if s < mp.mpf("1e-30"):
        return mp.mpf(-1) / 3
    x = mp.sqrt(s)
    return (mp.tanh(x) - x) / (s * x)


def to_f32(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


def c_hex(v):
    """v as a C hex float literal without the double's trailing zero digits."""
    mantissa, exponent = v.hex().split("p")
    return f"{mantissa.rstrip('0').rstrip('.')}p{exponent}f"


poly, fit_error = mp.chebyfit(g, [0, T * T], DEGREE + 1, error=True)
coefs = [to_f32(c) for c in poly]
worst = mp.mpf(0)
for i in range(1, 4001):
    x = T * i / 4000
    p = mp.polyval([mp.mpf(c) for c in coefs], x * x)
    worst = max(worst, abs((x + x**3 * p) / mp.tanh(x) - 1))
print(f"/* T = {T}, degree {DEGREE}: fit error {mp.nstr(fit_error, 3)}, "
      f"relative error with f32 coefficients {mp.nstr(worst / mp.mpf(2) ** -24, 3)} x 2^-24 */")
for c in coefs:
    print(f"    {c_hex(c)}, /* {c:.9g} */")
