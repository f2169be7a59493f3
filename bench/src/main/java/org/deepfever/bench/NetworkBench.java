package org.deepfever.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.deepfever.api.DeepFever;
import org.deepfever.core.Tensor;
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
 * The whole network, end to end ({@link DeepFever#run}): the full-size untrained default, or a model
 * file with {@code -p model=PATH} (.pth, .safetensors or .onnx). Scores are milliseconds per batch;
 * each measurement iteration also prints ms per face and GFLOP/s.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar bench/target/fever-bench.jar NetworkBench
 * java --add-modules jdk.incubator.vector -jar bench/target/fever-bench.jar NetworkBench -p model=build/fixtures-full/model.onnx -p batch=1
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class NetworkBench {

    /** A model file, or empty for {@link DeepFever#untrainedDefault}. */
    @Param({""})
    public String model;

    @Param({"1", "8"})
    public int batch;

    @Param({"1", "2"})
    public int threads;

    /** Backend name ("simd", "reference"), or empty for the best available. */
    @Param({""})
    public String backend;

    private DeepFever engine;
    private Tensor input;
    private double gflopPerFace;
    private long iterationStart;
    private long iterationRuns;

    @Setup(Level.Trial)
    public void setup() {
        DeepFever.Options options = DeepFever.Options.defaults().withThreads(threads);
        if (!backend.isBlank()) options = options.withBackend(backend.trim());
        if (model.isBlank()) {
            engine = DeepFever.untrainedDefault(options);
        } else {
            Path path = Path.of(model.trim());
            if (!Files.isRegularFile(path)) throw new IllegalArgumentException("model file not found: " + path.toAbsolutePath());
            engine = DeepFever.load(path, options);
        }
        gflopPerFace = engine.info().gflopPerFace();
        input = BenchData.normal(new SplittableRandom(1), 1f, batch, 3, DeepFever.SIZE, DeepFever.SIZE);
        System.out.printf("%nmodel %s, batch %d, %d thread(s), %.3f GFLOP per face%n",
                model.isBlank() ? "untrainedDefault" : model, batch, threads, gflopPerFace);
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        iterationRuns = 0;
        iterationStart = System.nanoTime();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        if (iterationRuns == 0) return;
        double msPerBatch = (System.nanoTime() - iterationStart) / 1e6 / iterationRuns;
        System.out.printf("%nbatch=%d threads=%d: %.2f ms per batch, %.2f ms per face, %.2f GFLOP/s%n",
                batch, threads, msPerBatch, msPerBatch / batch, gflopPerFace * batch / (msPerBatch / 1e3));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
    }

    @Benchmark
    public Map<String, Tensor> network() {
        iterationRuns++;
        return engine.run(input);
    }
}
