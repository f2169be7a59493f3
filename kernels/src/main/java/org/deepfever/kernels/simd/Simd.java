package org.deepfever.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.Vector;
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
    /**
     * The species' vector class ({@code SPECIES.vectorType()}), for {@code (FloatVector) VECTOR.cast(acc)}
     * on a loop's accumulator where it is an operation's argument rather than its receiver (the
     * {@code c} of {@code a.fma(b, c)}). C2 turns a Vector API call into a vector instruction only when
     * it can see each argument's exact vector class; it expands the calls late and in varying order,
     * and an accumulator is a loop phi whose class comes from the very FMA that needs it, so now and
     * then every FMA of a kernel stays a call that boxes its vectors, for the rest of the run (5x
     * slower: JDK 25 does not retry). The cast, a constant class check done while parsing, gives the
     * phi its exact class up front and costs nothing once compiled. Measured: 4 of 21 runs of 1000
     * crops stayed slow before it (a conv tile's FMAs left as calls), 0 of 16 after; under
     * {@code -XX:+StressIncrementalInlining}, which shuffles that order, 1 of 4 runs of 200 crops
     * against 0 of 10.
     */
    public static final Class<? extends Vector<Float>> VECTOR;

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
        VECTOR = SPECIES.vectorType();
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
