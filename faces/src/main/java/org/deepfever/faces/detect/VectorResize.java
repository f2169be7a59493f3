package org.deepfever.faces.detect;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vertical pass of {@link FaceDetector#resizeLinearExact} on vectors (the Panama Vector API): two
 * horizontally resampled rows blended with 16-bit fixed-point weights, rounded, clamped and narrowed
 * to bytes, {@link VectorStumps#LANES} pixels at a time; the same integer arithmetic as the scalar
 * loop it replaces (VectorStumpsTest compares whole pyramids of both, byte for byte). Used only where
 * {@link VectorSupport#AVAILABLE}.
 */
final class VectorResize {
    private VectorResize() {}

    private static final VectorSpecies<Integer> INTS = VectorStumps.INTS;
    /** As many bytes as {@link #INTS} has ints. */
    private static final VectorSpecies<Byte> BYTES = INTS.length() == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;

    /**
     * {@code dst[o + x] = min((a[x] * c0 + b[x] * c1 + 2^15) >>> 16, 255)} for {@code x} from 0 up to
     * {@code n} rounded down to a multiple of {@link VectorStumps#LANES}; returns that bound (the
     * caller does the rest).
     */
    static int vertical(int[] a, int[] b, int c0, int c1, byte[] dst, int o, int n) {
        int end = INTS.loopBound(n);
        for (int x = 0; x < end; x += INTS.length()) {
            IntVector v = IntVector.fromArray(INTS, a, x).mul(c0).add(IntVector.fromArray(INTS, b, x).mul(c1))
                    .add(1 << 15).lanewise(VectorOperators.LSHR, 16).min(255);
            v.convertShape(VectorOperators.I2B, BYTES, 0).reinterpretAsBytes().intoArray(dst, o + x);
        }
        return end;
    }
}
