package org.deepfever.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.TreeSet;

/**
 * Making broken files from good ones (truncations, bit flips) and checking how a reader fails on
 * them: one {@link ModelFormatException} that names the file and says what is wrong, with nothing
 * of the file left open or mapped afterwards.
 */
public final class BrokenFiles {
    private BrokenFiles() {}

    /** A reader or loader of one file; whatever it returns is closed by the checks. */
    public interface Open {
        AutoCloseable open(Path file) throws Exception;
    }

    /**
     * Where to cut a file of {@code size} bytes: every offset below 64 (magic numbers, headers,
     * length fields), {@code spread} offsets spaced through the rest, the last 64 (trailers such as
     * zip's central directory), and {@code random} more from a fixed seed.
     */
    public static long[] truncations(long size, int spread, int random) {
        TreeSet<Long> at = new TreeSet<>();
        for (long i = 0; i < Math.min(64, size); i++) at.add(i);
        for (int i = 1; i <= spread; i++) at.add(size * i / (spread + 1));
        for (long i = Math.max(0, size - 64); i < size; i++) at.add(i);
        Random r = new Random(20);
        for (int i = 0; i < random; i++) at.add((long) (r.nextDouble() * size));
        at.removeIf(x -> x >= size);
        return at.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Asserts that {@code golden} cut at every offset of {@link #truncations truncations(size, 40, 20)},
     * written to {@code scratch}, is refused as {@link #assertRefused} says.
     */
    public static void assertEveryTruncationRefused(Path golden, Path scratch, Open open) throws IOException {
        byte[] all = Files.readAllBytes(golden);
        for (long n : truncations(all.length, 40, 20)) assertRefused(writePrefix(all, n, scratch), open);
    }

    /** Writes the first {@code n} bytes of {@code all} to {@code dst}. */
    public static Path writePrefix(byte[] all, long n, Path dst) throws IOException {
        try (FileChannel ch = FileChannel.open(dst, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(all, 0, (int) n);
            while (b.hasRemaining()) ch.write(b);
        }
        return dst;
    }

    /** A copy of {@code all} with {@code flips} random bits flipped within [from, to). */
    public static byte[] flipBits(byte[] all, Random r, int flips, int from, int to) {
        byte[] out = all.clone();
        for (int i = 0; i < flips; i++) {
            int at = from + r.nextInt(to - from);
            out[at] ^= (byte) (1 << r.nextInt(8));
        }
        return out;
    }

    /**
     * Asserts that opening {@code file} fails with one ModelFormatException for that file whose
     * message contains every fragment, and that nothing of the file stays open or mapped.
     */
    public static ModelFormatException assertRefused(Path file, Open open, String... fragments) throws IOException {
        ModelFormatException e = null;
        try (AutoCloseable c = open.open(file)) {
            fail(file + ": expected a ModelFormatException, but it loaded");
        } catch (ModelFormatException x) {
            e = x;
        } catch (Exception x) {
            throw new AssertionError(file + ": expected a ModelFormatException, got " + x, x);
        }
        assertNamesFile(e, file);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "expected \"" + f + "\" in: " + e.getMessage());
        OpenFiles.assertReleased(file);
        return e;
    }

    /** Asserts that {@code file} either loads (then is closed) or fails as {@link #assertRefused} requires; true if it loaded. */
    public static boolean assertLoadsOrRefused(Path file, Open open) throws IOException {
        boolean loaded;
        try (AutoCloseable c = open.open(file)) {
            loaded = true;
        } catch (ModelFormatException x) {
            assertNamesFile(x, file);
            loaded = false;
        } catch (Exception x) {
            throw new AssertionError(file + ": expected a load or a ModelFormatException, got " + x, x);
        }
        OpenFiles.assertReleased(file);
        return loaded;
    }

    /** The exception is about {@code file}: its file, and a message starting with the path. */
    public static void assertNamesFile(ModelFormatException e, Path file) {
        assertEquals(file, e.file(), "the exception's file");
        assertTrue(e.getMessage().startsWith(file + ": "), "message should start with the file: " + e.getMessage());
    }
}
