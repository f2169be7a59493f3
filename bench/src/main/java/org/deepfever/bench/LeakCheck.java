package org.deepfever.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.deepfever.api.DeepFever;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceModels;

/**
 * Whether inference leaks: loads a model, warms it up, runs batch-1 inferences and samples, at 0,
 * 1/4, 1/2, 3/4 and all of them, the live objects on the heap (after a full collection) and the
 * native memory the JVM has committed (Native Memory Tracking), then prints a table and the growth
 * from the 1/4 mark to the end (the first quarter still sees the JIT compiling):
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:NativeMemoryTracking=summary \
 *      -cp fever-bench.jar org.deepfever.bench.LeakCheck [MODEL] [inferences] [warm-up] [threads]
 * </pre>
 * MODEL is what {@code fever --model} takes (default {@code face-expression}); defaults 10000
 * inferences after 1000 of warm-up on 2 threads. A leak of 1 KB per inference shows as about 7.5 MB
 * of growth over the last three quarters of 10,000.
 */
public final class LeakCheck {
    /**
     * Memory after {@code inferences} inferences, after a full GC. Numbers only: samples kept by
     * the check must not themselves grow the heap they measure.
     *
     * @param inferences inferences run so far (after the warm-up)
     * @param liveHeapKb live objects on the Java heap ({@link LiveHeap}: a full collection, the collector's fillers left out)
     * @param nonHeapKb  native memory committed outside the heap ({@link NativeMemory#nonHeapCommittedKb})
     * @param steadyKb   the same without the collector's and the JIT's categories ({@link NativeMemory#steadyCommittedKb})
     * @param mallocKb   malloc'd by the JVM and JDK code
     * @param threadKb   committed for threads (stacks and their bookkeeping)
     * @param otherKb    "Other": direct buffers and off-heap arenas
     * @param threads    live threads in the JVM
     */
    public record Sample(int inferences, long liveHeapKb, long nonHeapKb, long steadyKb, long mallocKb, long threadKb, long otherKb, int threads) {}

    private LeakCheck() {}

    /**
     * Runs {@code warmUp} inferences, then {@code inferences} more, one face each, sampling before
     * them and after each {@code inferences / parts} of them.
     *
     * @param model      the model, open
     * @param warmUp     inferences before the first sample
     * @param inferences inferences sampled over
     * @param parts      samples after the first (each after an equal share of the inferences)
     * @return {@code parts + 1} samples
     * @throws IllegalStateException when the JVM does not track native memory
     */
    public static List<Sample> run(FaceModel model, int warmUp, int inferences, int parts) {
        List<float[]> faces = faces(model.input().values(), 4);
        for (int i = 0; i < warmUp; i++) model.extract(faces.get(i % faces.size()));
        List<Sample> samples = new ArrayList<>(parts + 1);
        samples.add(sample(0));
        int done = 0;
        for (int p = 1; p <= parts; p++) {
            int until = (int) ((long) inferences * p / parts);
            for (; done < until; done++) model.extract(faces.get(done % faces.size()));
            samples.add(sample(done));
        }
        return samples;
    }

    /** Seeded faces, values uniform in [-1, 1): what the normalised inputs of every model look like. */
    private static List<float[]> faces(int values, int count) {
        SplittableRandom r = new SplittableRandom(7);
        List<float[]> faces = new ArrayList<>();
        for (int f = 0; f < count; f++) {
            float[] face = new float[values];
            for (int i = 0; i < values; i++) face[i] = (float) r.nextDouble(-1, 1);
            faces.add(face);
        }
        return faces;
    }

    /** Memory now: live heap objects (after a full collection, {@link LiveHeap}), then native memory. */
    private static Sample sample(int inferences) {
        long heap = LiveHeap.bytes();
        NativeMemory n = NativeMemory.now();
        return new Sample(inferences, heap / 1024, n.nonHeapCommittedKb(), n.steadyCommittedKb(), n.mallocKb(), n.committedKb("Thread"),
                n.committedKb("Other"), ManagementFactory.getThreadMXBean().getThreadCount());
    }

    /**
     * The table: per sample the live objects on the heap; native memory committed outside the heap, in all and
     * without the collector's and the JIT's categories ({@link NativeMemory#steadyCommittedKb}, where
     * a leak shows); malloc; the categories where an engine leak would land first (Thread: threads'
     * stacks; Other: direct buffers and off-heap arenas); live threads.
     *
     * @param samples as {@link #run} returns them
     * @return lines to print
     */
    public static List<String> table(List<Sample> samples) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "%10s %12s %15s %18s %10s %10s %9s %8s",
                "inferences", "live heap KB", "non-heap NMT KB", "without GC+JIT KB", "malloc KB", "Thread KB", "Other KB", "threads"));
        for (Sample s : samples) {
            lines.add(String.format(Locale.ROOT, "%10d %12d %15d %18d %10d %10d %9d %8d", s.inferences(), s.liveHeapKb(),
                    s.nonHeapKb(), s.steadyKb(), s.mallocKb(), s.threadKb(), s.otherKb(), s.threads()));
        }
        return lines;
    }

    /**
     * Runs the check and prints the table and the growth from the first quarter's mark to the end.
     *
     * @param args [MODEL] [inferences] [warm-up] [threads]
     * @throws IllegalStateException when the JVM was started without native memory tracking
     */
    public static void main(String[] args) {
        String name = args.length > 0 ? args[0] : FaceModels.DEFAULT;
        int inferences = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int warmUp = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        if (!NativeMemory.tracked()) {
            System.err.println("LeakCheck: start the JVM with -XX:NativeMemoryTracking=summary");
            System.exit(2);
        }
        List<Sample> samples;
        try (FaceModel model = FaceModels.load(name, DeepFever.Options.defaults().withThreads(threads))) {
            System.out.printf(Locale.ROOT, "%s, batch 1, %d threads, %d inferences after %d of warm-up, %s%n",
                    name, threads, inferences, warmUp, System.getProperty("java.vm.version"));
            samples = run(model, warmUp, inferences, 4);
        }
        table(samples).forEach(System.out::println);
        Sample from = samples.get(1), to = samples.getLast();
        int n = to.inferences() - from.inferences();
        long heap = to.liveHeapKb() - from.liveHeapKb(), steady = to.steadyKb() - from.steadyKb();
        System.out.printf(Locale.ROOT, "growth from %d to %d inferences: heap %+d KB (%+.1f bytes each), native without GC+JIT %+d KB (%+.1f bytes each); "
                        + "all non-heap native %+d KB, malloc %+d KB, threads %+d%n",
                from.inferences(), to.inferences(), heap, 1024.0 * heap / n, steady, 1024.0 * steady / n,
                to.nonHeapKb() - from.nonHeapKb(), to.mallocKb() - from.mallocKb(), to.threads() - from.threads());
    }
}
