#!/usr/bin/env python3
"""OpenCV's side of DetectBench: cv2.CascadeClassifier.detectMultiScale on one thread.

Started by org.deepfever.bench.DetectBench (which also documents the protocol):

    opencv_detect.py CASCADE.xml SCALE MIN_NEIGHBORS MIN_SIZE W1xH1:GRAY1 [W2xH2:GRAY2 ...]

Each GRAY file holds W*H 8-bit grey pixels, row-major: the Java side's own greyscale, so both
detectors see the same bytes. Then reads commands from stdin, one per line:

    boxes        one line per image: "BOXES x,y,w,h x,y,w,h ..." (detectMultiScale's result, sorted)
    run N        N detections per image, one line per image: "CPU_NS t1 t2 ... tN", the thread
                 CPU time (time.thread_time_ns) of each detection
    quit         exit

Debian's python3-opencv (OpenCV 4.6) and numpy; nothing else.
"""
import sys
import time

import cv2
import numpy as np


def main(argv):
    if len(argv) < 6:
        sys.stderr.write(__doc__)
        return 2
    cascade_file, scale, neighbors, min_size = argv[1], float(argv[2]), int(argv[3]), int(argv[4])
    cv2.setNumThreads(1)
    cascade = cv2.CascadeClassifier(cascade_file)
    if cascade.empty():
        sys.stderr.write("cannot load cascade %s\n" % cascade_file)
        return 2
    images = []
    for spec in argv[5:]:
        size, path = spec.split(":", 1)
        w, h = (int(v) for v in size.split("x"))
        images.append(np.fromfile(path, dtype=np.uint8).reshape(h, w))

    def detect(gray):
        return cascade.detectMultiScale(gray, scaleFactor=scale, minNeighbors=neighbors,
                                        minSize=(min_size, min_size))

    print("READY opencv=%s threads=%d" % (cv2.__version__, cv2.getNumThreads()), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            break
        if cmd[0] == "boxes":
            for gray in images:
                rects = sorted(tuple(int(v) for v in r) for r in detect(gray))
                print("BOXES " + " ".join("%d,%d,%d,%d" % r for r in rects), flush=True)
        elif cmd[0] == "run":
            n = int(cmd[1])
            for gray in images:
                times = []
                for _ in range(n):
                    t0 = time.thread_time_ns()
                    detect(gray)
                    times.append(time.thread_time_ns() - t0)
                print("CPU_NS " + " ".join(map(str, times)), flush=True)
        else:
            sys.stderr.write("unknown command %r\n" % line)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
