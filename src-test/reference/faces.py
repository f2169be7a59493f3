"""The face crops the golden sets feed the network, and where each comes from.

Every source image may be committed (see faces/src/test/resources/images/NOTICE): the crops are
square detector boxes widened by 1.4 around their centre, cut with black padding outside the
image and resized to 140x140 with Pillow's bilinear filter, exactly what `fever extract` does
(FaceCropperTest checks the Java crop against faces/00.png and faces/01.png).
"""
import os

import numpy as np
from PIL import Image

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TEST_IMAGES = os.path.join(REPO, "faces", "src", "test", "resources", "images")
SIZE = 140
MARGIN = 1.4


def _repo_image(name):
    return lambda: Image.open(os.path.join(TEST_IMAGES, name)).convert("RGB")


def _skimage_camera():
    from skimage import data  # Debian's python3-skimage; the photo is CC0 (Lav Varshney)
    return Image.fromarray(data.camera()).convert("RGB")


# name -> (image loader, detector box as (row, column, size) in that image)
SOURCES = {
    "astronaut": (_repo_image("astronaut.png"), (66, 174, 96)),   # the box FaceDetectorTest expects
    "messi": (_repo_image("messi5.jpg"), (64, 247, 77)),          # likewise
    "camera": (_skimage_camera, (90, 168, 84)),                   # greyscale: equal R, G, B
    "astronaut-wide": (_repo_image("astronaut.png"), (40, 150, 160)),  # 224 px box: a 1.6x downscale
}


def box_corners(row, col, size, margin=MARGIN):
    """(left, top, right, bottom) of the widened square box; Python's round() (half to even)."""
    cy, cx = row + size / 2, col + size / 2
    half = size * margin / 2
    return tuple(int(round(v)) for v in (cx - half, cy - half, cx + half, cy + half))


def crop(name):
    """The 140x140 RGB crop called `name` (a key of SOURCES)."""
    if name not in SOURCES:
        raise SystemExit(f"unknown face {name!r}; known: {', '.join(SOURCES)}")
    load, (row, col, size) = SOURCES[name]
    return load().crop(box_corners(row, col, size)).resize((SIZE, SIZE), Image.BILINEAR)


def normalise(images):
    """[N,3,140,140] float32: (pixel - 127.5) / 128, RGB planes, computed in float32 as the engine does."""
    x = np.stack([np.asarray(im, dtype=np.float32).transpose(2, 0, 1) for im in images])
    return ((x - np.float32(127.5)) / np.float32(128)).astype("<f4")
