package org.deepfever.faces.detect;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.kernels.simd.KernelConfig;

/**
 * A {@link StumpCascade} run on a row of adjacent windows at once, one window per vector lane (the
 * Panama Vector API): each of a stump's 16 corner sums is one contiguous load for all the lanes, the
 * LBP code is built with lane-wise compares, its subset word picked by a lane permute. The lanes of a
 * chunk go through the stages together until none is left in the running. The same integer sums and
 * the same float additions in the same order as {@link StumpCascade#evaluate}, so the same answers
 * (VectorStumpsTest compares them on every window of photos, noise and awkward widths).
 *
 * <p>Used only where {@link VectorSupport#AVAILABLE}: the incubator module is there and the vectors
 * hold at least 8 ints (a subset's 8 words must fit one vector for the permute); its width is the
 * kernels' ({@code -Dfever.kernels=bits=256} or {@code 512}; {@code bits=0} or {@code 128} leave the
 * detector on its scalar path). Immutable and thread-safe.
 */
final class VectorStumps {

    /** The kernels' width: 512 or 256 bits. */
    static final VectorSpecies<Integer> INTS =
            KernelConfig.current().bits() == 512 ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
    /** As many floats as {@link #INTS} has ints: a stage's sums, one per window. */
    private static final VectorSpecies<Float> FLOATS = INTS.length() == 16 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    /** Windows per chunk. */
    static final int LANES = INTS.length();

    /** The cascade run, laid out for the integral image's rows. */
    private final StumpCascade cascade;
    /** Per stump, {@link #LANES} ints: its 8 subset words, then zeros. */
    private final int[] subsets;

    VectorStumps(StumpCascade cascade) {
        this.cascade = cascade;
        int n = cascade.leaves.length / 2;
        subsets = new int[n * LANES];
        for (int k = 0; k < n; k++) {
            System.arraycopy(cascade.table, k * StumpCascade.STRIDE + 16, subsets, k * LANES, 8);
        }
    }

    /**
     * {@link StumpCascade#evaluate}'s result for each of the {@code n} windows whose top-left corners
     * are at {@code p, p + 1, ..., p + n - 1} of {@code sum} (in the layout the cascade was made
     * for), into {@code results[0..n)}: 1 when the window passes every stage, else minus the failing
     * stage's index.
     *
     * <p>Reads up to {@code LANES - 1} ints past the last window's bottom-right corner: {@code sum}
     * must hold them (their values do not matter), and {@code results} must hold {@code n} rounded
     * up to a multiple of {@link #LANES}.
     */
    void evaluate(int[] sum, int p, int n, int[] results) {
        // one method, the stump's code written out in the loop: a vector passed to or returned from a
        // call the JIT does not inline is a heap object (measured: 22 MB allocated per detection)
        int[] t = cascade.table;
        float[] lv = cascade.leaves;
        float[] thresholds = cascade.stageThreshold;
        int[] stageEnd = cascade.stageEnd;
        int stages = stageEnd.length;
        for (int i = 0; i < n; i += LANES) {
            int q = p + i;
            VectorMask<Integer> alive = INTS.indexInRange(i, n);
            IntVector st = IntVector.zero(INTS);
            int k = 0;
            for (int si = 0; si < stages; si++) {
                FloatVector s = FloatVector.zero(FLOATS);
                for (int end = stageEnd[si]; k < end; k++) {
                    int o = k * StumpCascade.STRIDE;
                    // the 4 x 4 grid corners, row by row
                    IntVector s0 = IntVector.fromArray(INTS, sum, q + t[o]), s1 = IntVector.fromArray(INTS, sum, q + t[o + 1]);
                    IntVector s2 = IntVector.fromArray(INTS, sum, q + t[o + 2]), s3 = IntVector.fromArray(INTS, sum, q + t[o + 3]);
                    IntVector s4 = IntVector.fromArray(INTS, sum, q + t[o + 4]), s5 = IntVector.fromArray(INTS, sum, q + t[o + 5]);
                    IntVector s6 = IntVector.fromArray(INTS, sum, q + t[o + 6]), s7 = IntVector.fromArray(INTS, sum, q + t[o + 7]);
                    IntVector s8 = IntVector.fromArray(INTS, sum, q + t[o + 8]), s9 = IntVector.fromArray(INTS, sum, q + t[o + 9]);
                    IntVector s10 = IntVector.fromArray(INTS, sum, q + t[o + 10]), s11 = IntVector.fromArray(INTS, sum, q + t[o + 11]);
                    IntVector s12 = IntVector.fromArray(INTS, sum, q + t[o + 12]), s13 = IntVector.fromArray(INTS, sum, q + t[o + 13]);
                    IntVector s14 = IntVector.fromArray(INTS, sum, q + t[o + 14]), s15 = IntVector.fromArray(INTS, sum, q + t[o + 15]);
                    // column strips of each block row, then blocks: s0 - s1 - s4 + s5 = (s0 - s4) - (s1 - s5), exact in ints
                    IntVector a0 = s0.sub(s4), a1 = s1.sub(s5), a2 = s2.sub(s6), a3 = s3.sub(s7);
                    IntVector b0 = s4.sub(s8), b1 = s5.sub(s9), b2 = s6.sub(s10), b3 = s7.sub(s11);
                    IntVector c0 = s8.sub(s12), c1 = s9.sub(s13), c2 = s10.sub(s14), c3 = s11.sub(s15);
                    IntVector centre = b1.sub(b2);
                    IntVector code = IntVector.zero(INTS)
                            .lanewise(VectorOperators.OR, 128, a0.sub(a1).compare(VectorOperators.GE, centre)) // block 0
                            .lanewise(VectorOperators.OR, 64, a1.sub(a2).compare(VectorOperators.GE, centre))  // block 1
                            .lanewise(VectorOperators.OR, 32, a2.sub(a3).compare(VectorOperators.GE, centre))  // block 2
                            .lanewise(VectorOperators.OR, 16, b2.sub(b3).compare(VectorOperators.GE, centre))  // block 5
                            .lanewise(VectorOperators.OR, 8, c2.sub(c3).compare(VectorOperators.GE, centre))   // block 8
                            .lanewise(VectorOperators.OR, 4, c1.sub(c2).compare(VectorOperators.GE, centre))   // block 7
                            .lanewise(VectorOperators.OR, 2, c0.sub(c1).compare(VectorOperators.GE, centre))   // block 6
                            .lanewise(VectorOperators.OR, 1, b0.sub(b1).compare(VectorOperators.GE, centre));  // block 3
                    IntVector word = code.lanewise(VectorOperators.LSHR, 5).selectFrom(IntVector.fromArray(INTS, subsets, k * LANES));
                    // bit (code & 31) of the word to the sign bit: shift counts are taken mod 32, ~code & 31 = 31 - (code & 31)
                    VectorMask<Integer> inSubset = word.lanewise(VectorOperators.LSHL, code.not()).compare(VectorOperators.LT, 0);
                    s = s.add(FloatVector.broadcast(FLOATS, lv[2 * k + 1]).blend(lv[2 * k], inSubset.cast(FLOATS)));
                }
                VectorMask<Integer> fail = s.compare(VectorOperators.LT, thresholds[si]).cast(INTS);
                st = st.blend(-si, fail.and(alive));
                alive = alive.andNot(fail);
                if (!alive.anyTrue()) {
                    break;
                }
            }
            st.blend(1, alive).intoArray(results, i);
        }
    }
}
