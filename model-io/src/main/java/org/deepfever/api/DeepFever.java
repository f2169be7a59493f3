package org.deepfever.api;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Backend;
import org.deepfever.core.backend.Backends;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.exec.ExecutionPlan;
import org.deepfever.core.exec.KernelChoice;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;

/**
 * A loaded DeepFEVER model, ready to extract expression features from 140x140 face crops.
 *
 * <pre>{@code
 * try (DeepFever model = DeepFever.load(Path.of("model.pth"))) {
 *     FaceResult r = model.extract(chw);          // float[3*140*140], (pixel - 127.5) / 128, RGB
 *     r.features(); r.embedding(); r.label(); r.scores();
 * }
 * }</pre>
 *
 * Reads PyTorch checkpoints ({@code .pth}/{@code .pt}), safetensors and ONNX; see {@link ModelFiles}.
 * One instance is safe to share across threads: concurrent calls each use their own activation
 * memory. Close it to release the worker threads and the memory-mapped weight file.
 */
public final class DeepFever implements AutoCloseable {
    public static final int SIZE = 140;
    public static final List<String> AFFECTNET_CLASSES =
            List.of("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt");

    private final ModelFiles.Loaded loaded;
    private final CompiledGraph compiled;
    private final List<String> classes;
    private final List<String> extraHeads;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Load options: worker threads (default: all cores) and a backend name (default: the best available). */
    public record Options(int threads, String backend) {
        public static Options defaults() { return new Options(ThreadPool.defaultThreads(), null); }
        public Options withThreads(int t) { return new Options(t, backend); }
        public Options withBackend(String b) { return new Options(threads, b); }
    }

    private DeepFever(ModelFiles.Loaded loaded, Options options) {
        this(loaded, options, BackendPreload.now(options.backend()));
    }

    private DeepFever(ModelFiles.Loaded loaded, Options options, BackendPreload backend) {
        this.loaded = loaded;
        Backend preferred;
        try {
            preferred = backend.get();
        } catch (RuntimeException | Error e) {
            loaded.close();
            throw e;
        }
        Backend fallback = preferred.name().equals(Backends.REFERENCE) ? null : Backends.reference();
        try {
            this.compiled = new CompiledGraph(loaded.graph(), preferred, fallback, new ThreadPool(options.threads()), true);
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
        int classCount = loaded.graph().inferShapes(1)[loaded.graph().outputs().get("logits")].dim(1);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < classCount; i++) names.add(classCount == AFFECTNET_CLASSES.size() ? AFFECTNET_CLASSES.get(i) : "class" + i);
        this.classes = List.copyOf(names);
        List<String> extra = new ArrayList<>(loaded.graph().outputs().keySet());
        extra.removeAll(List.of("features", "embedding", "logits"));
        this.extraHeads = List.copyOf(extra);
    }

    public static DeepFever load(Path path) { return load(path, Options.defaults()); }

    /** Loads a model file; the format is taken from the file's contents (and its extension as a hint). */
    public static DeepFever load(Path path, Options options) {
        // the backend is chosen and its classes initialised on another thread while the file is read
        BackendPreload backend = BackendPreload.start(options.backend());
        return new DeepFever(ModelFiles.load(path), options, backend);
    }

    /**
     * The full-size network with seeded, UNTRAINED weights: it runs, its numbers mean nothing. For
     * trying the engine and measuring it without a model file.
     */
    public static DeepFever untrainedDefault(Options options) {
        return new DeepFever(ModelFiles.untrainedDefault(), options);
    }

