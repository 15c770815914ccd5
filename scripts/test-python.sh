#!/usr/bin/env bash
# The Python package's tests (python/), as scripts/test.sh runs them:
#   1. installs what is missing from Debian: numpy, PyTorch (CPU),
#      meson-python, pytest, venv/pip and the Python headers;
#   2. makes a virtual environment from Debian's python3 with
#      --system-site-packages (build-python/venv, new each run) and installs
#      ./python into it with the README's command;
#   3. runs the README's check, the pytest suite once per instruction set
#      named (TCONV_ISA), the PyTorch example and the PyTorch benchmark's
#      quick mode.
# Everything is written to LOG too; each pytest run ends with a line
# "N passed, N failed, N skipped" that scripts/criterion_summary.py counts.
#
#   bash scripts/test-python.sh [LOG [ISA...]]     # default: build-python/tests.log, this CPU's best
set -euo pipefail
cd "$(dirname "$0")/.."
log=${1:-build-python/tests.log}
shift || true
isas=("$@")

bash scripts/install-deps.sh gcc libc6-dev pkg-config meson ninja-build libsleef-dev \
    libhwloc-dev python3-dev python3-venv python3-pip python3-numpy python3-torch \
    python3-mesonpy python3-pytest

run() {
    # Debian's interpreter, whatever python3 is first on the PATH (a pyenv one
    # lacks Debian's numpy and torch).
    venv=build-python/venv
    rm -rf "$venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    py=$venv/bin/python
    "$py" -m pip install --quiet --no-build-isolation ./python

    # The README's check, from outside the source tree (so that `import tconv`
    # finds the installed package, not python/tconv).
    out=$(cd /tmp && "$OLDPWD/$py" -c "import tconv, torch; m = tconv.torch.convert(torch.nn.Sequential(torch.nn.ConvTranspose2d(64, 32, 4, 2, 1))); print(m(torch.randn(2, 64, 16, 16)).shape)")
    echo "$out"
    [ "$out" = "torch.Size([2, 32, 32, 32])" ] || { echo "test-python.sh: unexpected output" >&2; exit 1; }

    status=0
    [ ${#isas[@]} -gt 0 ] || isas=("$("$py" -c 'import tconv; print(tconv.isa())')")
    for isa in "${isas[@]}"; do
        echo "test-python.sh: pytest with TCONV_ISA=$isa"
        TCONV_ISA=$isa "$py" -m pytest -q -p no:cacheprovider python/tests || status=1
    done

    "$py" examples/torch_dcgan.py --steps 5 | tee build-python/torch_dcgan.out
    grep -q 'learned$' build-python/torch_dcgan.out
    "$py" bench/torch_bench.py --quick --out build-python/torch-bench-quick
    return $status
}

mkdir -p "$(dirname "$log")" build-python
run 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
