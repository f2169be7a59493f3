package org.deepfever.model;

import java.util.List;
import java.util.Map;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.DepthwiseConv2d;
import org.deepfever.core.op.Gemm;
import org.deepfever.core.op.GlobalAvgPool;
import org.deepfever.core.op.Relu;
import org.deepfever.core.op.Softmax;

/**
 * Builds face-api's FaceExpressionNet (face-api.js / @vladmandic/face-api {@code
 * faceFeatureExtractor/FaceFeatureExtractor.ts}, {@code denseBlock.ts}, {@code
 * faceProcessor/FaceProcessor.ts}) from its TF.js weights, named as in its manifest
 * ({@code dense0/conv0/filters}, {@code dense1/conv2/depthwise_filter}, {@code fc/weights}, ...).
 *
 * <p>Input {@code input} [N, 3, 112, 112]: RGB, already padded, resized and normalised ({@link
 * FaceExpressionPreprocess}). Four dense blocks of four convs; in block {@code dense<i>} conv0 halves
 * the map (stride 2; in dense0 a plain 3x3 conv, elsewhere a separable one) and each conv reads the
 * ReLU of the sum of the earlier conv outputs of its block; all TF "SAME" padding (at stride 2 on an
 * even map: 0 before, 1 after). Then a 7x7 average pool (stride 2, VALID: on the 7x7 map, the mean
 * over it), the 256 -> 7 dense layer and a softmax.
 *
 * <p>How it maps to ops: a separable conv is a {@link DepthwiseConv2d} (3x3, no bias) then a 1x1
 * {@link Conv2d} with the bias. Each block keeps the running sums {@code s_k = out_1 + ... + out_k}
 * un-ReLU'd: conv k (k >= 2) is a 1x1 conv with residual input {@code s_(k-1)} (so it writes
 * {@code s_k} directly, in place where the executor can), and every depthwise conv applies the ReLU
 * to what it reads ({@code reluInput}). Since {@code out_1} is itself ReLU'd in face-api, {@code s_1
 * = out_1}. The block's output, the ReLU of {@code s_4}, is taken by the next block's first depthwise
 * conv (again through its input ReLU) and, after dense3, by a {@link Relu} node before the pool. The
 * sums are thus added in another order than face-api's {@code out1 + (out2 + (out3 + out4))}:
 * float rounding differences only.
 *
 * <p>Outputs: {@code probabilities} [N, 7] (softmax), {@code logits} [N, 7], {@code features}
 * [N, 256] (the pooled features the classifier reads). Weight layouts are converted from TF.js's:
 * conv filters HWIO to [out, in, kH, kW], depthwise [kH, kW, C, 1] to [C, 1, kH, kW], dense [in,
 * out] to [out, in].
 */
public final class FaceExpressionGraphBuilder {
    /** Input height and width. */
    public static final int INPUT_SIZE = 112;
    /** The classes, in the order of the network's outputs. */
    public static final List<String> LABELS = List.of("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised");

    private final StateDict sd;
    private final Graph.Builder g = Graph.builder();

    private FaceExpressionGraphBuilder(String source, Map<String, Tensor> weights) {
        this.sd = new StateDict(source, weights);
    }

    /**
     * Builds the graph from weights named as in face-api's manifest ({@code source}, the file name,
     * prefixes every error message).
     *
     * @throws ModelLoadException naming the tensor when one is missing, has the wrong shape, or is
     *     not part of the network
     */
    public static Graph build(String source, Map<String, Tensor> weights) {
        return new FaceExpressionGraphBuilder(source, weights).build();
    }

    private Graph build() {
        int x = g.input("input", Shape.of(-1, 3, INPUT_SIZE, INPUT_SIZE));
        x = denseBlock("dense0", x, true);
        x = denseBlock("dense1", x, false);
        x = denseBlock("dense2", x, false);
        x = denseBlock("dense3", x, false);
        Shape last = g.shapeOf(x);
        if (last.dim(2) != 7 || last.dim(3) != 7) {
            throw sd.error("dense3 gives a " + last.dim(2) + "x" + last.dim(3) + " map; face-api's 7x7 stride-2 VALID average pool needs 7x7");
        }
        x = g.add("dense3/relu", new Relu(), x);
        // tf.avgPool(out, [7, 7], [2, 2], 'valid') on a 7x7 map: one window, the mean over the map
        int features = g.add("features", new GlobalAvgPool(false), x);
        int channels = last.dim(1);
        Tensor fcW = sd.take("fc/weights", channels, LABELS.size());
        Tensor fcB = sd.take("fc/bias", LABELS.size());
        int logits = g.add("logits", new Gemm(transpose2d(fcW), fcB), features);
        int probabilities = g.add("probabilities", new Softmax(1), logits);
        List<String> unused = sd.unused();
        if (!unused.isEmpty()) throw sd.error("unexpected tensor" + (unused.size() > 1 ? "s " : " ") + unused + " not part of FaceExpressionNet");
        return g.output("probabilities", probabilities).output("logits", logits).output("features", features).build();
    }

