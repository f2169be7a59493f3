package org.deepfever.cuda;

import java.util.ArrayList;
import java.util.List;
import org.deepfever.core.backend.Device;
import org.deepfever.core.exec.GraphExecutor;
import org.deepfever.core.graph.Graph;

/**
 * The cuda device: DeepFEVER on an NVIDIA GPU through the CUDA runtime, cuBLAS and cuDNN, bound with
 * java.lang.foreign (no JNI, no native code of this project). Registered for
 * {@link java.util.ServiceLoader}; chosen with {@code --device cuda} or
 * {@code DeepFever.Options.withDevice("cuda")}. {@code -Dfever.cuda.device=N} picks the GPU (default 0).
 */
public final class CudaDevice implements Device {
    /** The device's name. */
    public static final String NAME = "cuda";
    /** The system property that picks the GPU by index. */
    public static final String DEVICE_PROPERTY = "fever.cuda.device";

    /** What a probe of libraries and GPUs found; {@code reason} is null when the device can run. */
    record Status(CudaLibraries.Probe probe, int deviceCount, String reason) {}

    private static CudaLibraries.Probe lastProbe;
    private static Status lastStatus;

    /** For {@link java.util.ServiceLoader}. */
    public CudaDevice() {}

    @Override public String name() { return NAME; }

    @Override public boolean available() { return status().reason() == null; }

    @Override public String unavailableReason() { return status().reason(); }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException when the device is not available (the reason names what is
     *         missing) or a CUDA call fails while preparing (a {@link CudaException})
     * @throws UnsupportedOperationException when a convolution of the graph cannot run on the device
     */
    @Override
    public GraphExecutor compile(Graph graph, int threads) {
        Status s = status();
        if (s.reason() != null) throw new IllegalStateException("device '" + NAME + "' is not available: " + s.reason());
        return new CudaGraphExecutor(s.probe().libraries(), deviceIndex(), graph, threads, CudaConfig.current());
    }

    /** The GPU index from {@code -Dfever.cuda.device} (default 0). @throws IllegalArgumentException when it is not a number >= 0 */
    static int deviceIndex() {
        String p = System.getProperty(DEVICE_PROPERTY, "0").trim();
        try {
            int i = Integer.parseInt(p);
            if (i < 0) throw new NumberFormatException();
            return i;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + DEVICE_PROPERTY + " must be a GPU index >= 0, got '" + p + "'");
        }
    }

    /** The probe of this process's search path and what it says about devices; cached per probe. */
    static synchronized Status status() {
        CudaLibraries.Probe probe = CudaLibraries.probe();
        if (probe == lastProbe && lastStatus != null) return lastStatus;
        lastProbe = probe;
        lastStatus = status(probe);
        return lastStatus;
    }

    /** What {@code probe} means for running: every library there, a GPU present, the chosen index valid. */
    static Status status(CudaLibraries.Probe probe) {
        List<String> reasons = new ArrayList<>();
        if (!probe.ok()) reasons.add(probe.problem());
        int count = 0;
        if (probe.cudart() != null) {
            try {
                int[] st = probe.cudart().deviceCountStatus();
                count = st[1];
                if (st[0] != Cudart.SUCCESS) {
                    reasons.add("no usable GPU: cudaGetDeviceCount failed with " + probe.cudart().errorText(st[0]) + driverHint(probe.cudart()));
                } else if (count == 0) {
                    reasons.add("no GPU found (cudaGetDeviceCount returned 0)");
                } else {
                    int index = deviceIndex();
                    if (index >= count) reasons.add("-D" + DEVICE_PROPERTY + "=" + index + " but there " + (count == 1 ? "is 1 GPU" : "are " + count + " GPUs"));
                }
            } catch (RuntimeException e) {
                reasons.add("the CUDA runtime failed: " + e.getMessage());
            }
        }
        return new Status(probe, count, reasons.isEmpty() ? null : String.join("; ", reasons));
    }

    /** Says whether the NVIDIA driver's library is there at all. */
    private static String driverHint(Cudart cudart) {
        try {
            int v = cudart.driverVersion();
            if (v > 0) return " (the driver supports CUDA " + Cudart.version(v) + ", the runtime is CUDA " + Cudart.version(cudart.runtimeVersion()) + ")";
        } catch (RuntimeException e) {
            // fall through to the library check
        }
        return NativeLib.openByName("libcuda.so.1").isPresent() ? " (libcuda.so.1 loads, but reports no driver)"
                : " (no NVIDIA driver: libcuda.so.1 is not found by the dynamic loader)";
    }

    /** {@inheritDoc} */
    @Override
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        Status s;
        try {
            s = status();
        } catch (RuntimeException e) {
            return List.of(NAME + ": not available: " + e.getMessage());
        }
        lines.add(NAME + ": " + (s.reason() == null ? "available" : "not available: " + s.reason()));
        CudaLibraries.Probe p = s.probe();
        try {
            if (p.cudart() != null) {
                lines.add("  CUDA runtime " + Cudart.version(p.cudart().runtimeVersion()) + ": " + p.where().get(CudaLibrary.CUDART));
                int driver = p.cudart().driverVersion();
                lines.add("  driver: " + (driver > 0 ? "supports CUDA " + Cudart.version(driver) : "none found"));
            }
            if (p.ok()) {
                lines.add("  cuBLAS " + p.libraries().cublas.version() + ": " + p.where().get(CudaLibrary.CUBLAS));
                Cudnn dnn = p.libraries().cudnn;
                lines.add("  cuDNN " + dnn.version() + " (built for CUDA " + Cudart.version(dnn.cudartVersion()) + "): " + p.where().get(CudaLibrary.CUDNN));
            } else {
                for (CudaLibrary lib : List.of(CudaLibrary.CUBLAS, CudaLibrary.CUDNN)) {
                    if (p.where().containsKey(lib)) lines.add("  " + lib.title + ": " + p.where().get(lib));
                }
            }
            for (String note : p.notes()) lines.add("  note: " + note);
            if (p.cudart() != null) {
                for (int i = 0; i < s.deviceCount(); i++) {
                    Cudart.DeviceProps props = p.cudart().properties(i);
                    lines.add(String.format("  GPU %d: %s, %.1f GiB, compute capability %d.%d, %d multiprocessors", i, props.name(),
                            props.totalMemory() / (1024.0 * 1024 * 1024), p.cudart().attribute(Cudart.ATTR_COMPUTE_CAPABILITY_MAJOR, i),
                            p.cudart().attribute(Cudart.ATTR_COMPUTE_CAPABILITY_MINOR, i), p.cudart().attribute(Cudart.ATTR_MULTIPROCESSOR_COUNT, i)));
                }
            }
        } catch (RuntimeException e) {
            lines.add("  error while asking: " + e.getMessage());
        }
        if (!p.ok()) lines.add("  searched: " + p.path().describe());
        return lines;
    }
}