    /** Runs a batch [N,3,140,140] and returns one result per face. */
    public List<FaceResult> extract(Tensor batch) {
        Map<String, Tensor> out = run(batch);
        int n = batch.dim(0);
        List<FaceResult> results = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] logits = row(out.get("logits"), i);
            Map<String, float[]> heads = new LinkedHashMap<>();
            for (String h : extraHeads) heads.put(h, row(out.get(h), i));
            results.add(new FaceResult(row(out.get("features"), i), row(out.get("embedding"), i), logits,
                    FaceResult.softmax(logits), classes, heads));
        }
        return results;
    }

    /** One face: {@code chw} holds 3*140*140 normalised floats, RGB planes. */
    public FaceResult extract(float[] chw) {
        return extract(List.of(chw)).get(0);
    }

    /** Several faces, each 3*140*140 floats, run as one batch. */
    public List<FaceResult> extract(List<float[]> faces) {
        checkOpen();
        if (faces.isEmpty()) return List.of();
        int per = 3 * SIZE * SIZE;
        float[] data = new float[faces.size() * per];
        for (int i = 0; i < faces.size(); i++) {
            float[] f = faces.get(i);
            if (f.length != per) throw new IllegalArgumentException("face " + i + ": expected " + per + " floats (3x140x140), got " + f.length);
            System.arraycopy(f, 0, data, i * per, per);
        }
        return extract(Tensor.of(data, faces.size(), 3, SIZE, SIZE));
    }

    /** The graph's raw outputs by name (features, embedding, logits, extra heads). */
    public Map<String, Tensor> run(Tensor batch) {
        checkOpen();
        checkInput(batch);
        return compiled.run(Map.of(inputName(), batch));
    }

    /**
     * Intermediate activations by tap name (stem, repeat_1, mixed_6a, repeat_2, mixed_7a, [block8],
     * reduce, dense, project), for models built from a state dict; empty for ONNX graphs.
     */
    public Map<String, Tensor> taps(Tensor batch) {
        checkOpen();
        checkInput(batch);
        Map<String, String> byNode = new TreeMap<>();
        loaded.tapNodes().forEach((tap, node) -> byNode.put(node, tap));
        Map<String, Tensor> taps = new LinkedHashMap<>();
        ExecutionPlan plan = compiled.plan(batch.dim(0));
        plan.execute(Map.of(inputName(), batch), (Node node, Tensor t) -> {
            String tap = byNode.get(node.name());
            if (tap != null) taps.put(tap, t.copy());
        });
        return taps;
    }

    private String inputName() { return loaded.graph().inputs().keySet().iterator().next(); }

    private void checkOpen() {
        if (closed.get()) throw new IllegalStateException(loaded.path() + ": model is closed");
    }

    private void checkInput(Tensor batch) {
        Shape s = batch.shape();
        if (s.rank() != 4 || s.dim(1) != 3 || s.dim(2) != SIZE || s.dim(3) != SIZE || s.dim(0) < 1) {
            throw new IllegalArgumentException("input: expected shape [N, 3, 140, 140], got " + s);
        }
    }

    private static float[] row(Tensor t, int i) {
        int width = t.dim(1);
        float[] out = new float[width];
        for (int j = 0; j < width; j++) out[j] = t.get(i, j);
        return out;
    }

    public List<String> classes() { return classes; }
    public List<String> extraHeads() { return extraHeads; }
    public Graph graph() { return loaded.graph(); }
    public int threads() { return compiled.pool().threads(); }

    /**
     * Per node, in the order the nodes run, what runs it for a batch of {@code batch}: backend, the
     * planned layouts, and the kernel's own description of its choices (the convs' plans), as
     * {@code fever info --kernels} prints them.
     *
     * @throws IllegalArgumentException when {@code batch} is below 1
     * @throws IllegalStateException    when the model is closed
     */
    public List<KernelChoice> kernelChoices(int batch) {
        checkOpen();
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        return compiled.plan(batch).kernelChoices();
    }

    public ModelInfo info() {
        Graph g = loaded.graph();
        Map<String, String> inputs = new LinkedHashMap<>();
        g.inputShapes().forEach((k, v) -> inputs.put(k, v.toString().replace("-1", "N")));
        Shape[] shapes = g.inferShapes(1);
        Map<String, String> outputs = new LinkedHashMap<>();
        g.outputs().forEach((k, v) -> outputs.put(k, shapes[v].withDim(0, -1).toString().replace("-1", "N")));
        Map<String, Long> counts = new TreeMap<>();
        compiled.backendByNode().values().forEach(b -> counts.merge(b, 1L, Long::sum));
        return new ModelInfo(loaded.path().toString(), loaded.format(), loaded.parameters(), loaded.layout(), inputs, outputs,
                2.0 * g.macsPerItem() / 1e9, compiled.plan(1).peakActivationBytes(), g.nodes().size(), counts);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        compiled.close();
        loaded.close();
    }
}