    /** One denseBlock4: returns the un-ReLU'd sum of its four conv outputs (see the class comment). */
    private int denseBlock(String p, int x, boolean first) {
        int s;
        if (first) {
            Tensor f = sd.take(p + "/conv0/filters", 3, 3, channels(x), -1);
            Tensor w = hwioToOihw(f);
            int[] pad = samePaddingOf(x, 3, 2);
            Conv2d conv = new Conv2d(w, sd.take(p + "/conv0/bias", w.dim(0)), 2, 2, pad[0], pad[1], pad[2], pad[3], 1, 1, 1, Activation.RELU, false);
            s = g.add(p + "/conv0", conv, x);
        } else {
            s = separable(p + "/conv0", x, 2, true, Activation.RELU, -1);
        }
        s = separable(p + "/conv1", s, 1, false, Activation.NONE, s);
        s = separable(p + "/conv2", s, 1, true, Activation.NONE, s);
        s = separable(p + "/conv3", s, 1, true, Activation.NONE, s);
        return s;
    }

    /**
     * A separable conv of {@code x} (ReLU'd as read when {@code reluInput}): depthwise 3x3 without
     * bias, then 1x1 with bias and {@code act}, plus {@code residual} when it is a value (>= 0).
     */
    private int separable(String p, int x, int stride, boolean reluInput, Activation act, int residual) {
        int cin = channels(x);
        Tensor dwF = sd.take(p + "/depthwise_filter", 3, 3, cin, 1);
        int[] pad = samePaddingOf(x, 3, stride);
        DepthwiseConv2d dw = new DepthwiseConv2d(depthwiseToC1hw(dwF), null, stride, stride, pad[0], pad[1], pad[2], pad[3], reluInput, Activation.NONE);
        int d = g.add(p + "/depthwise", dw, x);
        Tensor pwF = sd.take(p + "/pointwise_filter", 1, 1, cin, -1);
        Tensor w = hwioToOihw(pwF);
        Conv2d pw = new Conv2d(w, sd.take(p + "/bias", w.dim(0)), 1, 1, 0, 0, 0, 0, 1, 1, 1, act, residual >= 0);
        return residual >= 0 ? g.add(p + "/pointwise", pw, d, residual) : g.add(p + "/pointwise", pw, d);
    }

    private int channels(int value) { return g.shapeOf(value).dim(1); }

    /**
     * TF "SAME" padding of a {@code k}x{@code k} window at {@code stride} on {@code value}'s map:
     * output ceil(in / stride), the padding that needs split with the smaller half before:
     * {top, left, bottom, right}.
     */
    private int[] samePaddingOf(int value, int k, int stride) {
        Shape s = g.shapeOf(value);
        int[] tb = samePadding(s.dim(2), k, stride), lr = samePadding(s.dim(3), k, stride);
        return new int[] {tb[0], lr[0], tb[1], lr[1]};
    }

    /** {before, after} of TF "SAME" padding along one axis of size {@code in}. */
    static int[] samePadding(int in, int k, int stride) {
        int out = Math.ceilDiv(in, stride);
        int total = Math.max((out - 1) * stride + k - in, 0);
        return new int[] {total / 2, total - total / 2};
    }

    /** TF conv filter [kH, kW, in, out] to [out, in, kH, kW]. */
    static Tensor hwioToOihw(Tensor f) {
        int kh = f.dim(0), kw = f.dim(1), ci = f.dim(2), co = f.dim(3);
        float[] src = f.toFloatArray(), dst = new float[src.length];
        for (int y = 0; y < kh; y++) {
            for (int x = 0; x < kw; x++) {
                for (int i = 0; i < ci; i++) {
                    for (int o = 0; o < co; o++) dst[((o * ci + i) * kh + y) * kw + x] = src[((y * kw + x) * ci + i) * co + o];
                }
            }
        }
        return Tensor.of(dst, co, ci, kh, kw);
    }

    /** TF depthwise filter [kH, kW, C, 1] to [C, 1, kH, kW]. */
    static Tensor depthwiseToC1hw(Tensor f) {
        int kh = f.dim(0), kw = f.dim(1), c = f.dim(2);
        float[] src = f.toFloatArray(), dst = new float[src.length];
        for (int y = 0; y < kh; y++) {
            for (int x = 0; x < kw; x++) {
                for (int ch = 0; ch < c; ch++) dst[(ch * kh + y) * kw + x] = src[(y * kw + x) * c + ch];
            }
        }
        return Tensor.of(dst, c, 1, kh, kw);
    }

    /** [in, out] to [out, in]. */
    static Tensor transpose2d(Tensor t) {
        int r = t.dim(0), c = t.dim(1);
        float[] src = t.toFloatArray(), dst = new float[src.length];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) dst[j * r + i] = src[i * c + j];
        }
        return Tensor.of(dst, c, r);
    }
}
