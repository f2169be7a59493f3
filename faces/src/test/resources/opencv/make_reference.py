#!/usr/bin/env python3
"""Writes opencv/detections.txt, OpenCV's own detections for FaceDetectorTest (run from
faces/src/test/resources with Debian's python3-opencv 4.6.0 and python3-pil):
    "$(command -p -v python3)" opencv/make_reference.py > opencv/detections.txt
One line per (image, scale factor, minNeighbors): every rectangle x,y,w,h, sorted; minNeighbors 0
gives the raw windows before grouping."""
import cv2, numpy as np
from PIL import Image

cascade = cv2.CascadeClassifier("../../main/resources/org/deepfever/faces/detect/lbpcascade_frontalface.xml")
images = {"messi5.jpg": "images/messi5.jpg", "astronaut.png": "images/astronaut.png",
          "two_faces.png": "images/two_faces.png", "chelsea.png": "images/chelsea.png"}  # chelsea: no face
for name, path in images.items():
    gray = cv2.cvtColor(np.asarray(Image.open(path).convert("RGB")), cv2.COLOR_RGB2GRAY)
    for sf in (1.1, 1.2):
        for mn in (0, 3, 5):
            rects = cascade.detectMultiScale(gray, scaleFactor=sf, minNeighbors=mn, minSize=(30, 30))
            rows = sorted(tuple(int(v) for v in r) for r in rects)
            print(name, sf, mn, " ".join("%d,%d,%d,%d" % r for r in rows))
