package org.deepfever.cli.output;

/** A detected face in image pixels (before the crop margin is added). */
public record FaceBox(int x, int y, int w, int h) {}
