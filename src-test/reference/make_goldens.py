#!/usr/bin/env python3
"""Writes a DeepFEVER golden set computed by real PyTorch (test tooling; see README.md here).

    "$(command -p -v python3)" make_goldens.py OUT_DIR --preset mini|mini-fullbackbone|full
    "$(command -p -v python3)" make_goldens.py OUT_DIR [--seed N] [--repeats A,B,C] [--width-div D]
                                               [--full-backbone] [--faces a,b,...] [--no-onnx]

Needs Debian's python3-torch (1.13), python3-pil, python3-skimage (the "camera" face) and
python3-onnx only to check the export. Same arguments, same files: weights, crops and outputs
are all seeded or derived from committed images, and no timestamps are written.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faces  # noqa: E402
from deepfever_ref import AFFECTNET_CLASSES, DeepFEVER, seed_weights  # noqa: E402

# The committed sets (src-test/golden/<name>) and the full-size one scripts/fixtures.sh makes.
PRESETS = {
    "mini": dict(seed=7, repeats="2,2,0", width_div=8, full_backbone=False,
                 faces="astronaut,messi,camera,astronaut-wide"),
    "mini-fullbackbone": dict(seed=11, repeats="1,2,2", width_div=16, full_backbone=True,
                              faces="astronaut,camera"),
    "full": dict(seed=1234, repeats="5,10,5", width_div=1, full_backbone=False,
                 faces="astronaut,messi,camera,astronaut-wide"),
}
OUTPUTS = ("features", "embedding", "logits")


def save_npy(path, tensor):
    np.save(path, np.ascontiguousarray(tensor.detach().numpy() if torch.is_tensor(tensor) else tensor, dtype="<f4"))


def save_safetensors(path, state):
    """The float tensors of a state dict in the safetensors layout: u64 header length, JSON header
    (padded with spaces to 8 bytes), then the raw little-endian data in header order."""
    header, chunks, at = {"__metadata__": {"format": "pt"}}, [], 0
    for key, t in state.items():
        if not t.dtype.is_floating_point:
            continue  # num_batches_tracked: an int64 counter no inference reads
        data = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [at, at + len(data)]}
        chunks.append(data)
        at += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def export_onnx(model, example, path):
    """Opset 13, dynamic batch; eval-mode export folds every BN that follows a conv into it, so
    only the dense layers' five pre-activation BNs (norm1) stay BatchNormalization nodes."""
    torch.onnx.export(model, example, path, opset_version=13, do_constant_folding=True,
                      input_names=["input"], output_names=list(OUTPUTS),
                      dynamic_axes={n: {0: "batch"} for n in ("input",) + OUTPUTS})
    try:
        import onnx
    except ImportError:
        return
    graph = onnx.load(path).graph
    bns = sum(1 for n in graph.node if n.op_type == "BatchNormalization")
    if bns != 5:
        raise SystemExit(f"{path}: expected the 5 dense-layer BatchNormalization nodes, found {bns}")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="folder to write (created if missing)")
    ap.add_argument("--preset", choices=sorted(PRESETS), help="one of the project's sets; other options override it")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--repeats", help="Block35,Block17,Block8 units (the last counts only with --full-backbone)")
    ap.add_argument("--width-div", type=int, help="divide every channel count (1: the real network)")
    ap.add_argument("--full-backbone", action="store_true", default=None, help="keep repeat_3 + block8")
    ap.add_argument("--faces", help="comma list of " + ", ".join(faces.SOURCES))
    ap.add_argument("--no-onnx", action="store_true")
    a = ap.parse_args(argv)
    settings = dict(PRESETS["full" if a.preset is None else a.preset])
    for key in ("seed", "repeats", "width_div", "full_backbone", "faces"):
        if getattr(a, key) is not None:
            settings[key] = getattr(a, key)
    settings["repeats"] = [int(r) for r in settings["repeats"].split(",")]
    if len(settings["repeats"]) != 3:
        ap.error("--repeats takes three counts")
    settings["faces"] = settings["faces"].split(",")
    return a, settings


def main(argv):
    a, s = parse_args(argv)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # one summation order, whatever the machine
    model = seed_weights(DeepFEVER(s["repeats"], s["full_backbone"], s["width_div"]), s["seed"])

    os.makedirs(os.path.join(a.out, "faces"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "taps"), exist_ok=True)
    crops = [faces.crop(name) for name in s["faces"]]
    for i, im in enumerate(crops):
        im.save(os.path.join(a.out, "faces", f"{i:02d}.png"), optimize=True)
    x = faces.normalise(crops)
    save_npy(os.path.join(a.out, "input.npy"), x)

    batch = torch.from_numpy(x)
    with torch.no_grad():
        results = model(batch)
        taps = model.taps(batch[:1])
    for name, t in zip(OUTPUTS, results):
        save_npy(os.path.join(a.out, f"{name}.npy"), t)
    for name, t in taps.items():
        save_npy(os.path.join(a.out, "taps", f"{name}.npy"), t)

    state = model.state_dict()
    torch.save(state, os.path.join(a.out, "model.pth"))
    save_safetensors(os.path.join(a.out, "model.safetensors"), state)
    if not a.no_onnx:
        export_onnx(model, batch[:1], os.path.join(a.out, "model.onnx"))

    manifest = {
        "model": "DeepFEVER (reference layout, seeded random weights; not trained)",
        "generator": "src-test/reference/make_goldens.py" + (f" --preset {a.preset}" if a.preset else ""),
        "seed": s["seed"],
        "repeats": model.repeats(),
        "full_backbone": s["full_backbone"],
        "width_div": s["width_div"],
        "input": {"size": [faces.SIZE, faces.SIZE], "layout": "NCHW", "channels": "RGB",
                  "normalise": "(pixel - 127.5) / 128"},
        "outputs": {n: int(t.shape[1]) for n, t in zip(OUTPUTS, results)},
        "affectnet_classes": AFFECTNET_CLASSES,
        "faces": s["faces"],
        "taps": list(taps),
        "onnx": None if a.no_onnx else {"opset": 13, "dynamic_axes": "batch", "batchnorm": "folded into convs"},
        "torch": torch.__version__,
        "parameters": sum(t.numel() for t in state.values() if t.dtype.is_floating_point),
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"make_goldens: wrote {a.out} ({manifest['parameters']} parameters, {len(crops)} faces)", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
