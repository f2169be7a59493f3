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
import org.deepfever.core.op.MaxPool2d;
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
 * DeepFEVER's three max-pools (3x3, stride 2) at their real shapes, batch 1, the prepared kernel
 * called directly on preallocated tensors. Score: microseconds per pool.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar bench/target/fever-bench.jar PoolBench
 * java --add-modules jdk.incubator.vector -jar bench/target/fever-bench.jar PoolBench -p shape=maxpool_3a -p input=channelsLast -p flush=true
 * </pre>
 *
 * {@code input} and {@code output} choose each tensor's layout ("nchw" or "channelsLast"; the
 * executor hands the pools channels-last tensors inside the stem and the 15x15 / 7x7 stages);
 * {@code flush=true} evicts the caches before each pool (a 64 MB write, not timed), as a whole
 * inference leaves the input of a pool that follows a large layer; with {@code touch=true} the input
 * is then written again, as the conv before the pool leaves it. Measured 2026-12-03, maxpool_3a,
 * channels-last, one thread: 56 us hot, 170-174 flushed, 96 flushed and touched; in the network
 * 109-129 us, where ONNX Runtime's profiler gives 44-49.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class PoolBench {

    /** Input [1, c, hw, hw], 3x3 window, stride 2, no padding. */
    record PoolShape(int c, int hw) {}

    static final Map<String, PoolShape> SHAPES = new LinkedHashMap<>();

    static {
        SHAPES.put("maxpool_3a", new PoolShape(64, 67));   // after conv2d_2b -> 33x33
        SHAPES.put("mixed6a_pool", new PoolShape(256, 15)); // Mixed_6a branch 2 -> 7x7
        SHAPES.put("mixed7a_pool", new PoolShape(896, 7));  // Mixed_7a branch 3 -> 3x3
    }

    @Param({"maxpool_3a", "mixed6a_pool", "mixed7a_pool"})
    public String shape;

    @Param({"simd"})
    public String backend;

    @Param({"1"})
    public int threads;

    /** "nchw" or "channelsLast". */
    @Param({"channelsLast"})
    public String input;

    /** "nchw" or "channelsLast". */
    @Param({"channelsLast"})
    public String output;

    @Param({"false"})
    public boolean flush;

    /** With {@code flush}: the input is then written again (its lines back in cache, the output's not). */
    @Param({"false"})
    public boolean touch;

    private Kernel kernel;
    private Tensor[] in;
    private Tensor out;
    private ThreadPool pool;
    private ExecContext context;

    @Setup(Level.Trial)
    public void setup() {
        PoolShape s = SHAPES.get(shape);
        if (s == null) throw new IllegalArgumentException("unknown shape '" + shape + "'; known: " + SHAPES.keySet());
        MaxPool2d op = MaxPool2d.of(3, 2);
        Shape inShape = Shape.of(1, s.c(), s.hw(), s.hw());
        Shape outShape = op.outputShape(inShape);
        Backend b = Backends.byName(backend);
        if (!b.supports(op)) throw new IllegalStateException("backend '" + backend + "' does not support " + shape);
        kernel = b.prepare(op);
        Tensor x = BenchData.normal(new SplittableRandom(42), 1f, inShape.dims());
        Tensor y = Tensor.zeros(outShape.dims());
        Shape[] inShapes = {inShape};
        if (input.equals("channelsLast")) {
            if (!kernel.acceptsChannelsLast(0, inShapes, outShape)) throw new IllegalStateException(shape + ": no channels-last input on " + backend);
            x = ConvBench.channelsLast(x);
        }
        if (output.equals("channelsLast")) {
            if (!kernel.writesChannelsLast(inShapes, outShape)) throw new IllegalStateException(shape + ": no channels-last output on " + backend);
            y = ConvBench.channelsLast(y);
        }
        in = new Tensor[] {x};
        out = y;
        pool = new ThreadPool(threads);
        context = new ConvBench.DirectContext(pool, new float[Math.toIntExact(kernel.scratchFloats(inShapes, outShape, threads))]);
    }

    @Setup(Level.Invocation)
    public void flushCaches() {
        if (!flush) return;
        BenchData.evictCaches();
        if (touch) { // the input written again, as the layer before the pool leaves it
            float[] xa = in[0].array();
            for (int i = 0; i < xa.length; i += 16) xa[i] += 0f;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() { pool.close(); }

    @Benchmark
    public Object pool() {
        kernel.run(in, out, context);
        return out;
    }
}
