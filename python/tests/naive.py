"""An independent transposed convolution in plain numpy, for the tests: the
scatter form of the definition (each input pixel times each tap lands at
ih*stride + kh*dilation of the uncropped output), then the crop. Slow and
obvious on purpose; it shares no code with tconv."""
import numpy as np


def conv_transpose2d(x, w, bias, stride, crop, groups=1, dilation=(1, 1)):
    """x (N, C, H, W), w (C, F/groups, kh, kw); crop (top, bottom, left,
    right), negative values adding bias-only rows/columns."""
    n, c, h, wd = x.shape
    _, fg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    cg = c // groups
    full_h, full_w = (h - 1) * sh + (kh - 1) * dh + 1, (wd - 1) * sw + (kw - 1) * dw + 1
    full = np.zeros((n, fg * groups, full_h, full_w), dtype=np.float64)
    for g in range(groups):
        xg = x[:, g * cg:(g + 1) * cg].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                tap = np.einsum("nchw,cm->nmhw", xg, w[g * cg:(g + 1) * cg, :, i, j])
                full[:, g * fg:(g + 1) * fg, i * dh:i * dh + (h - 1) * sh + 1:sh,
                     j * dw:j * dw + (wd - 1) * sw + 1:sw] += tap
    top, bottom, left, right = crop
    padded = np.pad(full, ((0, 0), (0, 0), (max(0, -top), max(0, -bottom)),
                           (max(0, -left), max(0, -right))))
    y = padded[:, :, max(0, top):padded.shape[2] - max(0, bottom),
               max(0, left):padded.shape[3] - max(0, right)]
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return y
