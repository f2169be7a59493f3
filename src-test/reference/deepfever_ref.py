"""The project's PyTorch definition of DeepFEVER: the oracle the Java engine is tested against.

Test tooling only; the engine never runs Python. The layout (Schoneveld & Othmani, 2021):

    140x140 RGB crop, (pixel - 127.5) / 128, NCHW
    -> Inception-ResNet-v1 (FaceNet; facenet-pytorch state-dict key names) cut after mixed_7a,
       or, with full_backbone, after repeat_3 + block8
    -> reduce: 1x1 conv + BN + ReLU (512) -> dense: DenseNet block, 5 layers, growth 64 (832)
    -> project: 1x1 conv + BN + ReLU (128) -> global average pool = the 128-d features
    -> fec: Linear(128, 32), L2-normalised = embedding;  affectnet: Linear(128, 8) = logits

Residual scales: Block35 0.17, Block17 0.10, Block8 0.20 (the closing block8 too, without its
ReLU). Backbone BN eps 1e-3, head BN eps 1e-5. `width_div` divides every channel count of the
backbone and head (the embedding and logits keep 32 and 8), so a small model keeps the topology
while an engine has to read the widths from the weights rather than assume them.
"""
import torch
import torch.nn.functional as F
from torch import nn

AFFECTNET_CLASSES = ["neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt"]

# Modules whose output is an intermediate "tap", in network order (block8 only with full_backbone).
TAP_MODULES = {"stem": "conv2d_4b", "repeat_1": "repeat_1", "mixed_6a": "mixed_6a", "repeat_2": "repeat_2",
               "mixed_7a": "mixed_7a", "block8": "block8", "reduce": "reduce", "dense": "dense", "project": "project"}

BACKBONE_EPS = 1e-3
HEAD_EPS = 1e-5


class ConvBN(nn.Module):
    """Bias-free conv, batch norm, ReLU (keys: conv.weight, bn.*)."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0, eps=BACKBONE_EPS):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=eps)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def chain(*mods):
    """One conv stands alone (key prefix branchN.conv), several form a Sequential (branchN.0.conv)."""
    return mods[0] if len(mods) == 1 else nn.Sequential(*mods)


class Branches(nn.Module):
    """Runs branch0..branchK on one input and concatenates their outputs along channels."""

    def __init__(self, branches):
        super().__init__()
        self.count = len(branches)
        for i, b in enumerate(branches):
            self.add_module(f"branch{i}", b)

    def branch_outputs(self, x):
        return torch.cat([getattr(self, f"branch{i}")(x) for i in range(self.count)], 1)

    def forward(self, x):
        return self.branch_outputs(x)


class Residual(Branches):
    """Inception-ResNet unit: x + scale * conv2d(cat(branches)), then ReLU unless final."""

    def __init__(self, width, branches, cat_width, scale, final_relu=True):
        super().__init__(branches)
        self.conv2d = nn.Conv2d(cat_width, width, 1)  # the only backbone conv with a bias
        self.scale = scale
        self.final_relu = final_relu

    def forward(self, x):
        y = self.conv2d(self.branch_outputs(x)) * self.scale + x
        return F.relu(y) if self.final_relu else y


class Widths:
    """Channel counts of the published network divided by `div` (which must divide each exactly)."""

    def __init__(self, div):
        self.div = div

    def __call__(self, channels):
        if channels % self.div:
            raise ValueError(f"width divisor {self.div} does not divide {channels} channels")
        return channels // self.div


def block35(c):
    k = c(32)
    return Residual(c(256), [ConvBN(c(256), k, 1),
                             chain(ConvBN(c(256), k, 1), ConvBN(k, k, 3, padding=1)),
                             chain(ConvBN(c(256), k, 1), ConvBN(k, k, 3, padding=1), ConvBN(k, k, 3, padding=1))],
                    3 * k, 0.17)


def block17(c):
    k = c(128)
    return Residual(c(896), [ConvBN(c(896), k, 1),
                             chain(ConvBN(c(896), k, 1), ConvBN(k, k, (1, 7), padding=(0, 3)),
                                   ConvBN(k, k, (7, 1), padding=(3, 0)))],
                    2 * k, 0.10)


def block8(c, final_relu=True):
    k = c(192)
    return Residual(c(1792), [ConvBN(c(1792), k, 1),
                              chain(ConvBN(c(1792), k, 1), ConvBN(k, k, (1, 3), padding=(0, 1)),
                                    ConvBN(k, k, (3, 1), padding=(1, 0)))],
                    2 * k, 0.20, final_relu)


def mixed_6a(c):
    return Branches([ConvBN(c(256), c(384), 3, stride=2),
                     chain(ConvBN(c(256), c(192), 1), ConvBN(c(192), c(192), 3, padding=1),
                           ConvBN(c(192), c(256), 3, stride=2)),
                     nn.MaxPool2d(3, stride=2)])


def mixed_7a(c):
    return Branches([chain(ConvBN(c(896), c(256), 1), ConvBN(c(256), c(384), 3, stride=2)),
                     chain(ConvBN(c(896), c(256), 1), ConvBN(c(256), c(256), 3, stride=2)),
                     chain(ConvBN(c(896), c(256), 1), ConvBN(c(256), c(256), 3, padding=1),
                           ConvBN(c(256), c(256), 3, stride=2)),
                     nn.MaxPool2d(3, stride=2)])


class DenseLayer(nn.Module):
    """torchvision's pre-activation DenseNet layer: BN-ReLU-1x1 conv (4 * growth) - BN-ReLU-3x3 conv."""

    def __init__(self, cin, growth):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin, eps=HEAD_EPS)
        self.conv1 = nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(4 * growth, eps=HEAD_EPS)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))


