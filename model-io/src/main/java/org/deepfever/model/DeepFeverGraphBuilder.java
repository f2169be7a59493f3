package org.deepfever.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.BatchNorm;
import org.deepfever.core.op.Concat;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.Gemm;
import org.deepfever.core.op.GlobalAvgPool;
import org.deepfever.core.op.L2Normalize;
import org.deepfever.core.op.MaxPool2d;
import org.deepfever.core.op.Relu;

/**
 * Builds the DeepFEVER graph from a state dict with facenet-pytorch key names (see
 * src-test/reference/deepfever_ref.py). Channel counts come from weight shapes, repeat counts from the
 * keys present, the cut point from whether {@code repeat_3}/{@code block8} exist. At build time every
 * BatchNorm after a conv is folded into the conv, ReLU is fused into the conv's epilogue, and the
 * scaled residual {@code relu(x + scale * conv2d(cat))} becomes one conv with scaled weights and a
 * residual input.
 *
 * <p>Outputs: {@code features} [N,F], {@code embedding} [N,32] (L2-normalised fec head),
 * {@code logits} [N,8] (affectnet head) and any further Linear head on the features, under its key.
 */
public final class DeepFeverGraphBuilder {
    public static final int INPUT_SIZE = 140;
    static final float BACKBONE_BN_EPS = 1e-3f;
    static final float HEAD_BN_EPS = 1e-5f;
    static final List<String> TAPS = List.of("stem", "repeat_1", "mixed_6a", "repeat_2", "mixed_7a", "block8", "reduce", "dense", "project");

    private final StateDict sd;
    private final Graph.Builder g = Graph.builder();
    private final Map<String, Integer> widths = new LinkedHashMap<>();
    private final Map<String, String> tapNodes = new LinkedHashMap<>();
    private String lastNode;

    /** The built graph, its layout and which node produces each intermediate tap. */
    public record Result(Graph graph, DeepFeverLayout layout, Map<String, String> tapNodes) {}

    private DeepFeverGraphBuilder(String source, Map<String, Tensor> stateDict) {
        this.sd = new StateDict(source, stateDict);
    }

    /** Builds from a state dict; {@code source} (the file name) prefixes every error message. */
    public static Result build(String source, Map<String, Tensor> stateDict) {
        return new DeepFeverGraphBuilder(source, stateDict).build();
    }

