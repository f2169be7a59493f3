#!/usr/bin/env bash
# Makes the full-size golden set (real DeepFEVER widths, repeats 5,10,5, seed 1234) with real
# PyTorch into build/fixtures-full, using the project's own generator
# (src-test/reference/make_goldens.py --preset full), and installs Debian's python3-torch and
# friends first when they are missing. PyTorch is test tooling only: the engine never needs it.
# The two small sets the tests also use are committed in src-test/golden.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fixtures-full
# Kept when complete and made by this generator (an older set from elsewhere is remade).
if [ -f "$out/model.onnx" ] && grep -q '"generator": "src-test/reference/make_goldens.py --preset full"' "$out/manifest.json" 2>/dev/null; then
  exit 0
fi
py=$(command -p -v python3 || true)
if [ -z "$py" ] || ! "$py" -c 'import torch, onnx, skimage, PIL' 2>/dev/null; then
  echo "fixtures: installing Debian's python3-torch, python3-onnx, python3-skimage, python3-pil (test oracle only)" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-torch python3-onnx python3-skimage python3-pil >/dev/null
  py=$(command -p -v python3)
fi
rm -rf "$out"
mkdir -p "$out"
# torch.onnx.export's shape-inference UserWarnings are noise here; real errors still fail the script.
"$py" -W ignore::UserWarning src-test/reference/make_goldens.py "$out" --preset full
echo "fixtures: wrote $out" >&2
