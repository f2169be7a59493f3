package org.deepfever.faces.detect;

/**
 * An {@link LbpCascade} whose trees are all single nodes (decision stumps, as in the bundled
 * frontal-face cascade and OpenCV's {@code predictCategoricalStump}), laid out for one integral-image
 * row length: per stump its feature's 16 grid-corner offsets and its 256-bit subset side by side in
 * one array, read front to back as the window goes through the stages. Gives exactly
 * {@link LbpCascade#evaluate}'s answers (the same integer sums, the same float additions in the
 * same order); FaceDetectorTest compares the two on every window of several images.
 *
 * <p>Immutable and thread-safe.
 */
final class StumpCascade {
    /** Ints per stump in {@link #table}: 16 corner offsets, then 8 subset words. */
    static final int STRIDE = 24;

    final int[] table;
    /** Per stump: the leaf taken when its code is in the subset, then the other. */
    final float[] leaves;
    /** Per stage: the index of the stump after its last. */
    final int[] stageEnd;
    final float[] stageThreshold;

    StumpCascade(int[] table, float[] leaves, int[] stageEnd, float[] stageThreshold) {
        this.table = table;
        this.leaves = leaves;
        this.stageEnd = stageEnd;
        this.stageThreshold = stageThreshold;
    }

    /**
     * Runs the cascade on the window whose top-left corner is at index {@code p} of {@code sum}:
     * 1 when every stage passes, else minus the failing stage's index (0 when stage 0 fails), as
     * {@link LbpCascade#evaluate}.
     */
    int evaluate(int[] sum, int p) {
        int[] t = table;
        float[] lv = leaves;
        int k = 0;
        for (int si = 0; si < stageEnd.length; si++) {
            float s = 0;
            int end = stageEnd[si];
            for (; k < end; k++) {
                int o = k * STRIDE;
                int code = code(sum, p, t, o);
                s += (t[o + 16 + (code >>> 5)] & (1 << (code & 31))) != 0 ? lv[2 * k] : lv[2 * k + 1];
            }
            if (s < stageThreshold[si]) {
                return -si;
            }
        }
        return 1;
    }

    /** The LBP code of the feature whose corner offsets start at {@code t[o]}, as {@link LbpCascade#lbp}. */
    private static int code(int[] sum, int p, int[] t, int o) {
        int s0 = sum[p + t[o]], s1 = sum[p + t[o + 1]], s2 = sum[p + t[o + 2]], s3 = sum[p + t[o + 3]];
        int s4 = sum[p + t[o + 4]], s5 = sum[p + t[o + 5]], s6 = sum[p + t[o + 6]], s7 = sum[p + t[o + 7]];
        int s8 = sum[p + t[o + 8]], s9 = sum[p + t[o + 9]], s10 = sum[p + t[o + 10]], s11 = sum[p + t[o + 11]];
        int s12 = sum[p + t[o + 12]], s13 = sum[p + t[o + 13]], s14 = sum[p + t[o + 14]], s15 = sum[p + t[o + 15]];
        int c = s5 - s6 - s9 + s10;
        return (s0 - s1 - s4 + s5 >= c ? 128 : 0)
                | (s1 - s2 - s5 + s6 >= c ? 64 : 0)
                | (s2 - s3 - s6 + s7 >= c ? 32 : 0)
                | (s6 - s7 - s10 + s11 >= c ? 16 : 0)
                | (s10 - s11 - s14 + s15 >= c ? 8 : 0)
                | (s9 - s10 - s13 + s14 >= c ? 4 : 0)
                | (s8 - s9 - s12 + s13 >= c ? 2 : 0)
                | (s4 - s5 - s8 + s9 >= c ? 1 : 0);
    }
}
