package org.deepfever.cuda;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The folders searched for the NVIDIA libraries, in order, each with where it came from.
 * {@code -Dfever.cuda.path=DIR[:DIR...]} alone, when given (nothing else is searched then, so that
 * a user, or a test, can say exactly where the libraries are). Otherwise: {@code CUDA_HOME} and
 * {@code CUDA_PATH} (their lib64, lib and targets/x86_64-linux/lib), {@code LD_LIBRARY_PATH},
 * {@code /usr/local/cuda} then {@code /usr/local/cuda-*} (newest first), and the {@code nvidia/*}{@code /lib}
 * folders of Python environments (pip's nvidia-cudnn-cu13, nvidia-cublas and friends): the active
 * virtualenv or conda environment, the environment of each python3 on {@code PATH}, the user's
 * {@code ~/.local} and the system's. The dynamic loader's own search (ld.so.cache, /usr/lib/...)
 * comes last, by name, in {@link CudaLibraries}.
 */
record LibraryPath(List<Dir> dirs, boolean explicit) {
    /** The system property that replaces the whole search with its folders. */
    static final String PROPERTY = "fever.cuda.path";

    /** A folder to search and why it is on the list (shown when a library is missing). */
    record Dir(Path path, String origin) {
        @Override public String toString() { return path + " (" + origin + ")"; }
    }

    LibraryPath {
        dirs = List.copyOf(dirs);
    }

    /** The search path of this process (system property, environment, this machine's folders). */
    static LibraryPath system() {
        return of(System.getProperty(PROPERTY), System.getenv(), List.of(Path.of("/usr/local")),
                List.of(Path.of("/usr/local"), Path.of("/usr")), Path.of(System.getProperty("user.home", "/nonexistent")));
    }

    /**
     * The search path for these inputs (tests give their own).
     *
     * @param property the value of {@code -Dfever.cuda.path}, or null
     * @param env the environment variables
     * @param cudaParents folders whose {@code cuda} and {@code cuda-*} children are CUDA toolkits
     * @param pythonPrefixes system Python prefixes ({@code PREFIX/lib/python3*}{@code /{site,dist}-packages}, {@code PREFIX/lib/python3/dist-packages})
     * @param home the user's home folder ({@code ~/.local})
     */
    static LibraryPath of(String property, Map<String, String> env, List<Path> cudaParents, List<Path> pythonPrefixes, Path home) {
        Map<Path, Dir> dirs = new LinkedHashMap<>();
        if (property != null && !property.isBlank()) {
            for (String p : property.split(File.pathSeparator)) {
                if (!p.isBlank()) add(dirs, Path.of(p.trim()), "-D" + PROPERTY, true);
            }
            return new LibraryPath(new ArrayList<>(dirs.values()), true);
        }
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String home0 = env.get(var);
            if (home0 == null || home0.isBlank()) continue;
            Path h = Path.of(home0);
            for (String sub : List.of("lib64", "lib", "targets/x86_64-linux/lib")) add(dirs, h.resolve(sub), var, false);
        }
        String ld = env.get("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String p : ld.split(File.pathSeparator)) if (!p.isBlank()) add(dirs, Path.of(p), "LD_LIBRARY_PATH", false);
        }
        for (Path parent : cudaParents) {
            for (Path toolkit : toolkits(parent)) {
                for (String sub : List.of("lib64", "targets/x86_64-linux/lib")) add(dirs, toolkit.resolve(sub), parent.resolve("cuda*").toString(), false);
            }
        }
        for (Path site : sitePackages(env, pythonPrefixes, home)) {
            for (Path lib : nvidiaLibs(site)) add(dirs, lib, "python site-packages", false);
        }
        return new LibraryPath(new ArrayList<>(dirs.values()), false);
    }

    private static void add(Map<Path, Dir> dirs, Path p, String origin, boolean keepMissing) {
        Path n = p.toAbsolutePath().normalize();
        if (!keepMissing && !Files.isDirectory(n)) return;
        dirs.putIfAbsent(n, new Dir(n, origin));
    }

    /** {@code parent/cuda} first (the usual symlink to the default toolkit), then {@code cuda-*}, newest version first. */
    static List<Path> toolkits(Path parent) {
        List<Path> out = new ArrayList<>();
        if (Files.isDirectory(parent.resolve("cuda"))) out.add(parent.resolve("cuda"));
        out.addAll(children(parent, "cuda-").stream().sorted(Comparator.comparing((Path p) -> versionKey(p.getFileName().toString())).reversed()).toList());
        return out;
    }

    /** "cuda-12.10" sorts after "cuda-12.9": each number compared as a number, zero-padded. */
    private static String versionKey(String name) {
        StringBuilder b = new StringBuilder();
        for (String part : name.substring(name.indexOf('-') + 1).split("\\.")) {
            b.append(part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? String.format("%08d", Long.parseLong(part)) : part).append('.');
        }
        return b.toString();
    }

    /** Candidate site-packages folders, in the order described above; only those that exist. */
    static List<Path> sitePackages(Map<String, String> env, List<Path> pythonPrefixes, Path home) {
        List<Path> prefixes = new ArrayList<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) prefixes.add(Path.of(v));
        }
        String path = env.get("PATH");
        if (path != null) {
            for (String p : path.split(File.pathSeparator)) {
                if (p.isBlank()) continue;
                Path bin = Path.of(p);
                if (Files.exists(bin.resolve("python3")) && bin.getParent() != null) prefixes.add(bin.getParent());
            }
        }
        prefixes.add(home.resolve(".local"));
        prefixes.addAll(pythonPrefixes);
        List<Path> out = new ArrayList<>();
        for (Path prefix : prefixes) {
            for (Path py : children(prefix.resolve("lib"), "python3")) {
                for (String sub : List.of("site-packages", "dist-packages")) {
                    Path site = py.resolve(sub);
                    if (Files.isDirectory(site) && !out.contains(site)) out.add(site);
                }
            }
        }
        return out;
    }

    /** {@code site/nvidia/*}{@code /lib}, sorted by name. */
    static List<Path> nvidiaLibs(Path site) {
        List<Path> out = new ArrayList<>();
        for (Path pkg : children(site.resolve("nvidia"), "")) {
            if (Files.isDirectory(pkg.resolve("lib"))) out.add(pkg.resolve("lib"));
        }
        return out;
    }

    /** Sub-folders of {@code dir} whose names start with {@code prefix}, sorted by name; none if {@code dir} cannot be read. */
    private static List<Path> children(Path dir, String prefix) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
        } catch (IOException | SecurityException e) {
            return List.of();
        }
    }

    /** One line per folder, for messages. */
    String describe() {
        if (dirs.isEmpty()) return "(no folder: none of CUDA_HOME, CUDA_PATH, LD_LIBRARY_PATH, /usr/local/cuda*, Python nvidia/*/lib exists)";
        StringBuilder b = new StringBuilder();
        for (Dir d : dirs) b.append(b.isEmpty() ? "" : ", ").append(d).append(Files.isDirectory(d.path()) ? "" : " [does not exist]");
        return b.toString();
    }
}
