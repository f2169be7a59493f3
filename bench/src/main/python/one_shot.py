"""What a Python user writes for one face: import torch, build DeepFEVER, load a state dict, decode
one 140x140 crop, one forward pass, print the result as JSON. The other side of `fever extract
--model model.pth face.png` in the cold-start comparison (docs/cold-start.md); test tooling only.

    py=$(command -p -v python3)
    /usr/bin/time -v "$py" bench/src/main/python/one_shot.py build/fixtures-full/model.pth build/fixtures-full/faces/00.png

Builds the full-size network of src-test/reference/deepfever_ref.py (repeats 5,10,5, the backbone
cut after Mixed_7a, as the project's full golden set), on two threads like the engine's default on
these machines.
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "src-test", "reference"))
from deepfever_ref import DeepFEVER  # noqa: E402

torch.set_num_threads(2)
pth, image = sys.argv[1], sys.argv[2]
model = DeepFEVER()
model.load_state_dict(torch.load(pth, map_location="cpu"))
model.eval()
pixels = np.asarray(Image.open(image).convert("RGB"), dtype=np.float32).transpose(2, 0, 1)[None]
x = torch.from_numpy((pixels - np.float32(127.5)) / np.float32(128))
with torch.no_grad():
    features, embedding, logits = model(x)
print(json.dumps({"image": image, "features": features[0].tolist(), "logits": logits[0].tolist()}))
