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
import org.deepfever.core.backend.Device;
import org.deepfever.core.backend.Devices;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.exec.ExecutionPlan;
import org.deepfever.core.exec.GraphExecutor;
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
public final class DeepFever implements FaceModel {
    /** Side of the square input crop. */
    public static final int SIZE = 140;
    /** The caveat carried by every result of the seeded default weights. */
    public static final String UNTRAINED_NOTE = "untrained seeded weights: its numbers mean nothing; pass --model FILE with your DeepFEVER weights";
    /** What DeepFEVER takes: a 140x140 RGB crop of the face box grown 1.4 times, Pillow bilinear, (pixel - 127.5) / 128. */
    public static final InputSpec INPUT = new InputSpec(SIZE, InputSpec.ColorOrder.RGB, InputSpec.Fit.MARGIN_SQUARE, 1.4,
            InputSpec.Resize.PIL_BILINEAR, new float[] {127.5f, 127.5f, 127.5f}, new float[] {128f, 128f, 128f});
    /** The AffectNet expression classes of the {@code affectnet} head, in logit order. */
    public static final List<String> AFFECTNET_CLASSES =
            List.of("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt");

    private final ModelFiles.Loaded loaded;
    private final GraphExecutor executor;
    private final CompiledGraph compiled; // the CPU's executor; null on an accelerator
    private final int threads;
    private final List<String> classes;
    private final List<String> extraHeads;
    private final String note;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Load options for any {@link FaceModel}.
     *
     * @param threads worker threads (default: all cores)
     * @param backend a CPU backend name ({@code simd}, {@code reference}), or null for the best available
     * @param device  where DeepFEVER runs: null or "cpu" (default) for the CPU, "cuda" for an NVIDIA GPU
     *                (needs the fever-cuda jar and the CUDA, cuBLAS and cuDNN libraries; the CPU backend
     *                then runs only the small tail of ops the GPU leaves to the host)
     */
    public record Options(int threads, String backend, String device) {
        /**
         * CPU options.
         *
         * @param threads worker threads
         * @param backend a backend name, or null for the best available
         */
        public Options(int threads, String backend) { this(threads, backend, null); }

        /** All cores, the best available backend, the CPU. */
        public static Options defaults() { return new Options(ThreadPool.defaultThreads(), null, null); }

        /** These options with {@code t} worker threads. */
        public Options withThreads(int t) { return new Options(t, backend, device); }

        /** These options with backend {@code b} forced (null: the best available). */
        public Options withBackend(String b) { return new Options(threads, b, device); }

        /** These options on device {@code d} ("cpu", "cuda"; null means the CPU). */
        public Options withDevice(String d) { return new Options(threads, backend, d); }
    }

