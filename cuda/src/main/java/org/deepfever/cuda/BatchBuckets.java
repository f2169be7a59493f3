package org.deepfever.cuda;

/**
 * The batch size a run of {@code n} items is planned for: powers of two up to 256, then multiples
 * of 256. Each planned size costs cuDNN algorithm searches and descriptors; rounding up keeps the
 * number of plans small when batch sizes vary (the last, partial batch of every window of
 * {@code fever extract}). The rows past {@code n} are zeros and their results are dropped.
 */
final class BatchBuckets {
    static final int STEP = 256;

    private BatchBuckets() {}

    /** @throws IllegalArgumentException when {@code n < 1} */
    static int bucket(int n) {
        if (n < 1) throw new IllegalArgumentException("batch must be >= 1, got " + n);
        if (n <= STEP) return Integer.highestOneBit(n) == n ? n : Integer.highestOneBit(n) << 1;
        return Math.ceilDiv(n, STEP) * STEP;
    }
}
