package org.deepfever.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.backend.Devices;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.exec.GraphExecutor;
import org.deepfever.core.graph.Graph;
import org.deepfever.io.ModelFormatException;
import org.deepfever.io.TfjsReader;
import org.deepfever.io.WeightFile;

/**
 * face-api's FaceExpressionNet ready to run: the built-in model (face-api 1.7.15's
 * {@code face_expression_model}, shipped in this jar, see {@code models/face-expression/NOTICE}) or
 * one read from a TF.js weights manifest, compiled on the preferred backend. Input: a batch of faces
 * prepared by {@link FaceExpressionPreprocess}, [N, 3, 112, 112]; output per face: the 7 expression
 * probabilities ({@link #LABELS} order), the logits and the 256 pooled features. Thread-safe: runs
 * may overlap (each takes its own activation memory). Close it to stop its worker threads.
 */
public final class FaceExpressionNet implements AutoCloseable {
    /** Input height and width. */
    public static final int INPUT_SIZE = FaceExpressionGraphBuilder.INPUT_SIZE;
    /** The expression classes, in output order. */
    public static final List<String> LABELS = FaceExpressionGraphBuilder.LABELS;
    /** Length of the feature vector. */
    public static final int FEATURES = 256;

    /** Where the built-in model's files are on the class path. */
    static final String RESOURCE_DIR = "/org/deepfever/model/face-expression/";
    static final String MANIFEST = "face_expression_model-weights_manifest.json";
    static final String WEIGHTS = "face_expression_model.bin";
    /** sha256 of the built-in files (as models/face-expression/NOTICE and the build check). */
    static final Map<String, String> SHA256 = Map.of(
            WEIGHTS, "9a9840f2cf1f4c7eab95f197512569345c00d2426754d4608b92af30e0300f3d",
            MANIFEST, "5b349c17c7836da506e03422cd6461c74085d8bb2713ad4114647dc5d28174c8");

