package org.deepfever.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the process still holds of a file, read from Linux's /proc: open descriptors
 * ({@code /proc/self/fd} links resolving to it) and mappings ({@code /proc/self/maps} lines naming
 * it). Elsewhere /proc is absent and {@link #assertReleased} checks nothing (it says so once).
 */
public final class OpenFiles {
    private static final Path FD = Path.of("/proc/self/fd"), MAPS = Path.of("/proc/self/maps");
    private static boolean warned;

    private OpenFiles() {}

    /** Whether descriptors and mappings can be counted here. */
    public static boolean supported() {
        return Files.isDirectory(FD) && Files.isReadable(MAPS);
    }

    /** Open descriptors of {@code file}. */
    public static int descriptors(Path file) throws IOException {
        Path target = file.toAbsolutePath().normalize();
        int n = 0;
        try (Stream<Path> fds = Files.list(FD)) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).equals(target)) n++;
                } catch (IOException e) {
                    // the descriptor closed while listing (e.g. the listing's own)
                }
            }
        }
        return n;
    }

    /** Memory mappings of {@code file} (one line of /proc/self/maps per mapped region). */
    public static int mappings(Path file) throws IOException {
        String target = " " + file.toAbsolutePath().normalize();
        List<String> lines = Files.readAllLines(MAPS);
        int n = 0;
        for (String l : lines) if (l.endsWith(target) || l.endsWith(target + " (deleted)")) n++;
        return n;
    }

    /** Asserts that nothing of {@code file} is open or mapped any more. */
    public static void assertReleased(Path file) throws IOException {
        if (!supported()) {
            if (!warned) System.err.println("OpenFiles: no /proc here; descriptor and mapping checks skipped");
            warned = true;
            return;
        }
        assertEquals(0, descriptors(file), file + ": descriptors still open");
        assertEquals(0, mappings(file), file + ": mappings still present");
    }
}
