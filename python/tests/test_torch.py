"""tconv.torch against PyTorch's own transposed convolution: forward and all
three gradients on random configurations, gradcheck, the 1-D module,
convert() on a mixed model (outputs and a few training steps), and the
cases tconv.torch refuses."""
import copy
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tconv
import tconv.torch as tt

TOL = {torch.float32: 1e-4, torch.float64: 1e-10}


def random_layer(rng):
    """A random ConvTranspose2d configuration whose output is not empty."""
    while True:
        groups = int(rng.integers(1, 4))
        c, f = groups * int(rng.integers(1, 6)), groups * int(rng.integers(1, 6))
        k = [int(v) for v in rng.integers(1, 6, 2)]
        s = [int(v) for v in rng.integers(1, 4, 2)]
        d = [int(v) for v in rng.integers(1, 3, 2)]
        p = [int(rng.integers(0, d[i] * (k[i] - 1) + 1)) for i in range(2)]
        op = [int(rng.integers(0, max(s[i], d[i]))) for i in range(2)]
        n, h, w = int(rng.integers(1, 4)), int(rng.integers(1, 8)), int(rng.integers(1, 8))
        out = [(x - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1
               for i, x in enumerate((h, w))]
        if min(out) >= 1:
            return dict(n=n, c=c, f=f, h=h, w=w, k=k, stride=s, dilation=d, padding=p,
                        output_padding=op, groups=groups)


def relative_error(got, want):
    scale = want.abs().max().item()
    return (got - want).abs().max().item() / (scale if scale > 0 else 1.0)


def run(fn, x, w, b, grad, cfg):
    x, w = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
    b = None if b is None else b.detach().clone().requires_grad_()
    y = fn(x, w, b, cfg["stride"], cfg["padding"], cfg["output_padding"], cfg["groups"],
           cfg["dilation"])
    y.backward(grad)
    return y, x.grad, w.grad, None if b is None else b.grad


@pytest.mark.parametrize("seed", range(300))
def test_forward_and_gradients_match_pytorch(seed):
    rng = np.random.default_rng(seed)
    cfg = random_layer(rng)
    dtype = torch.float64 if seed % 2 else torch.float32
    channels_last = seed % 3 == 0
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(cfg["n"], cfg["c"], cfg["h"], cfg["w"], generator=gen, dtype=dtype)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    w = torch.randn(cfg["c"], cfg["f"] // cfg["groups"], *cfg["k"], generator=gen, dtype=dtype)
    b = torch.randn(cfg["f"], generator=gen, dtype=dtype) if seed % 4 else None
    y_ref = F.conv_transpose2d(x, w, b, cfg["stride"], cfg["padding"], cfg["output_padding"],
                               cfg["groups"], cfg["dilation"])
    grad = torch.randn(y_ref.shape, generator=gen, dtype=dtype)
    want = run(F.conv_transpose2d, x, w, b, grad, cfg)
    got = run(tt.conv_transpose2d, x, w, b, grad, cfg)
    assert got[0].shape == want[0].shape
    if not x.is_contiguous():  # channels_last, and not ambiguous (C = 1 or H = W = 1)
        assert got[0].is_contiguous(memory_format=torch.channels_last)
    for name, g, r in zip(("y", "dx", "dw", "db"), got, want):
        if r is None:
            assert g is None
            continue
        assert relative_error(g, r) <= TOL[dtype], (name, cfg)


@pytest.mark.parametrize("seed", range(8))
def test_gradcheck(seed):
    cfg = random_layer(np.random.default_rng(1000 + seed))
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(cfg["n"], cfg["c"], cfg["h"], cfg["w"], generator=gen, dtype=torch.float64,
                    requires_grad=True)
    w = torch.randn(cfg["c"], cfg["f"] // cfg["groups"], *cfg["k"], generator=gen,
                    dtype=torch.float64, requires_grad=True)
    b = torch.randn(cfg["f"], generator=gen, dtype=torch.float64, requires_grad=True)
    args = (cfg["stride"], cfg["padding"], cfg["output_padding"], cfg["groups"], cfg["dilation"])
    assert torch.autograd.gradcheck(lambda *t: tt.conv_transpose2d(*t, *args), (x, w, b))


def copy_into(cls, module):
    new = cls(module.in_channels, module.out_channels, module.kernel_size, module.stride,
              module.padding, module.output_padding, module.groups, module.bias is not None,
              module.dilation, dtype=module.weight.dtype)
    new.load_state_dict(module.state_dict())
    return new


@pytest.mark.parametrize("seed", range(20))
def test_conv_transpose1d_matches_pytorch(seed):
    rng = np.random.default_rng(2000 + seed)
    cfg = random_layer(rng)
    torch.manual_seed(seed)
    ref = torch.nn.ConvTranspose1d(cfg["c"], cfg["f"], cfg["k"][1], cfg["stride"][1],
                                   cfg["padding"][1], cfg["output_padding"][1], cfg["groups"],
                                   bias=bool(seed % 2), dilation=cfg["dilation"][1]).double()
    mine = copy_into(tt.ConvTranspose1d, ref)
    x = torch.randn(cfg["n"], cfg["c"], cfg["w"], dtype=torch.float64)
    if seed % 5 == 0:
        x = x[0]  # unbatched (C, L)
    outs = []
    for m in (ref, mine):
        xi = x.clone().requires_grad_()
        y = m(xi)
        y.backward(torch.ones_like(y))
        outs.append((y, xi.grad, m.weight.grad) + ((m.bias.grad,) if m.bias is not None else ()))
    for g, r in zip(outs[1], outs[0]):
        assert relative_error(g, r) <= 1e-10


def test_output_size_and_unbatched_input():
    torch.manual_seed(0)
    ref = torch.nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1).double()
    mine = copy_into(tt.ConvTranspose2d, ref)
    x = torch.randn(2, 6, 5, 7, dtype=torch.float64)
    for size in ([9, 13], [10, 14]):  # both output sizes stride 2 allows
        y_ref, y = ref(x, output_size=size), mine(x, output_size=size)
        assert y.shape[-2:] == torch.Size(size)
        assert relative_error(y, y_ref) <= 1e-12
    assert relative_error(mine(x[0]), ref(x[0])) <= 1e-12
    assert mine(x[0]).shape == ref(x[0]).shape


def test_module_keeps_pytorch_interface():
    ref = torch.nn.ConvTranspose2d(8, 4, 4, 2, 1, groups=2)
    mine = tt.ConvTranspose2d(8, 4, 4, 2, 1, groups=2)
    assert isinstance(mine, torch.nn.ConvTranspose2d)
    assert mine.state_dict().keys() == ref.state_dict().keys()
    mine.load_state_dict(ref.state_dict())
    assert [p.shape for p in mine.parameters()] == [p.shape for p in ref.parameters()]
    assert repr(mine) == repr(ref)


def test_non_contiguous_input_is_accepted():
    torch.manual_seed(1)
    x = torch.randn(2, 5, 9, 3, dtype=torch.float64).transpose(2, 3)  # neither format
    w = torch.randn(3, 5, 3, 3, dtype=torch.float64).transpose(0, 1)  # (5, 3, 3, 3), strided
    y = tt.conv_transpose2d(x, w, None, 2, 1)
    assert relative_error(y, F.conv_transpose2d(x, w, None, 2, 1)) <= 1e-12


class Mixed(torch.nn.Module):
    """Every kind of layer convert meets: 2-D and 1-D transposed
    convolutions it swaps, other layers it leaves, and a 3-D one it must
    leave (and say so)."""

    def __init__(self):
        super().__init__()
        self.up = torch.nn.Sequential(
            torch.nn.ConvTranspose2d(8, 16, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(16),
            torch.nn.ReLU(), torch.nn.ConvTranspose2d(16, 4, 3, 2, 1, output_padding=1,
                                                      groups=2),
            torch.nn.Conv2d(4, 4, 3, padding=1))
        self.seq = torch.nn.ConvTranspose1d(4, 3, 5, stride=3, padding=1)
        self.vol = torch.nn.ConvTranspose3d(2, 2, 2)

    def forward(self, x, v):
        y = self.up(x)                      # (N, 4, 4H, 4W)
        z = self.seq(y.flatten(2))          # (N, 3, L)
        return y.square().mean() + z.square().mean() + self.vol(v).square().mean()


def test_convert_same_outputs_and_training_trajectory():
    torch.manual_seed(3)
    ref = Mixed().double()
    mine = copy.deepcopy(ref)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert tt.convert(mine) is mine
    assert len(caught) == 1 and "vol: 3-D transposed convolution is not supported" in str(
        caught[0].message)
    assert type(mine.up[0]) is tt.ConvTranspose2d and type(mine.up[3]) is tt.ConvTranspose2d
    assert type(mine.seq) is tt.ConvTranspose1d and type(mine.vol) is torch.nn.ConvTranspose3d
    x = torch.randn(3, 8, 5, 6, dtype=torch.float64)
    v = torch.randn(1, 2, 3, 3, 3, dtype=torch.float64)
    opt_ref = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    opt_mine = torch.optim.SGD(mine.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(5):
        pair = []
        for model, opt in ((ref, opt_ref), (mine, opt_mine)):
            opt.zero_grad()
            loss = model(x, v)
            loss.backward()
            opt.step()
            pair.append(loss.item())
        losses.append(pair)
    for want, got in losses:
        assert abs(got - want) <= 1e-10 * abs(want)
    assert losses[-1][0] < losses[0][0]  # the trajectory is a real descent
    for p, q in zip(ref.parameters(), mine.parameters()):
        assert relative_error(q.detach(), p.detach()) <= 1e-10


def test_convert_root_module_and_optimizer_made_before():
    m = torch.nn.ConvTranspose2d(4, 4, 3)
    opt = torch.optim.SGD(m.parameters(), lr=0.5)
    weight = m.weight
    assert tt.convert(m) is m and type(m) is tt.ConvTranspose2d and m.weight is weight
    m(torch.randn(1, 4, 3, 3)).sum().backward()
    before = weight.detach().clone()
    opt.step()
    assert not torch.equal(before, weight.detach())


def test_convert_leaves_what_tconv_cannot_run():
    class Custom(torch.nn.ConvTranspose2d):
        def forward(self, x):
            return super().forward(x) * 2

    model = torch.nn.Sequential(torch.nn.ConvTranspose2d(2, 2, 2).half(), Custom(2, 2, 2),
                                torch.nn.ConvTranspose2d(2, 2, 2))
    with pytest.warns(UserWarning) as caught:
        tt.convert(model)
    message = str(caught[0].message)
    assert "0: its weight is torch.float16" in message
    assert "1: Custom is a subclass of ConvTranspose2d" in message
    assert [type(m) for m in model] == [torch.nn.ConvTranspose2d, Custom, tt.ConvTranspose2d]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.complex64, torch.int32])
def test_unsupported_dtypes_raise(dtype):
    x = torch.zeros(1, 2, 3, 3, dtype=dtype)
    w = torch.zeros(2, 2, 2, 2, dtype=dtype)
    with pytest.raises(TypeError, match=f"input has dtype {dtype}"):
        tt.conv_transpose2d(x, w)


def test_bad_input_raises_with_message():
    m = tt.ConvTranspose2d(4, 2, 3)
    with pytest.raises(ValueError, match="the channels of x"):
        m(torch.randn(1, 3, 5, 5))  # 3 channels, the layer has 4
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) or \(C, H, W\)"):
        m(torch.randn(1, 1, 4, 5, 5))  # 5-D
    with pytest.raises(TypeError, match="one dtype"):
        tt.conv_transpose2d(torch.randn(1, 4, 3, 3, dtype=torch.float64), m.weight)
    with pytest.raises(ValueError, match="padding"):
        tt.conv_transpose2d(torch.randn(1, 4, 3, 3), m.weight, None, 1, -1)
    with pytest.raises(ValueError, match="output_padding"):
        tt.conv_transpose2d(torch.randn(1, 4, 3, 3), m.weight, None, 2, 1, 2)
    with pytest.raises(ValueError, match="padding_mode"):
        m.padding_mode = "reflect"
        m(torch.randn(1, 4, 5, 5))
