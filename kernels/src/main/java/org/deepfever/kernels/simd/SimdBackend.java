package org.deepfever.kernels.simd;

import org.deepfever.core.backend.Backend;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.*;
import org.deepfever.kernels.reference.ReferenceBackend;
import org.deepfever.kernels.simd.conv.Convs;

/**
 * CPU kernels on the Panama Vector API (one species, see {@link Simd}), multi-threaded over the
 * executor's pool. Ops it does not list in {@link #supports} run on the reference backend. Convs:
 * the {@code conv} package ({@link Convs}), whose plan picks Winograd or a direct orientation per
 * shape. Tunables: {@link KernelConfig}, the one place.
 */
public final class SimdBackend implements Backend {
    private final ReferenceBackend reference = new ReferenceBackend();
    /** Null for the running backend; else the config a planning backend's convs plan for (see {@link #planning}). */
    private final KernelConfig planFor;

    /** The backend, running this JVM's kernels ({@link KernelConfig#current()}); ServiceLoader's constructor. */
    public SimdBackend() { this(null); }

    private SimdBackend(KernelConfig planFor) { this.planFor = planFor; }

    /**
     * A backend whose convs plan for {@code cfg} (e.g. {@link KernelConfig#avx2()} on an AVX-512 machine)
     * and cannot run: compile a graph with it to see the layouts and per-layer plans ({@link
     * Kernel#describe}) another machine kind would get. Its other kernels are this JVM's.
     */
    public static SimdBackend planning(KernelConfig cfg) { return new SimdBackend(java.util.Objects.requireNonNull(cfg, "cfg")); }

    @Override public String name() { return "simd"; }
    @Override public int priority() { return 10; }

    /** Whether the Vector API's incubator module is in the JVM ({@code --add-modules jdk.incubator.vector}). */
    private static final boolean VECTOR_API = vectorApiPresent();

    private static boolean vectorApiPresent() {
        try {
            Class.forName("jdk.incubator.vector.FloatVector", false, SimdBackend.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    @Override public boolean available() { return VECTOR_API; }

    @Override
    public String unavailableReason() {
        return VECTOR_API ? null : "the JVM was started without --add-modules jdk.incubator.vector, which its vector kernels need";
    }

    @Override
    public boolean supports(Op op) {
        return switch (op) {
            case Conv2d c -> Convs.supports(c);
            case DepthwiseConv2d d -> true;
            case MaxPool2d m -> true;
            case GlobalAvgPool g -> true;
            case Concat c -> c.axis() == 1;
            case Binary b -> true;
            case ResidualAdd r -> true;
            case Relu r -> true;
            case Clip c -> true;
            case BatchNorm b -> true;
            case Gemm g -> true;
            case Softmax s -> true;
            case L2Normalize l -> true;
            default -> false;
        };
    }

    @Override
    public Kernel prepare(Op op) {
        if (!supports(op)) throw new IllegalArgumentException("simd backend does not support " + op.kind());
        KernelConfig.current(); // a malformed -Dfever.kernels fails here, with its message, before any kernel class initialises
        return switch (op) {
            case Conv2d c -> planFor == null ? Convs.prepare(c) : Convs.planner(c, planFor);
            case DepthwiseConv2d d -> new DepthwiseConvKernel(d);
            case MaxPool2d m -> MaxPools.maxPool(m);
            case GlobalAvgPool g -> SimdKernels.globalAvgPool();
            case Concat c -> SimdKernels.concat1();
            case Binary b -> SimdKernels.binary(b, reference.prepare(b));
            case ResidualAdd r -> SimdKernels.residualAdd(r);
            case Relu r -> SimdKernels.relu();
            case Clip c -> SimdKernels.clip(c);
            case BatchNorm b -> SimdKernels.batchNorm(b);
            case Gemm g -> SimdKernels.gemm(g);
            case Softmax s -> SimdKernels.softmax(s);
            case L2Normalize l -> SimdKernels.l2Normalize(l);
            default -> throw new IllegalArgumentException("simd backend does not support " + op.kind());
        };
    }

    /**
     * Runs the kernel classes' initialisers, which build their vector constants (the Vector API's own
     * start-up with them).
     *
     * @throws IllegalArgumentException when {@code -Dfever.kernels} is malformed (see {@link KernelConfig#current()})
     */
    @Override
    public void preload() {
        KernelConfig.current(); // fails with the property's problem before Simd's initialiser would wrap it
        for (Class<?> c : new Class<?>[] {Simd.class, SimdKernels.class, MaxPools.class, MaxPoolChannelsLast.class, ChannelsLastOps.class, DepthwiseConvKernel.class}) {
            try {
                Class.forName(c.getName(), true, c.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e); // cannot happen: the class is at hand
            }
        }
        Convs.preload();
    }

    @Override public String toString() { return "simd[" + (planFor == null ? Simd.describe() : "planning for " + planFor.target()) + "]"; }
}
