package org.deepfever.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The search path and where each library is found, on folder trees made here (no NVIDIA library needed). */
class LibraryPathTest {
    @TempDir Path tmp;

    private Path dir(String rel) throws IOException {
        return Files.createDirectories(tmp.resolve(rel));
    }

    private static void touch(Path dir, String... files) throws IOException {
        for (String f : files) Files.writeString(dir.resolve(f), "not a library");
    }

    private LibraryPath search(String property, Map<String, String> env) {
        return LibraryPath.of(property, env, List.of(tmp.resolve("usr-local")), List.of(tmp.resolve("usr")), tmp.resolve("home"));
    }

    @Test
    void propertyReplacesEverySearchAndKeepsMissingFolders() throws IOException {
        Path a = dir("a");
        Path cudaHome = dir("cuda-home/lib64");
        LibraryPath p = search(a + java.io.File.pathSeparator + tmp.resolve("missing"), Map.of("CUDA_HOME", cudaHome.getParent().toString()));
        assertTrue(p.explicit());
        assertEquals(List.of(a, tmp.resolve("missing")), p.dirs().stream().map(LibraryPath.Dir::path).toList());
        assertTrue(p.describe().contains("[does not exist]"), p.describe());
        assertTrue(p.describe().contains("-Dfever.cuda.path"), p.describe());
    }

    @Test
    void orderIsCudaHomeThenLdLibraryPathThenToolkitsThenPython() throws IOException {
        Path home = dir("cuda-home/lib64");
        Path ld = dir("ld");
        Path usrCuda = dir("usr-local/cuda/lib64");
        Path cuda129 = dir("usr-local/cuda-12.9/lib64");
        Path cuda1210 = dir("usr-local/cuda-12.10/lib64");
        Path venv = dir("venv/lib/python3.12/site-packages/nvidia/cudnn/lib");
        Path venvBlas = dir("venv/lib/python3.12/site-packages/nvidia/cublas/lib");
        Path pathPy = dir("opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib");
        Files.createDirectories(tmp.resolve("opt/torch/.venv/bin"));
        Files.writeString(tmp.resolve("opt/torch/.venv/bin/python3"), "");
        Path userSite = dir("home/.local/lib/python3.11/site-packages/nvidia/cudnn/lib");
        Path system = dir("usr/lib/python3.11/dist-packages/nvidia/cudnn/lib");
        LibraryPath p = search(null, Map.of("CUDA_HOME", tmp.resolve("cuda-home").toString(), "LD_LIBRARY_PATH", ld + ":" + ld,
                "VIRTUAL_ENV", tmp.resolve("venv").toString(), "PATH", tmp.resolve("opt/torch/.venv/bin") + ":/nonexistent"));
        assertFalse(p.explicit());
        assertEquals(List.of(home, ld, usrCuda, cuda1210, cuda129, venvBlas, venv, pathPy, userSite, system),
                p.dirs().stream().map(LibraryPath.Dir::path).toList());
        assertEquals("CUDA_HOME", p.dirs().get(0).origin());
        assertEquals("python site-packages", p.dirs().get(6).origin());
    }

    @Test
    void firstFolderWinsThenNewestName() throws IOException {
        Path first = dir("first");
        Path second = dir("second");
        touch(first, "libcudart.so.12");
        touch(second, "libcudart.so.13", "libcudart.so.12");
        LibraryPath p = search(first + ":" + second, Map.of());
        assertEquals(first.resolve("libcudart.so.12"), CudaLibraries.locate(CudaLibrary.CUDART, p));
        touch(first, "libcudart.so.13");
        assertEquals(first.resolve("libcudart.so.13"), CudaLibraries.locate(CudaLibrary.CUDART, p));
    }

    @Test
    void pythonWheelLayoutIsFound() throws IOException {
        Path lib = dir("venv/lib/python3.12/site-packages/nvidia/cudnn/lib");
        touch(lib, "libcudnn.so.9", "libcudnn_ops.so.9");
        LibraryPath p = search(null, Map.of("VIRTUAL_ENV", tmp.resolve("venv").toString()));
        assertEquals(lib.resolve("libcudnn.so.9"), CudaLibraries.locate(CudaLibrary.CUDNN, p));
        assertEquals(null, CudaLibraries.locate(CudaLibrary.CUBLAS, p));
    }

    @Test
    void companionsMatchTheMajorVersion() {
        assertEquals(List.of("libcublasLt.so.13"), CudaLibrary.CUBLAS.companions("libcublas.so.13"));
        assertEquals(List.of("libcublasLt.so.12"), CudaLibrary.CUBLAS.companions("libcublas.so.12"));
        assertTrue(CudaLibrary.CUDNN.companions("libcudnn.so.9").containsAll(List.of("libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_graph.so.9")));
        assertEquals(List.of("libcudnn_ops_infer.so.8", "libcudnn_cnn_infer.so.8"), CudaLibrary.CUDNN.companions("libcudnn.so.8"));
        assertEquals(List.of(), CudaLibrary.CUDART.companions("libcudart.so.13"));
    }
}
