package org.deepfever.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Finds and loads the CUDA runtime, cuBLAS and cuDNN ({@link LibraryPath}, {@link CudaLibrary}) and
 * binds them ({@link Cudart}, {@link Cublas}, {@link Cudnn}). Nothing is unpacked or compiled: the
 * libraries are the machine's own (a CUDA toolkit, the distribution's packages, or a Python
 * environment's nvidia-* wheels). A probe never throws: what is missing is written down, library by
 * library, with every folder that was searched.
 */
final class CudaLibraries {
    final Cudart cudart;
    final Cublas cublas;
    final Cudnn cudnn;

    private CudaLibraries(Cudart cudart, Cublas cublas, Cudnn cudnn) {
        this.cudart = cudart;
        this.cublas = cublas;
        this.cudnn = cudnn;
    }

    /**
     * What a probe found: the bound libraries (null when one is missing), the CUDA runtime alone when
     * it loaded (to ask about the driver and devices even when another library is missing), the
     * problems in words, the notes (companion libraries that did not load), where each library came
     * from, and the search path.
     */
    record Probe(CudaLibraries libraries, Cudart cudart, List<String> problems, List<String> notes, Map<CudaLibrary, String> where,
                 LibraryPath path) {
        boolean ok() { return libraries != null; }

        /** One sentence naming each missing library, the folders searched and how to point at them. */
        String problem() {
            if (ok()) return null;
            return String.join("; ", problems) + ". Searched: " + path.describe()
                    + (path.explicit() ? "" : ", then the dynamic loader's default paths")
                    + ". Point -D" + LibraryPath.PROPERTY + "=DIR (for ./fever: FEVER_JAVA_OPTS=-D" + LibraryPath.PROPERTY
                    + "=DIR), CUDA_HOME or LD_LIBRARY_PATH at the folders that hold them";
        }
    }

    private static Probe cached;

    /** The probe for this process's search path, done once per distinct path (libraries stay loaded). */
    static synchronized Probe probe() {
        LibraryPath path = LibraryPath.system();
        if (cached == null || !cached.path().equals(path)) cached = load(path);
        return cached;
    }

    /** Looks for and loads each library on {@code path}; never throws. */
    static Probe load(LibraryPath path) {
        List<String> problems = new ArrayList<>(), notes = new ArrayList<>();
        Map<CudaLibrary, NativeLib> loaded = new EnumMap<>(CudaLibrary.class);
        Map<CudaLibrary, String> where = new EnumMap<>(CudaLibrary.class);
        for (CudaLibrary lib : CudaLibrary.values()) {
            try {
                NativeLib n = open(lib, path, notes);
                loaded.put(lib, n);
                where.put(lib, n.where());
            } catch (IllegalStateException e) {
                problems.add(e.getMessage());
            }
        }
        Cudart cudart = null;
        try {
            if (loaded.containsKey(CudaLibrary.CUDART)) cudart = new Cudart(loaded.get(CudaLibrary.CUDART));
        } catch (IllegalStateException e) {
            problems.add(e.getMessage());
        }
        if (!problems.isEmpty()) return new Probe(null, cudart, problems, notes, where, path);
        try {
            CudaLibraries libs = new CudaLibraries(cudart, new Cublas(loaded.get(CudaLibrary.CUBLAS)), new Cudnn(loaded.get(CudaLibrary.CUDNN)));
            return new Probe(libs, cudart, problems, notes, where, path);
        } catch (IllegalStateException e) {
            problems.add(e.getMessage());
            return new Probe(null, cudart, problems, notes, where, path);
        }
    }

    /**
     * The first of {@code lib}'s file names found in the search folders (folder order first, then
     * name order), its companions loaded before it; else, unless the path is explicit, by name
     * through the dynamic loader.
     *
     * @throws IllegalStateException naming the library and why it is not there
     */
    static NativeLib open(CudaLibrary lib, LibraryPath path, List<String> notes) {
        Path file = locate(lib, path);
        if (file != null) {
            for (String companion : lib.companions(file.getFileName().toString())) {
                Path c = file.resolveSibling(companion);
                if (!Files.exists(c)) continue;
                try {
                    NativeLib.open(c);
                } catch (IllegalStateException e) {
                    notes.add(e.getMessage());
                }
            }
            return NativeLib.open(file);
        }
        if (!path.explicit()) {
            for (String name : lib.files) {
                var byName = NativeLib.openByName(name);
                if (byName.isPresent()) return byName.get();
            }
        }
        throw new IllegalStateException(lib.fileChoices() + " (" + lib.title + ") not found" + (path.explicit() ? " in -D" + LibraryPath.PROPERTY : ""));
    }

    /** The file {@code lib} would be loaded from, or null when no search folder holds one of its names. */
    static Path locate(CudaLibrary lib, LibraryPath path) {
        for (LibraryPath.Dir d : path.dirs()) {
            for (String name : lib.files) {
                Path f = d.path().resolve(name);
                if (Files.exists(f)) return f;
            }
        }
        return null;
    }
}
