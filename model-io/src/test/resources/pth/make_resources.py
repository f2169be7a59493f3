#!/usr/bin/env python3
"""Writes the small torch.save checkpoints used by PthReaderTest (torch 1.13, Debian's python3-torch):
    "$(command -p -v python3)" make_resources.py
Values are simple (k/8 and the like) so the test can recompute them exactly."""
import collections
import torch

def ramp(n):
    return torch.arange(n, dtype=torch.float32) / 8 - 1

# Every float dtype the reader converts, plus non-float tensors it must skip.
torch.save(collections.OrderedDict([
    ("f32", ramp(12).reshape(3, 4)),
    ("f16", ramp(12).reshape(3, 4).half()),
    ("bf16", ramp(12).reshape(3, 4).bfloat16()),
    ("bn.num_batches_tracked", torch.tensor(5)),
    ("mask", torch.tensor([True, False])),
]), "dtypes.pth")

# A training checkpoint: the state dict is wrapped, next to non-tensor values.
torch.save({
    "epoch": 3,
    "name": "resnet",
    "big": 2 ** 70,
    "neg": -123456,
    "optimizer": {"lr": 0.1, "betas": (0.9, 0.999), "nesterov": True, "decay": None, "groups": [1, 2]},
    "state_dict": collections.OrderedDict([("fc.weight", ramp(6).reshape(2, 3)), ("fc.bias", ramp(2))]),
}, "nested.pth")

# Views sharing one storage: transposed, offset rows, strided columns, stride-0 expansion.
base = ramp(24).reshape(4, 6)
torch.save(collections.OrderedDict([
    ("base", base), ("t", base.t()), ("row", base[1]), ("col", base[:, 2]),
    ("expanded", ramp(3).reshape(3, 1).expand(3, 4)),
    ("half_t", base.half().t()),
]), "strided.pth")

# nn.Parameter values pickle through torch._utils._rebuild_parameter.
torch.save({"p": torch.nn.Parameter(ramp(4))}, "param.pth")

# float64 is a recognised but unsupported dtype.
torch.save({"d": ramp(3).double()}, "f64.pth")
