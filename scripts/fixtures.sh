#!/usr/bin/env bash
# Makes the full-size golden fixtures (real DeepFEVER widths, seed 1234) with real PyTorch into
# build/fixtures-full, installing Debian's python3-torch and friends first when they are missing.
# PyTorch is test tooling only: the engine never needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fixtures-full
fixtures=${FEVER_FIXTURES:-../shared/fixtures}
if [ -f "$out/manifest.json" ] && [ -f "$out/model.onnx" ]; then
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
mkdir -p "$out"
"$py" "$fixtures/make_fixtures.py" "$out" --seed 1234 >/dev/null
echo "fixtures: wrote $out" >&2