    /** Runs on the CPU with {@code backend} or, when it is null, on {@code device}. */
    private DeepFever(ModelFiles.Loaded loaded, Options options, BackendPreload backend, Device device, String note) {
        this.loaded = loaded;
        this.note = note;
        this.threads = options.threads();
        try {
            if (backend == null) {
                this.compiled = null;
                this.executor = device.compile(loaded.graph(), options.threads());
            } else {
                Backend preferred = backend.get();
                Backend fallback = preferred.name().equals(Backends.REFERENCE) ? null : Backends.reference();
                this.compiled = new CompiledGraph(loaded.graph(), preferred, fallback, new ThreadPool(options.threads()), true);
                this.executor = compiled;
            }
        } catch (RuntimeException | Error e) {
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

    /**
     * Loads a model file with the default options.
     *
     * @param path a {@code torch.save} checkpoint ({@code .pth}/{@code .pt}), {@code .safetensors} or {@code .onnx} file
     * @return the loaded model
     * @throws ModelLoadException if the file is missing, unreadable, malformed or not a DeepFEVER layout;
     *         the message names the file and, where there is one, the culprit tensor or node
     */
    public static DeepFever load(Path path) { return load(path, Options.defaults()); }

    /**
     * Loads a model file; the format is taken from the file's contents (and its extension as a hint).
     * An accelerator device is checked before the file is read, so that a missing GPU or library is
     * reported at once.
     *
     * @param path    the model file
     * @param options threads, backend and device
     * @return the loaded model
     * @throws ModelLoadException if the file is missing, unreadable, malformed or not a DeepFEVER layout
     * @throws IllegalArgumentException if the options name an unknown or unavailable backend, or a device
     *         that is not on the class path
     * @throws IllegalStateException when the requested device cannot run here (the message names what is missing)
     */
    public static DeepFever load(Path path, Options options) {
        if (!Devices.isCpu(options.device())) {
            Device device = Devices.byName(options.device()); // fails fast, before the read
            return new DeepFever(ModelFiles.load(path), options, null, device, null);
        }
        // the backend is chosen and its classes initialised on another thread while the file is read
        BackendPreload backend = BackendPreload.start(options.backend());
        return new DeepFever(ModelFiles.load(path), options, backend, null, null);
    }

    /**
     * The full-size network with seeded, UNTRAINED weights: it runs, its numbers mean nothing. For
     * trying the engine and measuring it without a model file; every result's {@link #note()} says so.
     *
     * @param options threads and backend
     * @return the model
     * @throws IllegalArgumentException if the options name an unknown or unavailable backend
     */
    public static DeepFever untrainedDefault(Options options) {
        if (!Devices.isCpu(options.device())) {
            Device device = Devices.byName(options.device());
            return new DeepFever(ModelFiles.untrainedDefault(), options, null, device, UNTRAINED_NOTE);
        }
        return new DeepFever(ModelFiles.untrainedDefault(), options, BackendPreload.now(options.backend()), null, UNTRAINED_NOTE);
    }

    /**
     * Runs a batch and returns one result per face.
     *
     * @param batch [N, 3, 140, 140], normalised as {@link #INPUT} says
     * @return one result per face
     * @throws IllegalArgumentException if the batch has another shape
     * @throws IllegalStateException if the model is closed
     */
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

    @Override
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

    /**
     * The graph's raw outputs by name (features, embedding, logits, extra heads).
     *
     * @param batch [N, 3, 140, 140]
     * @return output tensors by name
     * @throws IllegalArgumentException if the batch has another shape
     * @throws IllegalStateException if the model is closed
     */
    public Map<String, Tensor> run(Tensor batch) {
        checkOpen();
        checkInput(batch);
        return executor.run(Map.of(inputName(), batch));
    }

    /**
     * Intermediate activations by tap name (stem, repeat_1, mixed_6a, repeat_2, mixed_7a, [block8],
     * reduce, dense, project), for models built from a state dict; empty for ONNX graphs.
     *
     * @param batch [N, 3, 140, 140]
     * @return copies of the activations by tap name
     * @throws IllegalArgumentException if the batch has another shape
     * @throws IllegalStateException if the model is closed
     * @throws UnsupportedOperationException on an accelerator device (taps are a CPU debugging aid)
     */
    public Map<String, Tensor> taps(Tensor batch) {
        checkOpen();
        checkInput(batch);
        if (compiled == null) throw new UnsupportedOperationException("taps are computed on the cpu device only; load the model without a device to get them");
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

    /** The expression classes, in logit order. */
    public List<String> classes() { return classes; }

    /**
     * Per node, in the order the nodes run, what runs it for a batch of {@code batch}: backend, the
     * planned layouts, and the kernel's own description of its choices (the convs' plans), as
     * {@code fever info --kernels} prints them.
     *
     * @throws IllegalArgumentException when {@code batch} is below 1
     * @throws IllegalStateException    when the model is closed
     * @throws UnsupportedOperationException on an accelerator device (the plans are the CPU kernels')
     */
    public List<KernelChoice> kernelChoices(int batch) {
        checkOpen();
        if (compiled == null) throw new UnsupportedOperationException("kernel choices are the CPU's; this model runs on a device");
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        return compiled.plan(batch).kernelChoices();
    }


    /** Names of further Linear heads found in the checkpoint (reported in {@link FaceResult#extraHeads()}). */
    public List<String> extraHeads() { return extraHeads; }

    /**
     * The graph the model runs (its weights are the model's: valid while it is open).
     *
     * @throws IllegalStateException when the model is closed
     */
    public Graph graph() {
        checkOpen();
        return loaded.graph();
    }

    /** CPU worker threads (on an accelerator: the threads it may use for host work). */
    @Override
    public int threads() { return compiled != null ? compiled.pool().threads() : threads; }

    /** {@code deepfever}. */
    @Override
    public String name() { return "deepfever"; }

    @Override
    public String note() { return note; }

    @Override
    public InputSpec input() { return INPUT; }

    @Override
    public OutputSpec output() {
        checkOpen();
        Graph g = loaded.graph();
        Shape[] shapes = g.inferShapes(1);
        return new OutputSpec(shapes[g.outputs().get("features")].dim(1), shapes[g.outputs().get("embedding")].dim(1), classes);
    }

    @Override
    public List<String> describe() {
        checkOpen();
        List<String> lines = new ArrayList<>();
        lines.add("model: DeepFEVER" + (note != null ? " (" + note + ")" : ""));
        lines.addAll(info().lines());
        lines.add("input: " + INPUT);
        return lines;
    }

    /**
     * The file, format, layout, shapes, compute and backends, as {@code fever info} shows them.
     *
     * @throws IllegalStateException when the model is closed
     */
    public ModelInfo info() {
        checkOpen();
        Graph g = loaded.graph();
        Map<String, String> inputs = new LinkedHashMap<>();
        g.inputShapes().forEach((k, v) -> inputs.put(k, v.toString().replace("-1", "N")));
        Shape[] shapes = g.inferShapes(1);
        Map<String, String> outputs = new LinkedHashMap<>();
        g.outputs().forEach((k, v) -> outputs.put(k, shapes[v].withDim(0, -1).toString().replace("-1", "N")));
        Map<String, Long> counts = new TreeMap<>();
        executor.backendByNode().values().forEach(b -> counts.merge(b, 1L, Long::sum));
        return new ModelInfo(loaded.path().toString(), loaded.format(), loaded.parameters(), loaded.layout(), inputs, outputs,
                2.0 * g.macsPerItem() / 1e9, executor.peakActivationBytes(1), g.nodes().size(), counts);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        executor.close();
        loaded.close();
    }
}