    private Result build() {
        int x = g.input("input", Shape.of(-1, 3, INPUT_SIZE, INPUT_SIZE));
        x = basic("conv2d_1a", x, 3, 2, 0, 0);
        x = basic("conv2d_2a", x, 3, 1, 0, 0);
        x = basic("conv2d_2b", x, 3, 1, 1, 1);
        x = maxPool("maxpool_3a", x);
        x = basic("conv2d_3b", x, 1, 1, 0, 0);
        x = basic("conv2d_4a", x, 3, 1, 0, 0);
        x = basic("conv2d_4b", x, 3, 2, 0, 0);
        tap("stem");
        int[] repeats = new int[3];
        repeats[0] = count("repeat_1");
        for (int i = 0; i < repeats[0]; i++) x = block35("repeat_1." + i, x);
        tap("repeat_1");
        x = mixed6a("mixed_6a", x);
        tap("mixed_6a");
        repeats[1] = count("repeat_2");
        for (int i = 0; i < repeats[1]; i++) x = block17("repeat_2." + i, x);
        tap("repeat_2");
        x = mixed7a("mixed_7a", x);
        tap("mixed_7a");
        boolean full = false;
        for (String k : sd.keys()) full |= k.startsWith("repeat_3.") || k.startsWith("block8.");
        if (full) {
            repeats[2] = count("repeat_3");
            for (int i = 0; i < repeats[2]; i++) x = block8("repeat_3." + i, x, true);
            x = block8("block8", x, false);
            tap("block8");
        }
        x = convBnRelu("reduce", x);
        tap("reduce");
        int denseLayers = count("dense.layers");
        if (denseLayers == 0) throw sd.error("missing key 'dense.layers.0.norm1.weight': no DenseNet layers found");
        int growth = -1;
        List<Integer> feats = new ArrayList<>(List.of(x));
        int cat = x;
        for (int i = 0; i < denseLayers; i++) {
            int y = denseLayer("dense.layers." + i, cat);
            growth = channels(y);
            feats.add(y);
            cat = g.add("dense.cat" + (i + 1), new Concat(1, feats.size()), toArray(feats));
            lastNode = "dense.cat" + (i + 1);
        }
        widths.put("dense", channels(cat));
        tap("dense");
        x = convBnRelu("project", cat);
        tap("project");
        int features = g.add("features", new GlobalAvgPool(false), x);
        int featureDim = channels(x);
        g.output("features", features);

        Tensor fecW = sd.take("fec.weight", -1, featureDim);
        int embDim = fecW.dim(0);
        int fec = g.add("fec", new Gemm(fecW, sd.take("fec.bias", embDim)), features);
        g.output("embedding", g.add("embedding", L2Normalize.of(), fec));
        Tensor affW = sd.take("affectnet.weight", -1, featureDim);
        int classes = affW.dim(0);
        g.output("logits", g.add("logits", new Gemm(affW, sd.take("affectnet.bias", classes)), features));

        List<String> extra = extraHeads(featureDim, features);
        List<String> unused = sd.unused();
        if (!unused.isEmpty()) {
            throw sd.error("unexpected key" + (unused.size() > 1 ? "s " : " ") + unused.stream().limit(10).map(k -> "'" + k + "'").toList()
                    + (unused.size() > 10 ? " and " + (unused.size() - 10) + " more" : "") + " not part of the DeepFEVER layout");
        }
        var layout = new DeepFeverLayout(java.util.Collections.unmodifiableMap(new LinkedHashMap<>(widths)), repeats, full, denseLayers, growth, featureDim, embDim, classes,
                List.copyOf(extra), sd.strippedPrefix());
        return new Result(g.build(), layout, java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tapNodes)));
    }

    /** Further Linear heads on the features: top-level {@code NAME.weight} [k, F] with {@code NAME.bias} [k]. */
    private List<String> extraHeads(int featureDim, int features) {
        List<String> heads = new ArrayList<>();
        for (String key : new ArrayList<>(sd.keys())) {
            if (!key.endsWith(".weight")) continue;
            String name = key.substring(0, key.length() - ".weight".length());
            if (name.contains(".") || List.of("fec", "affectnet").contains(name)) continue;
            Tensor w = sd.take(key, -1, featureDim);
            Tensor b = sd.has(name + ".bias") ? sd.take(name + ".bias", w.dim(0)) : null;
            g.output(name, g.add(name, new Gemm(w, b), features));
            heads.add(name);
        }
        return heads;
    }

    private void tap(String name) { tapNodes.put(name, lastNode); }

    private static int[] toArray(List<Integer> values) {
        int[] out = new int[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = values.get(i);
        return out;
    }

    private int channels(int value) { return g.shapeOf(value).dim(1); }

    /** Blocks {@code prefix.<i>.} present, checked to run 0..n-1 without a gap. */
    private int count(String prefix) {
        String head = prefix + ".";
        TreeSet<Integer> idx = new TreeSet<>();
        for (String k : sd.keys()) {
            if (!k.startsWith(head)) continue;
            int start = head.length(), end = start;
            while (end < k.length() && isDigit(k.charAt(end))) end++;
            if (end > start && end < k.length() && k.charAt(end) == '.') idx.add(Integer.parseInt(k, start, end, 10));
        }
        for (int i = 0; i < idx.size(); i++) {
            if (!idx.contains(i)) throw sd.error("missing key '" + prefix + "." + i + ".*': " + prefix + " has blocks " + idx + " with a gap");
        }
        return idx.size();
    }

    private static boolean isDigit(char c) { return c >= '0' && c <= '9'; }

    /** BasicConv2d: conv (no bias) + BN (eps 1e-3) + ReLU, folded into one conv. Square kernel. */
    private int basic(String prefix, int x, int k, int stride, int padH, int padW) {
        return basic(prefix, x, k, k, stride, padH, padW);
    }

    private int basic(String prefix, int x, int kh, int kw, int stride, int padH, int padW) {
        int cin = channels(x);
        Tensor w = sd.take(prefix + ".conv.weight", -1, cin, kh, kw);
        Conv2d conv = Conv2d.of(w, null, stride, padH, padW, Activation.RELU);
        conv = batchNorm(prefix + ".bn", w.dim(0), BACKBONE_BN_EPS).foldInto(conv);
        recordWidth(prefix, w.dim(0));
        lastNode = prefix;
        return g.add(prefix, conv, x);
    }

    /** Stem convs by name; inside blocks, one entry per branch conv position (e.g. repeat_2.branch1.1). */
    private void recordWidth(String prefix, int channels) {
        if (prefix.startsWith("mixed_")) return;
        // "repeat_<d>.<i>..." -> "repeat_<d>..." (the block index dropped)
        String key = prefix;
        if (prefix.length() > 9 && prefix.startsWith("repeat_") && isDigit(prefix.charAt(7)) && prefix.charAt(8) == '.') {
            int end = 9;
            while (end < prefix.length() && isDigit(prefix.charAt(end))) end++;
            if (end > 9) key = prefix.substring(0, 8) + prefix.substring(end);
        }
        widths.putIfAbsent(key, channels);
    }

    private BatchNorm batchNorm(String prefix, int c, float eps) {
        return new BatchNorm(sd.take(prefix + ".weight", c), sd.take(prefix + ".bias", c),
                sd.take(prefix + ".running_mean", c), sd.take(prefix + ".running_var", c), eps);
    }

    private int maxPool(String name, int x) {
        lastNode = name;
        return g.add(name, MaxPool2d.of(3, 2), x);
    }

    private int concat(String name, int... parts) {
        lastNode = name;
        return g.add(name, new Concat(1, parts.length), parts);
    }

    /** The closing 1x1 conv of a residual block: act(x + scale * (W cat + b)), as one conv. */
    private int residual(String prefix, int cat, int x, float scale, Activation act) {
        int c = channels(x);
        Tensor w = sd.take(prefix + ".conv2d.weight", c, channels(cat), 1, 1);
        Tensor b = sd.take(prefix + ".conv2d.bias", c);
        Conv2d conv = Conv2d.of(w, b, 1, 0, 0, act).scaledBy(scale).withResidual(true);
        lastNode = prefix + ".conv2d";
        return g.add(lastNode, conv, cat, x);
    }

    private int block35(String p, int x) {
        int b0 = basic(p + ".branch0", x, 1, 1, 0, 0);
        int b1 = basic(p + ".branch1.1", basic(p + ".branch1.0", x, 1, 1, 0, 0), 3, 1, 1, 1);
        int b2 = basic(p + ".branch2.0", x, 1, 1, 0, 0);
        b2 = basic(p + ".branch2.2", basic(p + ".branch2.1", b2, 3, 1, 1, 1), 3, 1, 1, 1);
        return residual(p, concat(p + ".cat", b0, b1, b2), x, 0.17f, Activation.RELU);
    }

    private int block17(String p, int x) {
        int b0 = basic(p + ".branch0", x, 1, 1, 0, 0);
        int b1 = basic(p + ".branch1.0", x, 1, 1, 0, 0);
        b1 = basic(p + ".branch1.1", b1, 1, 7, 1, 0, 3);
        b1 = basic(p + ".branch1.2", b1, 7, 1, 1, 3, 0);
        return residual(p, concat(p + ".cat", b0, b1), x, 0.10f, Activation.RELU);
    }

    private int block8(String p, int x, boolean relu) {
        int b0 = basic(p + ".branch0", x, 1, 1, 0, 0);
        int b1 = basic(p + ".branch1.0", x, 1, 1, 0, 0);
        b1 = basic(p + ".branch1.1", b1, 1, 3, 1, 0, 1);
        b1 = basic(p + ".branch1.2", b1, 3, 1, 1, 1, 0);
        return residual(p, concat(p + ".cat", b0, b1), x, 0.20f, relu ? Activation.RELU : Activation.NONE);
    }

    private int mixed6a(String p, int x) {
        int b0 = basic(p + ".branch0", x, 3, 2, 0, 0);
        int b1 = basic(p + ".branch1.0", x, 1, 1, 0, 0);
        b1 = basic(p + ".branch1.2", basic(p + ".branch1.1", b1, 3, 1, 1, 1), 3, 2, 0, 0);
        int b2 = maxPool(p + ".branch2", x);
        int out = concat(p, b0, b1, b2);
        widths.put(p, channels(out));
        return out;
    }

    private int mixed7a(String p, int x) {
        int b0 = basic(p + ".branch0.1", basic(p + ".branch0.0", x, 1, 1, 0, 0), 3, 2, 0, 0);
        int b1 = basic(p + ".branch1.1", basic(p + ".branch1.0", x, 1, 1, 0, 0), 3, 2, 0, 0);
        int b2 = basic(p + ".branch2.0", x, 1, 1, 0, 0);
        b2 = basic(p + ".branch2.2", basic(p + ".branch2.1", b2, 3, 1, 1, 1), 3, 2, 0, 0);
        int b3 = maxPool(p + ".branch3", x);
        int out = concat(p, b0, b1, b2, b3);
        widths.put(p, channels(out));
        return out;
    }

    /** Head ConvBnRelu: 1x1 conv (no bias) + BN (eps 1e-5) + ReLU. */
    private int convBnRelu(String p, int x) {
        Tensor w = sd.take(p + ".conv.weight", -1, channels(x), 1, 1);
        Conv2d conv = batchNorm(p + ".bn", w.dim(0), HEAD_BN_EPS).foldInto(Conv2d.of(w, null, 1, 0, 0, Activation.RELU));
        widths.put(p, w.dim(0));
        lastNode = p;
        return g.add(p, conv, x);
    }

    /** torchvision DenseNet layer: BN-ReLU-1x1 conv, BN-ReLU-3x3 conv; the second BN folds into conv1. */
    private int denseLayer(String p, int x) {
        int cin = channels(x);
        int y = g.add(p + ".norm1", batchNorm(p + ".norm1", cin, HEAD_BN_EPS), x);
        y = g.add(p + ".relu1", new Relu(), y);
        Tensor w1 = sd.take(p + ".conv1.weight", -1, cin, 1, 1);
        Conv2d c1 = batchNorm(p + ".norm2", w1.dim(0), HEAD_BN_EPS).foldInto(Conv2d.of(w1, null, 1, 0, 0, Activation.RELU));
        y = g.add(p + ".conv1", c1, y);
        Tensor w2 = sd.take(p + ".conv2.weight", -1, w1.dim(0), 3, 3);
        lastNode = p + ".conv2";
        return g.add(lastNode, Conv2d.of(w2, null, 1, 1, 1, Activation.NONE), y);
    }
}