class DenseBlock(nn.Module):
    """Each layer sees the concatenation of the block input and every earlier layer's output.
    Concatenated as torchvision's _DenseBlock does (the whole list at each layer and at the end),
    so the exported ONNX graph has the shape a real DenseNet export has."""

    def __init__(self, cin, growth, layers=5):
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(cin + i * growth, growth) for i in range(layers))

    def forward(self, x):
        seen = [x]
        for layer in self.layers:
            seen.append(layer(torch.cat(seen, 1)))
        return torch.cat(seen, 1)


class DeepFEVER(nn.Module):
    """forward(x) -> (features, embedding, logits); see the module docstring for the layout."""

    def __init__(self, repeats=(5, 10, 5), full_backbone=False, width_div=1):
        super().__init__()
        c = Widths(width_div)
        self.full_backbone = full_backbone
        self.conv2d_1a = ConvBN(3, c(32), 3, stride=2)
        self.conv2d_2a = ConvBN(c(32), c(32), 3)
        self.conv2d_2b = ConvBN(c(32), c(64), 3, padding=1)
        self.maxpool_3a = nn.MaxPool2d(3, stride=2)
        self.conv2d_3b = ConvBN(c(64), c(80), 1)
        self.conv2d_4a = ConvBN(c(80), c(192), 3)
        self.conv2d_4b = ConvBN(c(192), c(256), 3, stride=2)
        self.repeat_1 = nn.Sequential(*(block35(c) for _ in range(repeats[0])))
        self.mixed_6a = mixed_6a(c)
        self.repeat_2 = nn.Sequential(*(block17(c) for _ in range(repeats[1])))
        self.mixed_7a = mixed_7a(c)
        if full_backbone:
            self.repeat_3 = nn.Sequential(*(block8(c) for _ in range(repeats[2])))
            self.block8 = block8(c, final_relu=False)
        dense_in, growth = c(512), c(64)
        self.reduce = ConvBN(c(1792), dense_in, 1, eps=HEAD_EPS)
        self.dense = DenseBlock(dense_in, growth)
        self.project = ConvBN(dense_in + 5 * growth, c(128), 1, eps=HEAD_EPS)
        self.fec = nn.Linear(c(128), 32)
        self.affectnet = nn.Linear(c(128), len(AFFECTNET_CLASSES))

    def repeats(self):
        """Residual units per stack as built (repeat_3 counts 0 when the backbone is cut)."""
        return [len(self.repeat_1), len(self.repeat_2), len(self.repeat_3) if self.full_backbone else 0]

    def forward(self, x):
        for name, module in self.named_children():
            if name in ("fec", "affectnet"):
                break
            x = module(x)
        features = x.mean(dim=(2, 3))
        return features, F.normalize(self.fec(features), dim=1), self.affectnet(features)

    def taps(self, x):
        """The intermediate activations of TAP_MODULES for input x, by tap name (network order)."""
        found, hooks = {}, []
        modules = dict(self.named_children())
        for tap, name in TAP_MODULES.items():
            if name in modules:
                hooks.append(modules[name].register_forward_hook(
                    lambda _m, _in, out, tap=tap: found.__setitem__(tap, out.detach().clone())))
        try:
            self(x)
        finally:
            for h in hooks:
                h.remove()
        return {t: found[t] for t in TAP_MODULES if t in found}


def seed_weights(model, seed):
    """Deterministic, non-trivial weights: He-normal convs, small biases, BN statistics away from
    the identity (so folding BN is really exercised). Not trained: these only make an oracle."""
    g = torch.Generator().manual_seed(seed)

    def normal(shape, std):
        return torch.randn(shape, generator=g) * std

    def uniform(shape, lo, hi):
        return lo + (hi - lo) * torch.rand(shape, generator=g)

    with torch.no_grad():
        for _, m in model.named_modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(normal(m.weight.shape, (2.0 / fan_in) ** 0.5))
                if m.bias is not None:
                    m.bias.copy_(normal(m.bias.shape, 0.05))
            elif isinstance(m, nn.Linear):
                m.weight.copy_(normal(m.weight.shape, m.in_features ** -0.5))
                m.bias.copy_(normal(m.bias.shape, 0.05))
            elif isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(uniform(n, 0.8, 1.2))
                m.bias.copy_(normal(n, 0.1))
                m.running_mean.copy_(normal(n, 0.1))
                m.running_var.copy_(uniform(n, 0.5, 1.5))
    return model.eval()