    private final String source;
    private final Graph graph;
    private final GraphExecutor executor;
    private final int threads;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * {@code device} null or "cpu": the CPU's per-op kernels of {@code backend} (null: the best
     * available); otherwise that accelerator runs the graph.
     */
    private FaceExpressionNet(String source, Graph graph, int threads, String device, String backend) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.source = source;
        this.graph = graph;
        this.threads = threads;
        this.executor = Devices.isCpu(device) ? CompiledGraph.compile(graph, threads, backend) : Devices.byName(device).compile(graph, threads);
    }

    /**
     * The built-in model on {@link ThreadPool#defaultThreads()} threads.
     *
     * @throws ModelFormatException when the model files in the jar are not the ones it was built with
     * @throws IOException when they cannot be read
     */
    public static FaceExpressionNet load() throws IOException { return load(ThreadPool.defaultThreads()); }

    /**
     * The built-in model on {@code threads} threads (the calling thread included).
     *
     * @throws IllegalArgumentException when {@code threads} is below 1
     * @throws ModelFormatException when the model files in the jar are not the ones it was built with
     * @throws IOException when they cannot be read
     */
    public static FaceExpressionNet load(int threads) throws IOException {
        return load(threads, null);
    }

    /**
     * The built-in model on {@code threads} threads, on a device.
     *
     * @param device null or "cpu" for the CPU, or an accelerator's name ("cuda")
     * @throws IllegalArgumentException when {@code threads} is below 1 or no such device is on the class path
     * @throws IllegalStateException when the device cannot run here (the message names what is missing)
     * @throws ModelFormatException when the model files in the jar are not the ones it was built with
     * @throws IOException when they cannot be read
     */
    public static FaceExpressionNet load(int threads, String device) throws IOException {
        return load(threads, device, null);
    }

    /**
     * The built-in model on {@code threads} threads, on a device, with a CPU backend named.
     *
     * @param device  null or "cpu" for the CPU, or an accelerator's name ("cuda")
     * @param backend on the CPU, the backend to run ({@code simd}, {@code reference}); null for the best available
     * @throws IllegalArgumentException when {@code threads} is below 1, no such device is on the class
     *         path or no backend has that name
     * @throws IllegalStateException when the device or backend cannot run here (the message names what is missing)
     * @throws ModelFormatException when the model files in the jar are not the ones it was built with
     * @throws IOException when they cannot be read
     */
    public static FaceExpressionNet load(int threads, String device, String backend) throws IOException {
        if (!Devices.isCpu(device)) Devices.byName(device); // a missing device is reported before any work
        try (WeightFile w = builtInWeights()) {
            return new FaceExpressionNet("built-in face-api 1.7.15 face_expression_model", FaceExpressionGraphBuilder.build(MANIFEST, w.tensors()), threads, device, backend);
        }
    }

    /**
     * A FaceExpressionNet from a TF.js weights manifest and its shards (face-api's layout and names).
     *
     * @throws IllegalArgumentException when {@code threads} is below 1
     * @throws ModelFormatException when the files are malformed
     * @throws ModelLoadException when a tensor is missing, misshapen or not part of the network
     * @throws IOException when they cannot be read
     */
    public static FaceExpressionNet load(Path manifest, int threads) throws IOException {
        return load(manifest, threads, null);
    }

    /**
     * A FaceExpressionNet from a TF.js weights manifest, on a device.
     *
     * @param device null or "cpu" for the CPU, or an accelerator's name ("cuda")
     * @throws IllegalArgumentException when {@code threads} is below 1 or no such device is on the class path
     * @throws IllegalStateException when the device cannot run here (the message names what is missing)
     * @throws ModelFormatException when the files are malformed
     * @throws ModelLoadException when a tensor is missing, misshapen or not part of the network
     * @throws IOException when they cannot be read
     */
    public static FaceExpressionNet load(Path manifest, int threads, String device) throws IOException {
        return load(manifest, threads, device, null);
    }

    /**
     * A FaceExpressionNet from a TF.js weights manifest, on a device, with a CPU backend named.
     *
     * @param device  null or "cpu" for the CPU, or an accelerator's name ("cuda")
     * @param backend on the CPU, the backend to run ({@code simd}, {@code reference}); null for the best available
     * @throws IllegalArgumentException when {@code threads} is below 1, no such device is on the class
     *         path or no backend has that name
     * @throws IllegalStateException when the device or backend cannot run here (the message names what is missing)
     * @throws ModelFormatException when the files are malformed
     * @throws ModelLoadException when a tensor is missing, misshapen or not part of the network
     * @throws IOException when they cannot be read
     */
    public static FaceExpressionNet load(Path manifest, int threads, String device, String backend) throws IOException {
        if (!Devices.isCpu(device)) Devices.byName(device);
        try (WeightFile w = TfjsReader.read(manifest)) {
            return new FaceExpressionNet(manifest.toString(), FaceExpressionGraphBuilder.build(manifest.getFileName().toString(), w.tensors()), threads, device, backend);
        }
    }

    /**
     * The built-in model's weights, by manifest name, as decoded from the jar (checked against the
     * sha256 sums it was built with).
     *
     * @throws ModelFormatException when a file differs from the shipped one
     * @throws IOException when it cannot be read
     */
    public static WeightFile builtInWeights() throws IOException {
        byte[] manifest = resource(MANIFEST);
        return TfjsReader.read(Path.of(MANIFEST), manifest, path -> {
            if (!path.equals(WEIGHTS)) throw new NoSuchFileException(path, null, "not a file of the built-in model");
            return resource(WEIGHTS);
        });
    }

    private static byte[] resource(String name) throws IOException {
        byte[] bytes;
        try (InputStream in = FaceExpressionNet.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) throw new NoSuchFileException(RESOURCE_DIR + name, null, "built-in model file missing from the class path (is fever-model-io's jar complete?)");
            bytes = in.readAllBytes();
        }
        String sum = sha256(bytes);
        if (!sum.equals(SHA256.get(name))) {
            throw new ModelFormatException(Path.of(name), "built-in model file has sha256 " + sum + ", expected " + SHA256.get(name) + " (a damaged or replaced jar)");
        }
        return bytes;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e); // every JDK must have it
        }
    }

    /** The model's results for a batch: [N, 7] probabilities and logits, [N, 256] features. */
    public record Output(Tensor probabilities, Tensor logits, Tensor features) {
        /** Number of faces. */
        public int faces() { return probabilities.dim(0); }

        /** The 7 probabilities of face {@code i}, in {@link #LABELS} order. */
        public float[] probabilities(int i) { return row(probabilities, i); }

        /** The 7 logits of face {@code i}. */
        public float[] logits(int i) { return row(logits, i); }

        /** The 256 features of face {@code i}. */
        public float[] features(int i) { return row(features, i); }

        /** The most probable expression of face {@code i} (the first on a tie). */
        public String label(int i) {
            float[] p = probabilities(i);
            int best = 0;
            for (int k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
            return LABELS.get(best);
        }

        private static float[] row(Tensor t, int i) {
            if (i < 0 || i >= t.dim(0)) throw new IndexOutOfBoundsException("face " + i + " of " + t.dim(0));
            int n = t.dim(1);
            float[] out = new float[n];
            t.readFlat((long) i * n, out, 0, n);
            return out;
        }
    }

    /**
     * Runs a batch of prepared faces.
     *
     * @param input [N, 3, 112, 112] as made by {@link FaceExpressionPreprocess}
     * @throws IllegalArgumentException when the input's shape is not [N, 3, 112, 112] with N >= 1
     * @throws IllegalStateException when the net is closed (the message names {@link #source()})
     */
    public Output run(Tensor input) {
        if (closed.get()) throw new IllegalStateException(source + ": model is closed");
        if (input.rank() != 4 || input.dim(0) < 1 || input.dim(1) != 3 || input.dim(2) != INPUT_SIZE || input.dim(3) != INPUT_SIZE) {
            throw new IllegalArgumentException("FaceExpressionNet input must be [N, 3, " + INPUT_SIZE + ", " + INPUT_SIZE + "] with N >= 1, got " + input.shape());
        }
        Map<String, Tensor> out = executor.run(Map.of("input", input));
        return new Output(out.get("probabilities"), out.get("logits"), out.get("features"));
    }

    /**
     * Runs a batch given as prepared faces of 3 * 112 * 112 floats each (from {@link
     * FaceExpressionPreprocess}).
     *
     * @throws IllegalArgumentException when there are no faces or one has the wrong length
     */
    public Output run(List<float[]> faces) {
        if (faces.isEmpty()) throw new IllegalArgumentException("no faces to run");
        int per = 3 * INPUT_SIZE * INPUT_SIZE;
        float[] all = new float[faces.size() * per];
        for (int i = 0; i < faces.size(); i++) {
            float[] f = faces.get(i);
            if (f.length != per) throw new IllegalArgumentException("face " + i + " has " + f.length + " floats, expected " + per + " (3 x 112 x 112)");
            System.arraycopy(f, 0, all, i * per, per);
        }
        return run(Tensor.of(all, faces.size(), 3, INPUT_SIZE, INPUT_SIZE));
    }

    /** Where the weights came from, in words. */
    public String source() { return source; }

    /** The graph it runs. */
    public Graph graph() { return graph; }

    /** Multiply-accumulates per face. */
    public long macsPerFace() { return graph.macsPerItem(); }

    /** Which backend runs each node, by node name. */
    public Map<String, String> backendByNode() { return executor.backendByNode(); }

    /** Worker threads, the caller included. */
    public int threads() { return threads; }

    /** Stops the worker threads (they have ended when this returns); later runs throw {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) executor.close();
    }
}
