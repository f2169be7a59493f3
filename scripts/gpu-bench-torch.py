"""PyTorch (CUDA) side of scripts/gpu-check.sh's benchmark: the reference DeepFEVER on the GPU.

usage: gpu-bench-torch.py FIXTURES_DIR MODEL.pth BATCHES [RUNS]
FIXTURES_DIR holds deepfever_ref.py (the reference definition the golden sets come from). Timed as
fever's CudaBench is: a host (pinned) batch in, host results out, FP32 with TF32 off, cuDNN
autotuning on (as fever's algorithm search). Prints one line per batch.
"""
import sys, time

import torch

sys.path.insert(0, sys.argv[1])
from deepfever_ref import DeepFEVER  # noqa: E402

model_path, batches = sys.argv[2], [int(b) for b in sys.argv[3].split(",")]
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 20
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.backends.cudnn.benchmark = True
sd = torch.load(model_path, map_location="cpu")
full = any(k.startswith("repeat_3.") for k in sd)
model = DeepFEVER(full_backbone=full)
model.load_state_dict(sd)
model = model.eval().cuda()
print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
with torch.inference_mode():
    for b in batches:
        x = torch.randn(b, 3, 140, 140).pin_memory()

        def once():
            out = model(x.cuda(non_blocking=True))
            return [t.cpu() for t in out]

        t0 = time.perf_counter(); once(); first = (time.perf_counter() - t0) * 1e3
        for _ in range(3):
            once()
        ms = []
        for _ in range(runs):
            t0 = time.perf_counter(); once(); ms.append((time.perf_counter() - t0) * 1e3)
        ms.sort()
        med = ms[len(ms) // 2]
        print(f"torch cuda batch {b}: median {med:.2f} ms, best {ms[0]:.2f} ms, {b * 1000 / med:.0f} faces/s (first run {first:.0f} ms)")
