package org.deepfever.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.deepfever.api.ModelFiles;
import org.deepfever.core.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Device memory and handles are released by close: free GPU memory after a full-size model was
 * loaded, run at several batch sizes and closed is back to what it was (within 16 MiB: the
 * runtime's and the libraries' own lazily grown pools), a closed executor refuses to run, and
 * closing twice is harmless. Needs a GPU; skipped otherwise.
 */
class CudaMemoryGpuTest {
    static final long SLACK = 16L << 20;

    @Test
    void closeGivesTheMemoryBack() {
        CudaLibraries libs = Gpu.libraries();
        libs.cudart.setDevice(CudaDevice.deviceIndex());
        // a first model warms the libraries' one-time allocations (cuDNN kernels, cuBLAS workspace pools)
        try (ModelFiles.Loaded m = ModelFiles.untrainedDefault(); CudaGraphExecutor warm = Gpu.compile(m.graph(), false)) {
            warm.run(Map.of("input", Graphs.random(1, 2, 3, 140, 140)));
        }
        long before = libs.cudart.memInfo()[0];
        CudaGraphExecutor cuda;
        try (ModelFiles.Loaded m = ModelFiles.untrainedDefault()) {
            cuda = Gpu.compile(m.graph(), false);
            long loaded = libs.cudart.memInfo()[0];
            assertTrue(before - loaded >= cuda.weightBytes(), "weights are on the device: " + (before - loaded) + " bytes taken");
            for (int batch : List.of(1, 7, 64)) {
                Map<String, Tensor> out = cuda.run(Map.of("input", Graphs.random(batch, batch, 3, 140, 140)));
                assertEquals(batch, out.get("features").dim(0));
            }
            cuda.close();
        }
        long after = libs.cudart.memInfo()[0];
        assertTrue(after >= before - SLACK, "free GPU memory before load " + before + ", after close " + after);
        assertThrows(IllegalStateException.class, () -> cuda.run(Map.of("input", Graphs.random(1, 1, 3, 140, 140))));
        assertDoesNotThrow(cuda::close);
    }

    @Test
    void devicesAreListed() {
        Gpu.libraries();
        List<String> lines = new CudaDevice().describe();
        System.out.println(String.join("\n", lines));
        assertEquals("cuda: available", lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("  GPU 0: ") && l.contains("compute capability")), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("  cuDNN ")), lines.toString());
    }
}
