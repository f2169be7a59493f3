#!/usr/bin/env python3
"""Writes the Pillow references for FaceCropperTest (run from faces/src/test/resources with Debian's
python3-pil; these were made with Pillow 9.4.0):  "$(command -p -v python3)" pil/make_expected.py"""
from PIL import Image


def square_crop(img, r, c, size, margin=1.4, out=140):  # the same arithmetic as src-test/reference/faces.py
    cy, cx = r + size / 2, c + size / 2
    half = size * margin / 2
    box = (int(round(cx - half)), int(round(cy - half)), int(round(cx + half)), int(round(cy + half)))
    return img.crop(box).resize((out, out), Image.BILINEAR)


src = Image.open("images/astronaut.png").convert("RGB")
square_crop(src, -10, -20, 60).save("pil/edge_crop.png")      # box partly outside: black padding
square_crop(src, 100, 100, 300).save("pil/big_crop.png")      # 420 px box, 3x down
square_crop(src, 200, 300, 20).save("pil/small_crop.png")     # 28 px box, 5x up
square_crop(src, 480, 470, 50).save("pil/corner_crop.png")    # bottom-right corner, padded
src.crop((5, 7, 42, 30)).resize((61, 17), Image.BILINEAR).save("pil/mixed_61x17.png")
src.resize((97, 131), Image.BILINEAR).save("pil/down_97x131.png")
src.crop((200, 100, 201, 160)).resize((1, 140), Image.BILINEAR).save("pil/column_1x140.png")
for r, c, size in ((66, 174, 96), (64, 247, 77), (-10, -20, 60), (0, 0, 1), (3, 7, 33), (10, 11, 123)):
    cy, cx = r + size / 2, c + size / 2
    half = size * 1.4 / 2
    print(c, r, size, [int(round(cx - half)), int(round(cy - half)), int(round(cx + half)), int(round(cy + half))])

# CMYK JPEGs: a Pillow-written CMYK file (Adobe APP14 marker, transform 0, inverted samples) and a
# YCCK file (Adobe transform 2) written by the JDK's JPEG writer from a 64x48 raster of 16x16 flat
# patches (the raster is stored as YCCK samples as it is); the references are Pillow's RGB.
import numpy as np
c = np.zeros((48, 64, 4), np.uint8)
for y in range(48):
    for x in range(64):
        bx, by = x // 16, y // 16
        c[y, x] = ((bx * 60 + 20) % 256, (by * 90 + 40) % 256, ((bx + by) * 50 + 10) % 256, 255 - bx * 40 - by * 10)
Image.fromarray(c, "CMYK").save("pil/cmyk_adobe.jpg", quality=95)
Image.open("pil/cmyk_adobe.jpg").convert("RGB").save("pil/cmyk_adobe_rgb.png")
Image.open("pil/ycck_adobe.jpg").convert("RGB").save("pil/ycck_adobe_rgb.png")
