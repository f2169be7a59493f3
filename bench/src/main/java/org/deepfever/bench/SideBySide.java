package org.deepfever.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.api.DeepFever;
import org.deepfever.api.ModelInfo;
import org.deepfever.core.Tensor;
import org.deepfever.io.Npy;

/**
 * This engine against ONNX Runtime on the same .onnx file (and, optionally, this engine on the
 * matching .pth), measured interleaved so that machine noise hits both alike.
 *
 * <pre>
 * ./fever bench --model FILE.onnx [--batch B[,B..]] [--threads T[,T..]] [--pth FILE.pth | --no-pth]
 *               [--runs N] [--warmup N]
 * </pre>
 *
 * Ends with one {@code RESULT batch=B threads=T fever_ms=X onnxruntime_ms=Y ratio=X/Y} line per
 * configuration (medians per batch, ms), each followed by {@code RESULT_PTH ...} when a .pth ran too.
 * Usage errors exit with status 2.
 */
public final class SideBySide {
    private static final PrintStream out = System.out;
    private static final double TARGET_SECONDS = 15;
    private static final double WARMUP_SECONDS = 3, MAX_WARMUP_SECONDS = 30;
    private static final int MIN_RUNS = 5, MAX_RUNS = 2000, MAX_WARMUP = 200;

    private SideBySide() {}

    /** Command-line settings. */
    record Args(Path model, List<Integer> batches, List<Integer> threads, Path pth, Integer runs, Integer warmup) {}

    static final class UsageException extends Exception {
        UsageException(String message) { super(message); }
    }

    static final String USAGE = """
            usage: ./fever bench --model FILE.onnx [options]
              --model FILE.onnx    the model, run by this engine and by ONNX Runtime (required)
              --batch B[,B...]     batch sizes (default: 1,8)
              --threads T[,T...]   threads of both engines (default: 1,2)
              --pth FILE.pth       also run this engine on a checkpoint of the same weights
                                   (default: model.pth beside the .onnx, when there is one)
              --no-pth             do not run a .pth, even one beside the .onnx
              --runs N             measured runs per engine and configuration (default: ~15 s worth)
              --warmup N           warm-up runs per engine and configuration (default: ~3 s worth, >= 3)
              -h, --help           this text
            Input: input.npy beside the model when present (faces repeated to fill the batch), else
            seeded random N(0,1) data of shape [B,3,140,140].""";

