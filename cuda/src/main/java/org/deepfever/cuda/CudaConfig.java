package org.deepfever.cuda;

import java.util.List;
import org.deepfever.core.config.Overrides;

/**
 * Every tunable of the CUDA backend, in one record, the GPU's counterpart of the SIMD kernels'
 * {@code KernelConfig}. Experiments override fields through one system property, and only through
 * it: {@code -Dfever.cuda=key=value,key=value} (keys: {@link #KEYS}), e.g.
 * {@code -Dfever.cuda=plans=4,workspaceMiB=256}. A bad key or value fails when the first model is
 * compiled for the GPU, naming the key and value. (Where the CUDA libraries are found,
 * {@code -Dfever.cuda.path}, and which GPU runs, {@code -Dfever.cuda.device}, are the device's
 * choice, not tunables.)
 *
 * @param workspaceMiB    the most cuDNN convolution workspace, MiB, also capped at a quarter of the
 *                        GPU's free memory at load; an algorithm needing more is not chosen. Default
 *                        1024 (not yet measured against other values on a GPU).
 * @param plans           the most batch-size plans (one per batch bucket, {@link BatchBuckets}) kept
 *                        compiled; the least recently used goes beyond it. Default 8 (a plan holds
 *                        its activation arena on the device).
 * @param inPlaceResidual a residual convolution writes over its residual input where nothing later
 *                        reads it, saving one activation buffer per residual block. Default false:
 *                        unmeasured on a GPU so far, so the plain buffer plan stays the default.
 */
public record CudaConfig(int workspaceMiB, int plans, boolean inPlaceResidual) {

    /** The system property, the one way to override a field (see the class comment). */
    public static final String PROPERTY = "fever.cuda";
    /** The keys {@link #PROPERTY} accepts. */
    public static final List<String> KEYS = List.of("workspaceMiB", "plans", "inPlaceResidual");

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException for a workspace under 1 MiB or over 1 TiB, or fewer than one plan
     */
    public CudaConfig {
        if (workspaceMiB < 1 || workspaceMiB > 1 << 20) throw new IllegalArgumentException(PROPERTY + ": workspaceMiB must be in 1..1048576, got " + workspaceMiB);
        if (plans < 1) throw new IllegalArgumentException(PROPERTY + ": plans must be at least 1, got " + plans);
    }

    /** The defaults (see the components). */
    public static CudaConfig defaults() { return new CudaConfig(1024, 8, false); }

    /**
     * The defaults with the overrides of {@code -Dfever.cuda}.
     *
     * @throws IllegalArgumentException when the property is malformed (naming the key and value)
     */
    public static CudaConfig current() { return defaults().with(System.getProperty(PROPERTY, "")); }

    /**
     * This config with the fields named in {@code spec} ({@code key=value,...}) replaced.
     *
     * @throws IllegalArgumentException naming the key and value for an unknown key, a missing '=', a
     *                                  repeated key or a value out of range
     */
    public CudaConfig with(String spec) {
        Overrides o = Overrides.parse(PROPERTY, spec, KEYS);
        return o.isEmpty() ? this : new CudaConfig(o.intOf("workspaceMiB", workspaceMiB), o.intOf("plans", plans),
                o.booleanOf("inPlaceResidual", inPlaceResidual));
    }

    /** The workspace limit in bytes. */
    long workspaceLimitBytes() { return (long) workspaceMiB << 20; }
}
