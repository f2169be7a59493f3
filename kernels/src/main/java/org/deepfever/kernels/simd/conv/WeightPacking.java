package org.deepfever.kernels.simd.conv;

import org.deepfever.core.op.Conv2d;

/**
 * Conv weights ({@code [cout][cin][kh][kw]}, mapped or on the heap, with the conv's output scale)
 * packed into the panels the register tiles read: {@code [ceil(cout/nr)][K][nr]}, element
 * {@code (pn, kk, j)} being output channel {@code pn * nr + j} (zero past cout) at K index kk, K in the
 * weights' own order or tap-major ({@code kk = tap * cin + ci}: a tap's channels contiguous, so that a
 * channel-vector tile can skip the taps that read only padding).
 *
 * <p>Each panel is written in its own order, a group of up to {@link #GROUP} output channels at a time
 * (their rows read from the tensor into a small buffer, permuted to tap-major there), so that every
 * store continues the previous one. Scattering one row at a time (a store every nr floats, the panel
 * swept once per channel) missed L1 on nearly every store: about 4 ns per weight, 60-100 ms of a warm
 * load of DeepFEVER.
 */
final class WeightPacking {
    private WeightPacking() {}

    /** Output channels packed together: a 64-byte line of panel per K index. */
    static final int GROUP = 16;

    /**
     * Packing's row buffer, kept per thread (16 rows of the largest K packed on it, 150 KB for
     * DeepFEVER): a fresh one for each of a model's convs was megabytes of garbage during a load,
     * enough to start a young collection that copied the packed weights (30 ms).
     */
    private static final ThreadLocal<float[]> BUFFER = ThreadLocal.withInitial(() -> new float[0]);

    /** The weights of {@code op} as panels of {@code nr} output channels, K in its own order or tap-major. */
    static float[] panels(Conv2d op, ConvSpec s, int nr, boolean tapMajor) {
        int cout = s.cout(), k = s.k();
        int np = (cout + nr - 1) / nr;
        float[] t = new float[Math.multiplyExact(np * nr, k)];
        int group = Math.min(nr, GROUP);
        float[] rows = buffer(group * k);
        for (int pn = 0; pn < np; pn++) {
            for (int j0 = 0; j0 < nr; j0 += group) {
                int co0 = pn * nr + j0, g = Math.min(Math.min(group, nr - j0), cout - co0);
                if (g <= 0) break; // the rest of the panel stays zero
                op.readWeightRows(co0, g, rows, 0); // (with the conv's output scale, if any)
                interleave(rows, g, k, t, pn * k * nr + j0, nr, tapMajor ? s.kh() * s.kw() : 1, tapMajor ? s.cin() : k);
            }
        }
        return t;
    }

    private static float[] buffer(int floats) {
        float[] b = BUFFER.get();
        if (b.length < floats) BUFFER.set(b = new float[floats]);
        return b;
    }

    /**
     * {@code g} rows of K floats ([chans][taps] each) into panel columns: {@code t[d + kk * nr + r] =
     * rows[r * k + c * taps + tap]} for kk = tap * chans + c (tap-major; in K's own order with one
     * "tap" of all K). A method of its own, called thousands of times during a load: compiled after the
     * first hundred calls, where a loop inside {@link #panels} would start interpreted in each of its
     * calls (one per conv) until replaced on the stack.
     */
    private static void interleave(float[] rows, int g, int k, float[] t, int d, int nr, int taps, int chans) {
        for (int tap = 0; tap < taps; tap++) {
            for (int c = 0; c < chans; c++, d += nr) {
                for (int r = 0, s = c * taps + tap; r < g; r++, s += k) t[d + r] = rows[s];
            }
        }
    }
}