    public static void main(String[] argv) {
        Locale.setDefault(Locale.ROOT);
        Args args;
        try {
            args = parse(argv);
        } catch (UsageException e) {
            if (!e.getMessage().isEmpty()) System.err.println("fever bench: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(e.getMessage().isEmpty() ? 0 : 2);
            return;
        }
        try {
            run(args);
        } catch (Exception e) {
            System.err.println("fever bench: " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }

    static Args parse(String[] argv) throws UsageException {
        Path model = null, pth = null;
        boolean noPth = false;
        List<Integer> batches = List.of(1, 8), threads = List.of(1, 2);
        Integer runs = null, warmup = null;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            switch (a) {
                case "-h", "--help" -> throw new UsageException("");
                case "--no-pth" -> noPth = true;
                case "--model", "--pth", "--batch", "--threads", "--runs", "--warmup" -> {
                    if (value == null) {
                        if (i + 1 >= argv.length) throw new UsageException(a + " needs a value");
                        value = argv[++i];
                    }
                    switch (a) {
                        case "--model" -> model = Path.of(value);
                        case "--pth" -> pth = Path.of(value);
                        case "--batch" -> batches = positiveList(a, value);
                        case "--threads" -> threads = positiveList(a, value);
                        case "--runs" -> runs = positive(a, value);
                        default -> warmup = nonNegative(a, value);
                    }
                }
                default -> throw new UsageException("unknown argument '" + argv[i] + "'");
            }
        }
        if (model == null) throw new UsageException("--model FILE.onnx is required");
        if (!Files.isRegularFile(model)) throw new UsageException("model file not found: " + model);
        if (noPth && pth != null) throw new UsageException("--pth and --no-pth contradict each other");
        if (pth != null && !Files.isRegularFile(pth)) throw new UsageException(".pth file not found: " + pth);
        if (pth == null && !noPth) {
            Path beside = model.toAbsolutePath().resolveSibling("model.pth");
            if (Files.isRegularFile(beside)) pth = beside;
        }
        return new Args(model, batches, threads, pth, runs, warmup);
    }

    private static List<Integer> positiveList(String option, String value) throws UsageException {
        LinkedHashSet<Integer> set = new LinkedHashSet<>();
        for (String p : value.split(",")) set.add(positive(option, p.trim()));
        return List.copyOf(set);
    }

    private static int positive(String option, String value) throws UsageException {
        int v = nonNegative(option, value);
        if (v < 1) throw new UsageException(option + " must be >= 1, got " + value);
        return v;
    }

    private static int nonNegative(String option, String value) throws UsageException {
        try {
            int v = Integer.parseInt(value);
            if (v < 0) throw new UsageException(option + " must not be negative, got " + value);
            return v;
        } catch (NumberFormatException e) {
            throw new UsageException(option + " needs an integer, got '" + value + "'");
        }
    }

    // ------------------------------------------------------------------------------------------

    /** One engine under test: a name and a way to run a batch. */
    interface Runner {
        String name();

        /** Runs once; returns the output named {@code features} as [B*128] floats when {@code keep}. */
        float[] run(boolean keep) throws Exception;
    }

    static void run(Args args) throws Exception {
        out.printf("fever bench: %s vs ONNX Runtime%n", args.model().toAbsolutePath());
        out.printf("java %s (%s), %d CPUs, vector species %s%n", Runtime.version(), System.getProperty("java.vm.name"),
                Runtime.getRuntime().availableProcessors(), FloatVector.SPECIES_PREFERRED);

        // Peak first, before any engine or ORT thread exists.
        TreeSet<Integer> peakThreads = new TreeSet<>(args.threads());
        peakThreads.add(1);
        Map<Integer, Double> peak = new LinkedHashMap<>();
        for (int t : peakThreads) {
            peak.put(t, fmaPeak(t, 0.3));
            out.printf("FMA peak (Vector API, %d-bit, %d thread%s): %.1f GFLOP/s%n", FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                    t, t == 1 ? "" : "s", peak.get(t));
        }

        Path dir = args.model().toAbsolutePath().getParent();
        Tensor fixtureInput = null, fixtureFeatures = null;
        Path inputNpy = dir.resolve("input.npy");
        if (Files.isRegularFile(inputNpy)) {
            Tensor t = Npy.read(inputNpy);
            if (t.rank() == 4 && t.dim(1) == 3 && t.dim(2) == DeepFever.SIZE && t.dim(3) == DeepFever.SIZE) {
                fixtureInput = t;
                Path featuresNpy = dir.resolve("features.npy");
                if (Files.isRegularFile(featuresNpy)) {
                    Tensor f = Npy.read(featuresNpy);
                    if (f.rank() == 2 && f.dim(0) == t.dim(0)) fixtureFeatures = f;
                }
                out.printf("input: %s %s (faces repeated to fill a batch)%s%n", inputNpy, t.shape(),
                        fixtureFeatures != null ? ", reference features.npy present" : "");
            } else {
                out.printf("input: %s has shape %s, not [N,3,140,140]: using random data%n", inputNpy, t.shape());
            }
        } else {
            out.println("input: seeded random N(0,1) data [B,3,140,140]");
        }

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        out.printf("ONNX Runtime %s, CPU execution provider, ALL_OPT%n", env.getVersion());
        if (args.pth() != null) out.printf("also this engine on %s%n", args.pth());

        List<String> results = new ArrayList<>();
        for (int threads : args.threads()) {
            out.printf("%n=== threads=%d ===%n", threads);
            long t0 = System.nanoTime();
            DeepFever fever = DeepFever.load(args.model(), DeepFever.Options.defaults().withThreads(threads));
            double feverLoadMs = ms(t0);
            ModelInfo info = fever.info();
            double gflopPerFace = info.gflopPerFace();
            out.printf("load: fever (.onnx) %.0f ms; %.3f GFLOP per face, %d nodes, backends %s%n", feverLoadMs, gflopPerFace,
                    info.nodes(), info.backendNodeCounts());

            t0 = System.nanoTime();
            OrtSession.SessionOptions so = new OrtSession.SessionOptions();
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.setIntraOpNumThreads(threads);
            so.setInterOpNumThreads(1);
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            // ONNX Runtime's intra-op workers busy-wait after each run by default. With the two engines
            // interleaved in one process, those spinning threads take a core from the engine measured
            // next, so 2-thread figures would measure the harness. Turning spinning off leaves ORT's own
            // times unchanged (measured: 11.6-14.5 ms at batch 1, 2 threads, either way).
            so.addConfigEntry("session.intra_op.allow_spinning", "0");
            OrtSession session = env.createSession(args.model().toAbsolutePath().toString(), so);
            double ortLoadMs = ms(t0);
            String inputName = session.getInputNames().iterator().next();
            String featuresName = session.getOutputNames().contains("features") ? "features" : session.getOutputNames().iterator().next();
            out.printf("load: onnxruntime %.0f ms (session with graph optimisation); input '%s' %s, comparing output '%s'%n",
                    ortLoadMs, inputName, describe(session.getInputInfo().get(inputName)), featuresName);

            DeepFever feverPth = null;
            if (args.pth() != null) {
                t0 = System.nanoTime();
                feverPth = DeepFever.load(args.pth(), DeepFever.Options.defaults().withThreads(threads));
                out.printf("load: fever (.pth) %.0f ms%n", ms(t0));
            }

            try {
                for (int batch : args.batches()) {
                    float[] data = inputData(batch, fixtureInput);
                    Tensor input = Tensor.of(data, batch, 3, DeepFever.SIZE, DeepFever.SIZE);
                    try (OnnxTensor ortInput = OnnxTensor.createTensor(env, FloatBuffer.wrap(data),
                            new long[] {batch, 3, DeepFever.SIZE, DeepFever.SIZE})) {
                        List<Runner> runners = new ArrayList<>();
                        runners.add(feverRunner("fever", fever, input));
                        runners.add(ortRunner(session, inputName, featuresName, ortInput));
                        if (feverPth != null) runners.add(feverRunner("fever_pth", feverPth, input));
                        double[] medians = measure(args, batch, threads, runners, gflopPerFace, peak.get(threads),
                                fixtureFeatures);
                        results.add(String.format("RESULT batch=%d threads=%d fever_ms=%.2f onnxruntime_ms=%.2f ratio=%.3f",
                                batch, threads, medians[0], medians[1], medians[0] / medians[1]));
                        if (feverPth != null) {
                            results.add(String.format("RESULT_PTH batch=%d threads=%d fever_pth_ms=%.2f", batch, threads, medians[2]));
                        }
                    }
                }
            } finally {
                fever.close();
                if (feverPth != null) feverPth.close();
                session.close();
                so.close();
            }
        }
        out.println();
        for (String r : results) out.println(r);
        out.flush();
    }

    /** Warms the runners up, checks their outputs, then measures them interleaved; returns the medians (ms per batch). */
    /** Whether the last three warm-up rounds lie within 10% of each other. */
    static boolean settled(List<Double> rounds) {
        if (rounds.size() < 3) return false;
        List<Double> last = rounds.subList(rounds.size() - 3, rounds.size());
        double lo = Collections.min(last), hi = Collections.max(last);
        return hi <= 1.1 * lo;
    }

    static double[] measure(Args args, int batch, int threads, List<Runner> runners, double gflopPerFace, double peakGflops,
                            Tensor fixtureFeatures) throws Exception {
        int n = runners.size();
        out.printf("%n--- batch=%d threads=%d ---%n", batch, threads);

        // Warm-up, interleaved too, until the JIT has settled: at least ~3 s and 3 rounds, and (up to
        // MAX_WARMUP_SECONDS) until the last three rounds are within 10% of each other; the first
        // configuration of a run otherwise measured half-compiled code. Its last rounds size the measurement.
        double[] lastMs = new double[n];
        List<Double> rounds = new ArrayList<>();
        int warm = 0;
        long warmStart = System.nanoTime();
        while (args.warmup() != null ? warm < args.warmup()
                : warm < 3 || (warm < MAX_WARMUP && (ms(warmStart) < WARMUP_SECONDS * 1e3
                        || (!settled(rounds) && ms(warmStart) < MAX_WARMUP_SECONDS * 1e3)))) {
            double round = 0;
            for (int k = 0; k < n; k++) {
                Runner r = runners.get((warm + k) % n);
                long t = System.nanoTime();
                r.run(false);
                lastMs[(warm + k) % n] = ms(t);
                round += lastMs[(warm + k) % n];
            }
            rounds.add(round);
            warm++;
        }
        out.printf("warm-up: %d runs each, %.1f s%n", warm, ms(warmStart) / 1e3);

        // Outputs: every engine against ONNX Runtime (runner 1), and against PyTorch when the fixture has it.
        float[][] features = new float[n][];
        for (int k = 0; k < n; k++) features[k] = runners.get(k).run(true);
        for (int k = 0; k < n; k++) {
            if (k == 1) continue;
            out.printf("check: %s vs onnxruntime: features max abs diff %.3g%n", runners.get(k).name(), maxAbsDiff(features[k], features[1]));
        }
        if (fixtureFeatures != null) {
            float[] ref = repeatRows(fixtureFeatures, batch);
            for (int k = 0; k < n; k++) {
                if (ref.length == features[k].length) {
                    out.printf("check: %s vs PyTorch (features.npy): max abs diff %.3g%n", runners.get(k).name(), maxAbsDiff(features[k], ref));
                }
            }
        }

        int runs;
        if (args.runs() != null) {
            runs = args.runs();
        } else {
            double round = 0;
            for (double v : lastMs) round += v;
            runs = (int) Math.max(MIN_RUNS, Math.min(MAX_RUNS, Math.ceil(TARGET_SECONDS * 1e3 / Math.max(round, 1e-3))));
        }
        double[][] times = new double[n][runs];
        long measureStart = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            // Rotate who goes first so neither engine always follows the other.
            for (int k = 0; k < n; k++) {
                int who = (i + k) % n;
                long t = System.nanoTime();
                runners.get(who).run(false);
                times[who][i] = ms(t);
            }
        }
        out.printf("measured: %d runs each, interleaved, %.1f s%n", runs, ms(measureStart) / 1e3);
        out.printf("%-12s %12s %12s %12s %12s %10s %10s%n", "engine", "median ms", "p10 ms", "p90 ms", "ms/face", "GFLOP/s", "of peak");
        double[] medians = new double[n];
        for (int k = 0; k < n; k++) {
            double[] s = times[k].clone();
            Arrays.sort(s);
            medians[k] = median(s);
            double gflops = gflopPerFace * batch / (medians[k] / 1e3);
            out.printf("%-12s %12.2f %12.2f %12.2f %12.2f %10.2f %9.1f%%%n", runners.get(k).name(), medians[k],
                    percentile(s, 0.10), percentile(s, 0.90), medians[k] / batch, gflops, 100 * gflops / peakGflops);
        }
        out.printf("fever / onnxruntime: %.3f (median per batch)%s%n", medians[0] / medians[1],
                n > 2 ? String.format(", fever_pth / onnxruntime: %.3f", medians[2] / medians[1]) : "");
        out.printf("(GFLOP/s from %.3f GFLOP per face, the direct convolutions' count: the engine's Winograd 3x3 convs do fewer"
                + " multiply-adds, so its figure can pass the FMA peak of %.1f GFLOP/s at %d thread%s)%n", gflopPerFace, peakGflops, threads,
                threads == 1 ? "" : "s");
        return medians;
    }

    static Runner feverRunner(String name, DeepFever engine, Tensor input) {
        return new Runner() {
            @Override public String name() { return name; }

            @Override
            public float[] run(boolean keep) {
                Map<String, Tensor> outs = engine.run(input);
                return keep ? outs.get("features").toFloatArray() : null;
            }
        };
    }

    static Runner ortRunner(OrtSession session, String inputName, String featuresName, OnnxTensor input) {
        Map<String, OnnxTensor> feed = Map.of(inputName, input);
        return new Runner() {
            @Override public String name() { return "onnxruntime"; }

            @Override
            public float[] run(boolean keep) throws OrtException {
                try (OrtSession.Result r = session.run(feed)) {
                    if (!keep) return null;
                    OnnxValue v = r.get(featuresName).orElseThrow();
                    FloatBuffer fb = ((OnnxTensor) v).getFloatBuffer();
                    float[] f = new float[fb.remaining()];
                    fb.get(f);
                    return f;
                }
            }
        };
    }

    // ------------------------------------------------------------------------------------------

    /**
     * Sustained FMA throughput of this machine with the Vector API: {@code threads} threads, each
     * running independent accumulator chains for about {@code seconds}, split in 3 windows aligned
     * across threads; the best window counts (the machine is shared, and the JIT may still be
     * settling). Returns GFLOP/s (an FMA is 2 flops).
     */
    static double fmaPeak(int threads, double seconds) throws Exception {
        warmFma();
        final int windows = 3;
        final long windowNs = (long) (seconds * 1e9 / windows);
        AtomicLong startNs = new AtomicLong();
        CyclicBarrier start = new CyclicBarrier(threads, () -> startNs.set(System.nanoTime()));
        long[][] chunks = new long[threads][windows];
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final long[] mine = chunks[t];
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                long t0 = startNs.get();
                float s = 0;
                for (long now; (now = System.nanoTime() - t0) < windows * windowNs; ) {
                    s += fmaChunk(CHUNK, 1.0f + s * 1e-30f);
                    mine[(int) (now / windowNs)]++;
                }
                FMA_SINK.add(s);
            }, "fma-peak-" + t);
            th.setDaemon(true);
            workers.add(th);
            th.start();
        }
        for (Thread th : workers) th.join();
        double flopsPerChunk = (double) CHUNK * ACCUMULATORS * 2 * FloatVector.SPECIES_PREFERRED.length();
        double best = 0;
        for (int w = 0; w < windows; w++) {
            long sum = 0;
            for (long[] c : chunks) sum += c[w];
            best = Math.max(best, sum * flopsPerChunk / windowNs);
        }
        return best; // flops per ns = GFLOP/s
    }

    private static final DoubleAdder FMA_SINK = new DoubleAdder();
    private static boolean fmaWarm;

    /** Runs the FMA loop until its speed stops improving (C2 has compiled it), at most ~1.5 s. */
    private static void warmFma() {
        if (fmaWarm) return;
        fmaWarm = true;
        long end = System.nanoTime() + 1_500_000_000L;
        double best = 0;
        int stale = 0;
        float s = 0;
        while (System.nanoTime() < end && stale < 5) {
            long t0 = System.nanoTime();
            long n = 0;
            while (System.nanoTime() - t0 < 20_000_000L) {
                s += fmaChunk(CHUNK, 1.0f + s * 1e-30f);
                n++;
            }
            double rate = n / (double) (System.nanoTime() - t0);
            if (rate > best * 1.02) {
                best = rate;
                stale = 0;
            } else {
                stale++;
            }
        }
        FMA_SINK.add(s);
    }

    private static final int CHUNK = 20_000;
    private static final int ACCUMULATORS = 12;

    /**
     * {@code iterations} rounds of 12 independent FMA chains (enough to cover FMA latency times
     * FMA units on current x86 and ARM cores, few enough to stay in 16 vector registers); returns a
     * value that depends on all of them.
     */
    static float fmaChunk(int iterations, float seed) {
        VectorSpecies<Float> sp = FloatVector.SPECIES_PREFERRED;
        FloatVector a = FloatVector.broadcast(sp, 0.999999f * seed), b = FloatVector.broadcast(sp, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(sp, 0.1f), c1 = FloatVector.broadcast(sp, 0.2f), c2 = FloatVector.broadcast(sp, 0.3f);
        FloatVector c3 = FloatVector.broadcast(sp, 0.4f), c4 = FloatVector.broadcast(sp, 0.5f), c5 = FloatVector.broadcast(sp, 0.6f);
        FloatVector c6 = FloatVector.broadcast(sp, 0.7f), c7 = FloatVector.broadcast(sp, 0.8f), c8 = FloatVector.broadcast(sp, 0.9f);
        FloatVector c9 = FloatVector.broadcast(sp, 1.0f), c10 = FloatVector.broadcast(sp, 1.1f), c11 = FloatVector.broadcast(sp, 1.2f);
        for (int i = 0; i < iterations; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b); c4 = c4.fma(a, b); c5 = c5.fma(a, b);
            c6 = c6.fma(a, b); c7 = c7.fma(a, b); c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    // ------------------------------------------------------------------------------------------

    static float[] inputData(int batch, Tensor fixture) {
        int per = 3 * DeepFever.SIZE * DeepFever.SIZE;
        float[] data = new float[batch * per];
        if (fixture != null) {
            float[] all = fixture.toFloatArray();
            int faces = fixture.dim(0);
            for (int i = 0; i < batch; i++) System.arraycopy(all, (i % faces) * per, data, i * per, per);
        } else {
            SplittableRandom rnd = new SplittableRandom(2024);
            for (int i = 0; i < data.length; i++) data[i] = (float) rnd.nextGaussian();
        }
        return data;
    }

    static float[] repeatRows(Tensor t, int batch) {
        int rows = t.dim(0), width = t.dim(1);
        float[] all = t.toFloatArray(), res = new float[batch * width];
        for (int i = 0; i < batch; i++) System.arraycopy(all, (i % rows) * width, res, i * width, width);
        return res;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalStateException("outputs differ in size: " + a.length + " vs " + b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(d)) return Double.NaN;
            m = Math.max(m, d);
        }
        return m;
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Linear interpolation between closest ranks. */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 1) return sorted[0];
        double pos = p * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    static String describe(NodeInfo info) {
        return info.getInfo() instanceof TensorInfo ti ? Arrays.toString(ti.getShape()) : String.valueOf(info.getInfo());
    }

    private static double ms(long startNanos) { return (System.nanoTime() - startNanos) / 1e6; }
}
