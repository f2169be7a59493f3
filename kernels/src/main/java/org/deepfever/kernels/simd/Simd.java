package org.deepfever.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one vector species every SIMD kernel uses, chosen once at class initialisation (a static
 * final, so the JIT constant-folds it). {@code -Dfever.simd.bits=128|256|512} picks a width,
 * {@code -Dfever.simd.bits=0} or {@code -Dfever.simd=scalar} selects the scalar path: {@link #LANES}
 * is then 1 and {@link #loopBound} returns 0, so every loop runs entirely in its scalar tail.
 */
public final class Simd {
    private Simd() {}

    /** True when the scalar path is selected. */
    public static final boolean SCALAR;
    /** The species (meaningful only when not {@link #SCALAR}). */
    public static final VectorSpecies<Float> SPECIES;
    /** Floats per vector; 1 on the scalar path. */
    public static final int LANES;

    static {
        String mode = System.getProperty("fever.simd", "").trim();
        String bits = System.getProperty("fever.simd.bits", "").trim();
        boolean scalar = mode.equalsIgnoreCase("scalar") || bits.equals("0");
        VectorSpecies<Float> s = switch (bits) {
            case "", "0" -> FloatVector.SPECIES_PREFERRED;
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("fever.simd.bits must be 0, 128, 256 or 512, got '" + bits + "'");
        };
        if (!scalar && s.length() < 4) scalar = true; // no useful vector unit: scalar path
        SCALAR = scalar;
        SPECIES = s;
        LANES = scalar ? 1 : s.length();
    }

    /** Largest multiple of the vector length not above {@code n} (0 on the scalar path). */
    public static int loopBound(int n) { return SCALAR ? 0 : SPECIES.loopBound(n); }

    /**
     * ReLU, lane-wise: negative lanes to zero, NaN kept (as PyTorch's). A compare and a blend:
     * {@code v.max(0f)} carries Java's NaN and signed-zero rules, a six-instruction sequence on
     * AVX-512 that showed in the conv epilogues' profile.
     */
    public static FloatVector relu(FloatVector v) { return v.blend(0f, v.lt(0f)); }

    /** A description such as "256-bit (8 floats)" or "scalar". */
    public static String describe() { return SCALAR ? "scalar" : SPECIES.vectorBitSize() + "-bit (" + LANES + " floats)"; }
}
