package org.deepfever.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one vector species every SIMD kernel uses, chosen once at class initialisation (a static
 * final, so the JIT constant-folds it) from {@link KernelConfig#current()}: the JVM's preferred
 * width unless {@code -Dfever.kernels=bits=128|256|512} picks another; {@code bits=0} selects the
 * scalar path: {@link #LANES} is then 1 and {@link #loopBound} returns 0, so every loop runs
 * entirely in its scalar tail.
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
        KernelConfig c = KernelConfig.current();
        SCALAR = c.scalar();
        SPECIES = switch (c.bits()) {
            case 128 -> FloatVector.SPECIES_128;
            case 256 -> FloatVector.SPECIES_256;
            case 512 -> FloatVector.SPECIES_512;
            default -> FloatVector.SPECIES_PREFERRED; // scalar: unused
        };
        LANES = c.lanes();
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
