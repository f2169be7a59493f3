package org.deepfever.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Probing with libraries missing, broken, or (where this machine has a CUDA toolkit's runtime, as
 * the development machine's /usr/local/cuda) really there: the CUDA runtime binding is exercised on
 * calls that need no GPU.
 */
class CudaLibrariesTest {
    @TempDir Path tmp;

    private static LibraryPath explicit(Path... dirs) {
        return LibraryPath.of(String.join(java.io.File.pathSeparator, java.util.Arrays.stream(dirs).map(Path::toString).toList()),
                Map.of(), List.of(), List.of(), Path.of("/nonexistent"));
    }

    @Test
    void emptyFolderNamesEveryLibraryAndTheFolder() {
        CudaLibraries.Probe p = CudaLibraries.load(explicit(tmp));
        assertFalse(p.ok());
        assertNull(p.cudart());
        String why = p.problem();
        for (String lib : List.of("libcudart.so.13 or libcudart.so.12 (CUDA runtime) not found", "libcublas.so.13 or libcublas.so.12 (cuBLAS) not found",
                "libcudnn.so.9 or libcudnn.so.8 (cuDNN) not found")) {
            assertTrue(why.contains(lib), why);
        }
        assertTrue(why.contains(tmp.toString()) && why.contains("-Dfever.cuda.path"), why);
        assertFalse(why.contains("dynamic loader"), "an explicit path is not followed by the loader's search: " + why);
    }

    @Test
    void brokenFileSaysWhyTheLoaderRefusedIt() throws Exception {
        Files.writeString(tmp.resolve("libcudart.so.13"), "not an ELF file");
        CudaLibraries.Probe p = CudaLibraries.load(explicit(tmp));
        assertFalse(p.ok());
        String why = p.problem();
        assertTrue(why.contains("cannot load " + tmp.resolve("libcudart.so.13")), why);
        // glibc says "invalid ELF header" or "file too short"
        assertTrue(why.contains("ELF") || why.contains("too short"), why);
    }

    @Test
    void deviceStatusNamesTheMissingLibraries() {
        CudaDevice.Status s = CudaDevice.status(CudaLibraries.load(explicit(tmp)));
        assertNotNull(s.reason());
        assertTrue(s.reason().contains("libcudnn.so.9"), s.reason());
        assertEquals(0, s.deviceCount());
    }

    /** The CUDA runtime of a toolkit on this machine, if there is one (the development machine has /usr/local/cuda, no GPU). */
    private static Path toolkitRuntime() {
        for (Path toolkit : LibraryPath.toolkits(Path.of("/usr/local"))) {
            for (String name : CudaLibrary.CUDART.files) {
                Path f = toolkit.resolve("lib64").resolve(name);
                if (Files.exists(f)) return f;
            }
        }
        return null;
    }

    @Test
    void realRuntimeAnswersWithoutAGpu() {
        Path rt = toolkitRuntime();
        assumeTrue(rt != null, "no CUDA toolkit runtime under /usr/local/cuda*: nothing to bind here");
        CudaLibraries.Probe p = CudaLibraries.load(explicit(rt.getParent()));
        assertNotNull(p.cudart(), "the runtime itself loads: " + p.problems());
        Cudart cuda = p.cudart();
        int version = cuda.runtimeVersion();
        assertTrue(version >= 12000, "runtime version " + version);
        assertEquals("cudaErrorNoDevice: no CUDA-capable device is detected", cuda.errorText(100));
        assertTrue(cuda.errorText(35).startsWith("cudaErrorInsufficientDriver: "), cuda.errorText(35));
        int[] count = cuda.deviceCountStatus();
        if (count[0] != 0) {
            CudaException e = assertThrows(CudaException.class, () -> cuda.check("cudaGetDeviceCount", count[0]));
            assertTrue(e.getMessage().startsWith("cudaGetDeviceCount failed: cudaError"), e.getMessage());
            assertEquals(count[0], e.status());
            CudaDevice.Status s = CudaDevice.status(p);
            assertTrue(s.reason().contains("no usable GPU: cudaGetDeviceCount failed with cudaError"), s.reason());
        }
    }
}
