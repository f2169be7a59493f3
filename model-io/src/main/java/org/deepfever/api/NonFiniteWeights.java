package org.deepfever.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Storage;
import org.deepfever.core.Tensor;

/**
 * Looks for NaN and infinity in a model's weights when it loads, and warns about each tensor that
 * holds any (System.Logger {@code org.deepfever}, level WARNING): such a model loads and runs, but
 * its outputs come out NaN or meaningless, and the warning names the tensor to look at. One pass
 * over the weights, reading them a block at a time (no copy of a whole tensor).
 */
final class NonFiniteWeights {
    private static final System.Logger LOG = System.getLogger("org.deepfever");
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int EXPONENT = 0x7f800000;
    private static final int BLOCK = 4096;

    private NonFiniteWeights() {}

    /** Logs one warning per tensor holding NaN or infinity and returns the warnings, in tensor order. */
    static List<String> warn(Path file, Map<String, Tensor> tensors) {
        List<String> warnings = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long bad = count(t);
            if (bad == 0) continue;
            String msg = file + ": tensor '" + e.getKey() + "' " + t.shape() + " holds " + bad + " non-finite value" + (bad == 1 ? "" : "s")
                    + " (NaN or infinity) of " + t.size() + "; the model's outputs will be NaN or meaningless";
            LOG.log(System.Logger.Level.WARNING, msg);
            warnings.add(msg);
        }
        return warnings;
    }

    /**
     * NaNs and infinities in {@code t}: elements whose exponent bits are all ones. Read a block at a
     * time, each block counted by a small method: a model loads in a fresh JVM, and a small method
     * called a few thousand times is compiled within the first blocks, where one long loop would
     * run interpreted until on-stack replacement.
     */
    static long count(Tensor t) {
        long n = t.size();
        if (n == 0) return 0;
        long bad = 0;
        if (t.storage() instanceof Storage.Segment s && t.isContiguous()) {
            MemorySegment seg = s.segment().asSlice(t.offset() * 4, n * 4);
            int[] block = new int[(int) Math.min(BLOCK, n)];
            for (long i = 0; i < n; i += BLOCK) {
                int len = (int) Math.min(BLOCK, n - i);
                MemorySegment.copy(seg, LE_INT, i * 4, block, 0, len);
                bad += countBits(block, len);
            }
        } else if (t.isHeap() && t.isContiguous()) {
            float[] a = t.array();
            int off = t.arrayOffset();
            for (long i = 0; i < n; i += BLOCK) bad += countFloats(a, off + (int) i, (int) Math.min(BLOCK, n - i));
        } else {
            float[] block = new float[(int) Math.min(BLOCK, n)];
            for (long i = 0; i < n; i += BLOCK) {
                int len = (int) Math.min(BLOCK, n - i);
                t.readFlat(i, block, 0, len);
                bad += countFloats(block, 0, len);
            }
        }
        return bad;
    }

    /**
     * Elements with an all-ones exponent, counted branch-free so that the JIT vectorises the loop:
     * {@code (bits & EXPONENT) + 0x00800000} reaches bit 31 exactly when the exponent is all ones.
     */
    private static int countBits(int[] bits, int len) {
        int bad = 0;
        for (int j = 0; j < len; j++) bad += ((bits[j] & EXPONENT) + 0x00800000) >>> 31;
        return bad;
    }

    private static int countFloats(float[] a, int from, int len) {
        int bad = 0;
        for (int j = from; j < from + len; j++) bad += ((Float.floatToRawIntBits(a[j]) & EXPONENT) + 0x00800000) >>> 31;
        return bad;
    }
}
