package org.deepfever.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Backend;
import org.deepfever.core.backend.Backends;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.exec.ExecutionPlan;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.Conv2d;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The convolutions of DeepFEVER at their real shapes (full size, batch 1), one kernel at a time.
 *
 * <p>Results: the primary score is convolutions per second; the secondary {@code conv:gflop} line
 * (JMH prints it in "ops/s") is GFLOP/s = 2 * MACs per second, and each measurement iteration
 * also prints a line {@code GFLOP/s shape=... backend=... threads=... mode=...}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar bench/target/fever-bench.jar ConvBench
 * java --add-modules jdk.incubator.vector -jar bench/target/fever-bench.jar ConvBench -p shape=block17_1x7 -p threads=1
 * java --add-modules jdk.incubator.vector -jar bench/target/fever-bench.jar ConvBench -p backend=reference,simd -p shape=block35_3x3,dense_3x3
 * </pre>
 *
 * {@code mode=graph} (default) runs the conv as a one-node {@link CompiledGraph} (the engine's
 * executor: backend choice, planned arena, scratch; its output is copied out on every run, as the
 * executor does for graph outputs). {@code -p mode=kernel} runs the same prepared {@link Kernel}
 * directly on preallocated tensors, without that copy: pure kernel speed. With it,
 * {@code -p layout=channelsLast} hands the kernel channels-last input, residual and output (as the
 * executor does inside the 7x7 and 3x3 stages; fails for a conv that does not take them).
 * {@code -p flush=true} evicts the caches before each conv (by writing a 64 MB array, not timed),
 * as a whole inference leaves them: measured 2026-12-03, kernel mode, channels-last, one thread,
 * conv2b 91-95 GFLOP/s flushed vs 102 hot, conv2a 96-98 vs 105-107, close to their in-network rates.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ConvBench {

    /** One conv layer: input [1, cin, h, w], weight [cout, cin, kh, kw]. */
    public record ConvShape(String name, int cin, int h, int w, int cout, int kh, int kw, int stride,
                            int padH, int padW, boolean bias, boolean residual) {
        public Conv2d op(SplittableRandom rnd) {
            Tensor weight = BenchData.normal(rnd, (float) Math.sqrt(2.0 / (cin * kh * kw)), cout, cin, kh, kw);
            Tensor b = bias ? BenchData.normal(rnd, 0.1f, cout) : null;
            return new Conv2d(weight, b, stride, stride, padH, padW, padH, padW, 1, 1, 1, Activation.RELU, residual);
        }

        public Shape input() { return Shape.of(1, cin, h, w); }

        public int outH() { return (h + 2 * padH - kh) / stride + 1; }

        public int outW() { return (w + 2 * padW - kw) / stride + 1; }

        public long macs() { return (long) cout * outH() * outW() * cin * kh * kw; }

        public double gflop() { return 2.0 * macs() / 1e9; }
    }

    /** DeepFEVER's conv layers (Inception-ResNet-v1 up to Mixed_7a, then the reduce and dense head). */
    public static final Map<String, ConvShape> SHAPES = new LinkedHashMap<>();

    private static void shape(String name, int cin, int hw, int cout, int kh, int kw, int stride, int padH, int padW,
                              boolean bias, boolean residual) {
        SHAPES.put(name, new ConvShape(name, cin, hw, hw, cout, kh, kw, stride, padH, padW, bias, residual));
    }

    static {
        shape("stem_3x3s2", 3, 140, 32, 3, 3, 2, 0, 0, false, false);     // conv2d_1a -> 69x69
        shape("conv2a_3x3", 32, 69, 32, 3, 3, 1, 0, 0, false, false);     // conv2d_2a -> 67x67
        shape("conv2b_3x3p1", 32, 67, 64, 3, 3, 1, 1, 1, false, false);   // conv2d_2b -> 67x67
        shape("conv3b_1x1", 64, 33, 80, 1, 1, 1, 0, 0, false, false);     // conv2d_3b (after max-pool) -> 33x33
        shape("conv4a_3x3", 80, 33, 192, 3, 3, 1, 0, 0, false, false);    // conv2d_4a -> 31x31
        shape("conv4b_3x3s2", 192, 31, 256, 3, 3, 2, 0, 0, false, false); // conv2d_4b -> 15x15
        shape("block35_1x1", 256, 15, 32, 1, 1, 1, 0, 0, false, false);   // Block35 branch 1x1
        shape("block35_3x3", 32, 15, 32, 3, 3, 1, 1, 1, false, false);    // Block35 branch 3x3
        shape("mixed6a_3x3s2", 256, 15, 384, 3, 3, 2, 0, 0, false, false); // Mixed_6a branch0 -> 7x7
        shape("block17_1x1", 896, 7, 128, 1, 1, 1, 0, 0, false, false);   // Block17 branch 1x1
        shape("block17_1x7", 128, 7, 128, 1, 7, 1, 0, 3, false, false);   // Block17 1x7, pad (0,3)
        shape("block17_7x1", 128, 7, 128, 7, 1, 1, 3, 0, false, false);   // Block17 7x1, pad (3,0)
        shape("block17_up", 256, 7, 896, 1, 1, 1, 0, 0, true, true);      // Block17 closing 1x1 + bias + residual
        shape("mixed7a_3x3p1", 256, 7, 256, 3, 3, 1, 1, 1, false, false); // Mixed_7a branch 2's middle 3x3 at 7x7
        shape("mixed7a_3x3s2", 256, 7, 384, 3, 3, 2, 0, 0, false, false); // Mixed_7a branch -> 3x3
        shape("reduce_1x1", 1792, 3, 512, 1, 1, 1, 0, 0, false, false);   // head reduce 1x1 at 3x3
        shape("dense_3x3", 256, 3, 64, 3, 3, 1, 1, 1, false, false);      // DenseNet layer 3x3, growth 64
    }

    @Param({"stem_3x3s2", "conv2a_3x3", "conv2b_3x3p1", "conv3b_1x1", "conv4a_3x3", "conv4b_3x3s2",
            "block35_1x1", "block35_3x3", "mixed6a_3x3s2", "block17_1x1", "block17_1x7", "block17_7x1",
            "block17_up", "mixed7a_3x3p1", "mixed7a_3x3s2", "reduce_1x1", "dense_3x3"})
    public String shape;

    /** "simd" or "reference" (the scalar reference is slow: use it on small shapes only). */
    @Param({"simd"})
    public String backend;

    @Param({"1", "2"})
    public int threads;

    /** "graph": a one-node CompiledGraph; "kernel": the prepared kernel called directly. */
    @Param({"graph"})
    public String mode;

    /** Kernel mode only: "nchw" or "channelsLast" tensors. */
    @Param({"nchw"})
    public String layout;

    /**
     * "true": before each conv, write a 64 MB array, so that input, weights and output start outside
     * the caches, as they do inside a whole inference (the conv's time alone is measured).
     */
    @Param({"false"})
    public boolean flush;

    private ConvShape conv;
    private CompiledGraph compiled;
    private ExecutionPlan plan;
    private Map<String, Tensor> inputs;
    private Kernel kernel;
    private Tensor[] kernelInputs;
    private Tensor kernelOutput;
    private ThreadPool pool;
    private DirectContext context;
    private long iterationStart;
    private long iterationOps;

    @Setup(Level.Trial)
    public void setup() {
        conv = SHAPES.get(shape);
        if (conv == null) throw new IllegalArgumentException("unknown shape '" + shape + "'; known: " + SHAPES.keySet());
        SplittableRandom rnd = new SplittableRandom(42);
        Conv2d op = conv.op(rnd);
        Tensor x = BenchData.normal(rnd, 1f, conv.input().dims());
        Shape outShape = Shape.of(1, conv.cout(), conv.outH(), conv.outW());
        Tensor residual = conv.residual() ? BenchData.normal(rnd, 1f, outShape.dims()) : null;

        Backend preferred = Backends.byName(backend);
        if (!preferred.supports(op)) throw new IllegalStateException("backend '" + backend + "' does not support " + shape);
        if (mode.equals("graph")) {
            Graph.Builder gb = Graph.builder();
            int in = gb.input("x", conv.input());
            int out = conv.residual() ? gb.add(shape, op, in, gb.input("residual", outShape)) : gb.add(shape, op, in);
            Graph graph = gb.output("y", out).build();
            compiled = new CompiledGraph(graph, preferred, Backends.reference(), new ThreadPool(threads), true);
            String ran = compiled.backendByNode().get(shape);
            if (!ran.equalsIgnoreCase(backend)) {
                throw new IllegalStateException(shape + " runs on '" + ran + "', not on the requested backend '" + backend + "'");
            }
            inputs = conv.residual() ? Map.of("x", x, "residual", residual) : Map.of("x", x);
            plan = compiled.plan(1);
        } else if (mode.equals("kernel")) {
            kernel = preferred.prepare(op);
            kernelInputs = conv.residual() ? new Tensor[] {x, residual} : new Tensor[] {x};
            kernelOutput = Tensor.zeros(outShape.dims());
            Shape[] inShapes = conv.residual() ? new Shape[] {conv.input(), outShape} : new Shape[] {conv.input()};
            if (layout.equals("channelsLast")) {
                if (!kernel.acceptsChannelsLast(0, inShapes, outShape) || !kernel.writesChannelsLast(inShapes, outShape)) {
                    throw new IllegalStateException(shape + ": the " + backend + " kernel does not take channels-last tensors at this shape");
                }
                for (int i = 0; i < kernelInputs.length; i++) kernelInputs[i] = channelsLast(kernelInputs[i]);
                kernelOutput = channelsLast(kernelOutput);
            } else if (!layout.equals("nchw")) {
                throw new IllegalArgumentException("layout must be 'nchw' or 'channelsLast', got '" + layout + "'");
            }
            long scratch = kernel.scratchFloats(inShapes, outShape, threads);
            pool = new ThreadPool(threads);
            context = new DirectContext(pool, new float[Math.toIntExact(scratch)]);
        } else {
            throw new IllegalArgumentException("mode must be 'graph' or 'kernel', got '" + mode + "'");
        }
        System.out.printf("%n%s: input %s, weight [%d, %d, %d, %d], stride %d, pad (%d,%d)%s, %.4f GFLOP, backend %s, %d thread(s), mode %s%n",
                shape, conv.input(), conv.cout(), conv.cin(), conv.kh(), conv.kw(), conv.stride(), conv.padH(), conv.padW(),
                conv.residual() ? ", bias + residual" : "", conv.gflop(), preferred, threads, mode);
    }

    @Setup(Level.Invocation)
    public void flushCaches() {
        if (flush) BenchData.evictCaches();
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        iterationOps = 0;
        iterationStart = System.nanoTime();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        double seconds = (System.nanoTime() - iterationStart) / 1e9;
        if (iterationOps == 0 || seconds <= 0 || flush) return; // (with flush the wall time includes the flushing)
        double perRun = seconds / iterationOps;
        System.out.printf("%nGFLOP/s shape=%s backend=%s threads=%d mode=%s: %.2f GFLOP/s (%.4f ms per conv, %.4f GFLOP)%n",
                shape, backend, threads, mode, conv.gflop() / perRun, perRun * 1e3, conv.gflop());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (compiled != null) compiled.close();
        if (pool != null) pool.close();
    }

    /** GFLOP done, reported by JMH per second: the {@code conv:gflop} line is GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;

        @Setup(Level.Iteration)
        public void reset() { gflop = 0; }
    }

    @Benchmark
    public Object conv(Flops flops) {
        iterationOps++;
        flops.gflop += conv.gflop();
        if (mode.equals("kernel")) {
            kernel.run(kernelInputs, kernelOutput, context);
            return kernelOutput;
        }
        return plan.execute(inputs, null);
    }

    /** A channels-last copy of an [N, C, H, W] tensor (NHWC in memory, logical shape unchanged). */
    static Tensor channelsLast(Tensor t) {
        int c = t.dim(1), h = t.dim(2), w = t.dim(3);
        long[] strides = {(long) c * h * w, 1, (long) w * c, c};
        Tensor cl = new Tensor(t.shape(), strides, new org.deepfever.core.Storage.Heap(new float[Math.toIntExact(t.size())]), 0);
        cl.copyFrom(t);
        return cl;
    }

    /** What the executor hands a kernel: the pool and a scratch array sized by the kernel. */
    record DirectContext(ThreadPool pool, float[] scratch) implements ExecContext {}
}
