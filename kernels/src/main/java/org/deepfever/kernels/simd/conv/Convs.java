package org.deepfever.kernels.simd.conv;

import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.Conv2d;
import org.deepfever.kernels.simd.KernelConfig;

/**
 * The SIMD conv kernels' entry point: which kernel a conv gets (Winograd where {@link ConvPlan} says
 * so, else the direct conv), and kernels that only plan for another machine kind. What a prepared
 * conv kernel runs per call: {@link Kernel#describe}.
 */
public final class Convs {
    private Convs() {}

    /** Whether the SIMD conv kernels handle {@code c} (groups == 1). */
    public static boolean supports(Conv2d c) { return c.groups() == 1; }

    /**
     * A kernel for {@code c} on this JVM's vector unit ({@link KernelConfig#current()}).
     *
     * @throws IllegalArgumentException for a grouped conv
     */
    public static Kernel prepare(Conv2d c) { return prepare(c, KernelConfig.current(), false); }

    /**
     * A kernel that plans {@code c} for {@code cfg} (e.g. {@link KernelConfig#avx2()} on an AVX-512
     * machine): it answers the executor's layout questions and {@link Kernel#describe}, packs no
     * weights and throws IllegalStateException if run.
     *
     * @throws IllegalArgumentException for a grouped conv
     */
    public static Kernel planner(Conv2d c, KernelConfig cfg) { return prepare(c, cfg, true); }

    private static Kernel prepare(Conv2d c, KernelConfig cfg, boolean planOnly) {
        ConvSpec s = ConvSpec.of(c);
        if (ConvPlan.winograd(s, cfg)) return new WinogradConv(c, cfg, ConvPlan.winogradPanelVectors(s.cout(), cfg), planOnly);
        return new ConvKernel(c, cfg, ConvPlan.Forced.AUTO, planOnly);
    }

    /** Initialises the kernels' classes (their vector constants), for a backend's preload. */
    public static void preload() {
        for (Class<?> c : new Class<?>[] {ConvKernel.class, WinogradConv.class, ChannelTiles.class, PixelTiles.class, InputStaging.class,
                Epilogues.class, WinogradTransforms.class}) {
            try {
                Class.forName(c.getName(), true, c.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e); // cannot happen: the class is at hand
            }
        }
    }
}
