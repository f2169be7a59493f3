package org.deepfever.faces.detect;

/**
 * A square face detection in image pixels: column {@code x}, row {@code y} of the top-left corner,
 * side {@code size}. {@code neighbors} is how many raw detector windows were merged into it (0 for
 * a box that did not come from grouping).
 */
public record FaceBox(int x, int y, int size, int neighbors) {

    public FaceBox {
        if (size <= 0) {
            throw new IllegalArgumentException("box size must be positive: " + size);
        }
    }

    public FaceBox(int x, int y, int size) {
        this(x, y, size, 0);
    }

    /** Intersection over union of two boxes, 0..1. */
    public double iou(FaceBox o) {
        long ix = Math.max(0, (long) Math.min(x + size, o.x + o.size) - Math.max(x, o.x));
        long iy = Math.max(0, (long) Math.min(y + size, o.y + o.size) - Math.max(y, o.y));
        double inter = (double) ix * iy;
        double union = (double) size * size + (double) o.size * o.size - inter;
        return union <= 0 ? 0 : inter / union;
    }
}
