package org.deepfever.io;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.deepfever.core.Tensor;

/**
 * The property every reader fuzz target checks: any input either loads (and then every tensor can
 * be read in full) or fails with the project's own {@link ModelFormatException} whose message
 * starts with the file. Any other exception or Error escapes to Jazzer, which reports it as a
 * finding. Inputs are written to one scratch file per target so that the readers see a real file
 * (they memory-map it), as users' files are.
 *
 * <p>Allocation is bounded too: a reader must not allocate by a size the file merely claims (a
 * header saying "10^9 elements" in a 200-byte file). The current thread's allocation during one
 * input is measured and must stay under {@link #FIXED_ALLOWANCE} plus {@link #PER_INPUT_BYTE} per
 * input byte; the per-byte term covers what real data legitimately costs: deflate expands at most
 * 1032:1 and float16 becomes float32 (2x), with protobuf and heap copies on top.
 */
final class FuzzSupport {
    /** Allocation any input may cause regardless of its size (parsers, small tables, exception text). */
    static final long FIXED_ALLOWANCE = 32L << 20;
    /** Allocation allowed per input byte (deflate's 1032x, twice for float16 to float32, plus copies). */
    static final long PER_INPUT_BYTE = 4200;

    private static final Map<String, Path> SCRATCH = new HashMap<>();
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private FuzzSupport() {}

    /** One fuzz target's work on one input. */
    interface Target {
        void run(byte[] input) throws Exception;
    }

    /**
     * Runs the target over the seeds, the empty input and some junk once, ignoring the outcome, so
     * that one-time costs (class loading, Jazzer's instrumentation of each class as it loads,
     * static tables) are paid before any input's allocation is measured. Called from each fuzz
     * class's {@code @BeforeAll}.
     */
    static void warmUp(Iterable<byte[]> seeds, Target target) {
        java.util.List<byte[]> inputs = new java.util.ArrayList<>();
        seeds.forEach(inputs::add);
        inputs.add(new byte[0]);
        inputs.add(new byte[] {(byte) 0xff, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14});
        for (byte[] in : inputs) {
            for (int cut : new int[] {in.length, in.length / 2}) {
                try {
                    target.run(java.util.Arrays.copyOf(in, cut));
                } catch (Exception | AssertionError e) {
                    // the real run reports it
                }
            }
        }
    }

    /** Opens one input as a file. */
    interface Open<T> {
        T open(Path file) throws IOException;
    }

    /** A per-target scratch file with that suffix, rewritten for every input; deleted at exit. */
    static synchronized Path write(byte[] input, String suffix) throws IOException {
        Path p = SCRATCH.get(suffix);
        if (p == null) {
            Path dir = Files.createTempDirectory("fever-fuzz");
            dir.toFile().deleteOnExit();
            p = dir.resolve("input" + suffix);
            p.toFile().deleteOnExit();
            SCRATCH.put(suffix, p);
        }
        Files.write(p, input);
        return p;
    }

    /** Reads the input with {@code open}; on success reads every tensor, then closes the file. */
    static void weightFile(byte[] input, String suffix, Open<WeightFile> open) throws IOException {
        Path p = write(input, suffix);
        long before = allocated();
        try (WeightFile w = open.open(p)) {
            for (Tensor t : w.tensors().values()) touch(t);
        } catch (ModelFormatException e) {
            assertNamesFile(e, p);
        }
        checkAllocation(before, input.length);
    }

    /** Reads every element (a mapped slice past the file's end would fault here). */
    static double touch(Tensor t) {
        double sum = 0;
        for (float v : t.toFloatArray()) sum += v;
        return sum;
    }

    /** The exception is about {@code file}: its message starts with the file's path. */
    static void assertNamesFile(ModelFormatException e, Path file) {
        if (!file.equals(e.file()) || e.getMessage() == null || !e.getMessage().startsWith(file + ": ")) {
            throw new AssertionError("error does not name the file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Bytes the current thread has allocated so far. */
    static long allocated() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /** Fails when the current thread allocated more since {@code before} than an input of that length justifies. */
    static void checkAllocation(long before, int inputLength) {
        long used = allocated() - before;
        long allowed = FIXED_ALLOWANCE + PER_INPUT_BYTE * inputLength;
        if (used > allowed) {
            throw new AssertionError("reading a " + inputLength + "-byte input allocated " + used
                    + " bytes (allowed " + allowed + "): an allocation sized by a number the file claims?");
        }
    }
}
