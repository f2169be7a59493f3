package org.deepfever.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.BatchNorm;
import org.deepfever.core.op.Binary;
import org.deepfever.core.op.Clip;
import org.deepfever.core.op.Concat;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.Flatten;
import org.deepfever.core.op.Gemm;
import org.deepfever.core.op.GlobalAvgPool;
import org.deepfever.core.op.Identity;
import org.deepfever.core.op.L2Normalize;
import org.deepfever.core.op.MaxPool2d;
import org.deepfever.core.op.ReduceL2;
import org.deepfever.core.op.Relu;
import org.deepfever.core.op.Reshape;
import org.deepfever.core.op.ResidualAdd;
import org.deepfever.core.op.Sigmoid;
import org.deepfever.core.op.Softmax;
import org.deepfever.core.op.Transpose;
import org.deepfever.io.ModelFormatException;
import org.deepfever.io.OnnxAttrs;
import org.deepfever.io.OnnxModel;
import org.deepfever.io.onnx.proto.Onnx.NodeProto;
import org.deepfever.io.onnx.proto.Onnx.TensorShapeProto;
import org.deepfever.io.onnx.proto.Onnx.ValueInfoProto;

/**
 * Turns an ONNX graph (as torch.onnx.export writes DeepFEVER, and its common neighbours) into the
 * engine's graph. Fusions done here: Relu into the preceding Conv; {@code Conv -> Mul(scalar) ->
 * Add(x) [-> Relu]} (the Inception-ResNet residual) into one Conv with scaled weights and a residual
 * input; {@code Mul(scalar) -> Add} elsewhere into ResidualAdd. {@code Shape}/{@code Expand} pairs that
 * only feed a broadcasting op become no-ops. Every unsupported op type is reported at once, each with
 * a node name.
 */
public final class OnnxGraphConverter {
    static final Set<String> SUPPORTED = Set.of("Conv", "Relu", "Concat", "Constant", "Mul", "Add", "Sub", "Div",
            "BatchNormalization", "MaxPool", "Gemm", "MatMul", "ReduceMean", "ReduceL2", "Clip", "Shape", "Expand",
            "GlobalAveragePool", "Flatten", "Reshape", "Softmax", "Sigmoid", "Transpose", "Identity");

    private final OnnxModel model;
    private final String source;
    private final Graph.Builder g = Graph.builder();
    private final Map<String, Integer> values = new HashMap<>();
    private final Map<String, Tensor> constants = new HashMap<>();
    private final Map<String, long[]> intConstants = new HashMap<>();
    private final Map<String, String> shapeOf = new HashMap<>();   // Shape output -> the value it measures
    private final Map<String, List<NodeProto>> consumers = new HashMap<>();
    private final Set<String> graphOutputs = new HashSet<>();
    /** By identity: a proto message's hashCode walks the whole message through its descriptors. */
    private final Set<NodeProto> absorbed = Collections.newSetFromMap(new IdentityHashMap<>());

    private OnnxGraphConverter(OnnxModel model) {
        this.model = model;
        this.source = model.path().getFileName().toString();
    }

    public static Graph convert(OnnxModel model) throws ModelFormatException {
        return new OnnxGraphConverter(model).convert();
    }

    private Graph convert() throws ModelFormatException {
        List<NodeProto> nodes = model.graph().getNodeList();
        List<String> unsupported = new ArrayList<>();
        for (NodeProto n : nodes) {
            if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) unsupported.add(n.getDomain() + "." + n.getOpType() + " (node " + name(n) + ")");
            else if (!SUPPORTED.contains(n.getOpType())) unsupported.add(n.getOpType() + " (node " + name(n) + ")");
        }
        if (!unsupported.isEmpty()) {
            throw error("unsupported ONNX op" + (unsupported.size() > 1 ? "s: " : ": ") + String.join(", ", unsupported));
        }
        constants.putAll(model.initializers());
        model.intInitializers().forEach((k, v) -> intConstants.put(k, v.values()));
        for (NodeProto n : nodes) for (String in : n.getInputList()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        for (ValueInfoProto o : model.graph().getOutputList()) graphOutputs.add(o.getName());

        for (ValueInfoProto in : model.graph().getInputList()) {
            if (constants.containsKey(in.getName()) || intConstants.containsKey(in.getName())) continue;
            Shape shape = inputShape(in);
            try {
                values.put(in.getName(), g.input(in.getName(), shape));
            } catch (IllegalArgumentException e) {
                throw error("input '" + in.getName() + "': " + e.getMessage()); // e.g. declared twice
            }
        }
        if (values.isEmpty()) throw error("graph has no input");
        // Constants have no inputs: evaluate them first, so that fusions looking ahead from a Conv
        // (Conv -> Mul(scalar) -> Add) see the scale even when its Constant node comes later.
        for (NodeProto n : nodes) {
            if (n.getOpType().equals("Constant")) {
                try {
                    constant(n);
                } catch (RuntimeException e) {
                    throw nodeError(n, e);
                }
                absorbed.add(n);
            }
        }
        for (NodeProto n : nodes) {
            if (absorbed.contains(n)) continue;
            try {
                convertNode(n);
            } catch (RuntimeException e) {
                throw nodeError(n, e);
            }
        }
        for (ValueInfoProto o : model.graph().getOutputList()) {
            Integer v = values.get(o.getName());
            if (v == null) throw error("graph output '" + o.getName() + "' is not computed by any supported node");
            g.output(o.getName(), v);
        }
        try {
            return g.build();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw error("graph is inconsistent: " + e.getMessage());
        }
    }

    /**
     * A node that cannot be converted, as an error naming it. Checks throw IllegalArgumentException
     * with a message; a malformed node can also break an assumption in a way that surfaces as
     * another runtime exception (an index out of bounds for a weight of the wrong rank or a missing
     * input), reported the same way, with the exception as the cause, rather than escaping bare.
     */
    private ModelFormatException nodeError(NodeProto n, RuntimeException e) {
        String what = e instanceof IllegalArgumentException && e.getMessage() != null ? e.getMessage() : "malformed node (" + e + ")";
        return new ModelFormatException(model.path(), null, "node " + name(n) + " (" + n.getOpType() + "): " + what, e);
    }

    private Shape inputShape(ValueInfoProto in) throws ModelFormatException {
        if (!in.getType().hasTensorType()) throw error("input '" + in.getName() + "' is not a tensor");
        TensorShapeProto s = in.getType().getTensorType().getShape();
        if (s.getDimCount() == 0) throw error("input '" + in.getName() + "' has no dimensions; a batch of images [N, C, H, W] is expected");
        int[] dims = new int[s.getDimCount()];
        for (int i = 0; i < dims.length; i++) {
            var d = s.getDim(i);
            if (d.hasDimValue()) {
                long v = d.getDimValue();
                if (v < 0 || v > Integer.MAX_VALUE) throw error("input '" + in.getName() + "': dim " + i + " is " + v + ", not a size");
                dims[i] = (int) v;
            } else if (i == 0) dims[i] = -1;
            else throw error("input '" + in.getName() + "': only the first (batch) dimension may be dynamic, dim " + i + " is '" + d.getDimParam() + "'");
        }
        return Shape.of(dims);
    }

    private void convertNode(NodeProto n) throws ModelFormatException {
        switch (n.getOpType()) {
            case "Constant" -> constant(n);
            case "Identity" -> {
                if (constants.containsKey(n.getInput(0))) constants.put(n.getOutput(0), constants.get(n.getInput(0)));
                else define(n, new Identity(), in(n, 0));
            }
            case "Conv" -> conv(n);
            case "Relu" -> define(n, new Relu(), in(n, 0));
            case "Sigmoid" -> define(n, new Sigmoid(), in(n, 0));
            case "Concat" -> {
                int[] ins = new int[n.getInputCount()];
                for (int i = 0; i < ins.length; i++) ins[i] = in(n, i);
                define(n, new Concat((int) OnnxAttrs.getInt(n, "axis", 1), ins.length), ins);
            }
            case "BatchNormalization" -> define(n, new BatchNorm(constant(n, 1), constant(n, 2), constant(n, 3), constant(n, 4),
                    OnnxAttrs.getFloat(n, "epsilon", 1e-5f)), in(n, 0));
            case "MaxPool" -> maxPool(n);
            case "Gemm" -> gemm(n);
            case "MatMul" -> matMul(n);
            case "ReduceMean" -> reduceMean(n);
            case "ReduceL2" -> {
                if (l2Normalize(n)) return;
                int[] axes = OnnxAttrs.getIntArray(n, "axes", null);
                if (axes == null) throw new IllegalArgumentException("ReduceL2 without axes (reduce over everything) is not supported");
                define(n, new ReduceL2(axes, OnnxAttrs.getInt(n, "keepdims", 1) != 0), in(n, 0));
            }
            case "Clip" -> clip(n);
            case "Shape" -> shapeOf.put(n.getOutput(0), n.getInput(0));
            case "Expand" -> expand(n);
            case "Add", "Sub", "Mul", "Div" -> binary(n);
            case "GlobalAveragePool" -> define(n, new GlobalAvgPool(true), in(n, 0));
            case "Flatten" -> define(n, new Flatten((int) OnnxAttrs.getInt(n, "axis", 1)), in(n, 0));
            case "Reshape" -> {
                long[] shape = intConstant(n, 1);
                int[] target = new int[shape.length];
                for (int i = 0; i < target.length; i++) target[i] = Math.toIntExact(shape[i]);
                if (OnnxAttrs.getInt(n, "allowzero", 0) != 0) throw new IllegalArgumentException("Reshape allowzero=1 is not supported");
                define(n, new Reshape(target), in(n, 0));
            }
            case "Softmax" -> define(n, new Softmax((int) OnnxAttrs.getInt(n, "axis", -1)), in(n, 0));
            case "Transpose" -> {
                int[] perm = OnnxAttrs.getIntArray(n, "perm", null);
                if (perm == null) {
                    int rank = g.shapeOf(in(n, 0)).rank();
                    perm = new int[rank];
                    for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
                }
                define(n, new Transpose(perm), in(n, 0));
            }
            default -> throw new IllegalArgumentException("unsupported op");
        }
    }

    private void constant(NodeProto n) throws ModelFormatException {
        String out = n.getOutput(0);
        if (OnnxAttrs.has(n, "value")) {
            var t = OnnxAttrs.getTensor(n, "value");
            int dt = t.getDataType();
            if (dt == 6 || dt == 7) intConstants.put(out, model.toInts(t).values());
            else constants.put(out, model.toTensor(t).copy());
        } else if (OnnxAttrs.has(n, "value_float")) {
            constants.put(out, Tensor.of(new float[] {OnnxAttrs.getFloat(n, "value_float", 0)}));
        } else if (OnnxAttrs.has(n, "value_floats")) {
            float[] f = OnnxAttrs.getFloats(n, "value_floats", null);
            constants.put(out, Tensor.of(f, f.length));
        } else if (OnnxAttrs.has(n, "value_int")) {
            intConstants.put(out, new long[] {OnnxAttrs.getInt(n, "value_int", 0)});
        } else if (OnnxAttrs.has(n, "value_ints")) {
            intConstants.put(out, OnnxAttrs.getInts(n, "value_ints", null));
        } else {
            throw new IllegalArgumentException("Constant without a supported value attribute");
        }
    }

    private void conv(NodeProto n) {
        Tensor w = constant(n, 1);
        Tensor b = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? constant(n, 2) : null;
        int x = in(n, 0);
        Shape xs = g.shapeOf(x);
        int[] k = OnnxAttrs.getIntArray(n, "kernel_shape", new int[] {w.dim(2), w.dim(3)});
        if (k.length != 2 || k[0] != w.dim(2) || k[1] != w.dim(3)) throw new IllegalArgumentException("only 2-D convolutions are supported; kernel_shape " + java.util.Arrays.toString(k) + ", weight " + w.shape());
        int[] s = OnnxAttrs.getIntArray(n, "strides", new int[] {1, 1});
        int[] d = OnnxAttrs.getIntArray(n, "dilations", new int[] {1, 1});
        int[] p = pads(n, xs, k, s, d);
        int groups = (int) OnnxAttrs.getInt(n, "group", 1);
        Conv2d conv = new Conv2d(w, b, s[0], s[1], p[0], p[1], p[2], p[3], d[0], d[1], groups, Activation.NONE, false);

        // Fusions along a single-consumer chain: [Mul(scalar) -> Add(residual)] then [Relu].
        String out = n.getOutput(0);
        NodeProto last = n;
        int residual = -1;
        NodeProto mul = soleConsumer(out, "Mul");
        if (mul != null) {
            Float scale = scalarOperand(mul, out);
            NodeProto add = scale == null ? null : soleConsumer(mul.getOutput(0), "Add");
            if (add != null) {
                String other = add.getInput(0).equals(mul.getOutput(0)) ? add.getInput(1) : add.getInput(0);
                Integer r = values.get(other);
                if (r != null && g.shapeOf(r).equals(conv.outputShape(xs))) {
                    conv = conv.scaledBy(scale).withResidual(true);
                    residual = r;
                    absorbed.add(mul);
                    absorbed.add(add);
                    last = add;
                }
            }
        }
        NodeProto relu = soleConsumer(last.getOutput(0), "Relu");
        if (relu != null) {
            conv = conv.withActivation(Activation.RELU);
            absorbed.add(relu);
            last = relu;
        }
        int v = residual >= 0 ? g.add(name(n), conv, x, residual) : g.add(name(n), conv, x);
        values.put(last.getOutput(0), v);
    }

    /** ONNX pads [top, left, bottom, right], or computed from auto_pad. */
    private static int[] pads(NodeProto n, Shape xs, int[] k, int[] s, int[] d) {
        String auto = OnnxAttrs.getString(n, "auto_pad", "NOTSET");
        int[] p = OnnxAttrs.getIntArray(n, "pads", new int[] {0, 0, 0, 0});
        if (p.length != 4) throw new IllegalArgumentException("pads must have 4 values, got " + java.util.Arrays.toString(p));
        switch (auto) {
            case "NOTSET" -> { return p; }
            case "VALID" -> { return new int[] {0, 0, 0, 0}; }
            case "SAME_UPPER", "SAME_LOWER" -> {
                int[] out = new int[4];
                for (int i = 0; i < 2; i++) {
                    int in = xs.dim(2 + i);
                    int o = Math.ceilDiv(in, s[i]);
                    int total = Math.max(0, (o - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in);
                    int small = total / 2, big = total - small;
                    out[i] = auto.equals("SAME_UPPER") ? small : big;
                    out[i + 2] = auto.equals("SAME_UPPER") ? big : small;
                }
                return out;
            }
            default -> throw new IllegalArgumentException("auto_pad " + auto + " is not supported");
        }
    }

    private void maxPool(NodeProto n) {
        int x = in(n, 0);
        int[] k = OnnxAttrs.getIntArray(n, "kernel_shape", null);
        if (k == null || k.length != 2) throw new IllegalArgumentException("only 2-D max pooling is supported");
        int[] s = OnnxAttrs.getIntArray(n, "strides", new int[] {1, 1});
        int[] d = OnnxAttrs.getIntArray(n, "dilations", new int[] {1, 1});
        if (d[0] != 1 || d[1] != 1) throw new IllegalArgumentException("dilated max pooling is not supported");
        if (n.getOutputCount() > 1 && !n.getOutput(1).isEmpty()) throw new IllegalArgumentException("MaxPool indices output is not supported");
        int[] p = pads(n, g.shapeOf(x), k, s, d);
        define(n, new MaxPool2d(k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3], OnnxAttrs.getInt(n, "ceil_mode", 0) != 0), x);
    }

    private void gemm(NodeProto n) {
        if (OnnxAttrs.getInt(n, "transA", 0) != 0) throw new IllegalArgumentException("Gemm with transA=1 is not supported");
        float alpha = OnnxAttrs.getFloat(n, "alpha", 1f), beta = OnnxAttrs.getFloat(n, "beta", 1f);
        Tensor w = constant(n, 1);
        if (w.rank() != 2) throw new IllegalArgumentException("Gemm B must be 2-D, got " + w.shape());
        float[] wa = w.toFloatArray();
        int rows = w.dim(0), cols = w.dim(1);
        float[] packed;
        int out, inF;
        if (OnnxAttrs.getInt(n, "transB", 0) != 0) {
            out = rows; inF = cols;
            packed = wa;
            if (alpha != 1f) for (int i = 0; i < packed.length; i++) packed[i] *= alpha;
        } else {
            out = cols; inF = rows;
            packed = new float[wa.length];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) packed[c * rows + r] = alpha * wa[r * cols + c];
        }
        Tensor bias = null;
        if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            Tensor c = constant(n, 2);
            if (c.size() == out || c.size() == 1) {
                float[] cv = c.toFloatArray(), b = new float[out]; // (bulk: element reads of a mapped tensor are slow until compiled)
                for (int i = 0; i < out; i++) b[i] = beta * cv[cv.length == 1 ? 0 : i];
                bias = Tensor.of(b, out);
            } else {
                throw new IllegalArgumentException("Gemm C of shape " + c.shape() + " is not supported (expected [" + out + "] or a scalar)");
            }
        }
        define(n, new Gemm(alpha == 1f && packed == wa ? w : Tensor.of(packed, out, inF), bias), in(n, 0));
    }

    private void matMul(NodeProto n) {
        Tensor w = constant(n, 1);
        if (w.rank() != 2) throw new IllegalArgumentException("MatMul is supported with a constant 2-D right operand only, got " + w.shape());
        int rows = w.dim(0), cols = w.dim(1);
        float[] wa = w.toFloatArray(), t = new float[wa.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = wa[r * cols + c];
        define(n, new Gemm(Tensor.of(t, cols, rows), null), in(n, 0));
    }

    private void reduceMean(NodeProto n) {
        int x = in(n, 0);
        int rank = g.shapeOf(x).rank();
        int[] axes = OnnxAttrs.getIntArray(n, "axes", null);
        boolean keep = OnnxAttrs.getInt(n, "keepdims", 1) != 0;
        if (rank == 4 && axes != null && axes.length == 2) {
            int a0 = axes[0] < 0 ? axes[0] + 4 : axes[0], a1 = axes[1] < 0 ? axes[1] + 4 : axes[1];
            if (Math.min(a0, a1) == 2 && Math.max(a0, a1) == 3) {
                define(n, new GlobalAvgPool(keep), x);
                return;
            }
        }
        throw new IllegalArgumentException("ReduceMean is supported over the spatial axes [2, 3] of a 4-D tensor only, got axes "
                + java.util.Arrays.toString(axes) + " of " + g.shapeOf(x));
    }

    /**
     * PyTorch's {@code F.normalize(x, dim=a)} as exported: ReduceL2(x, axes=[a], keepdims=1) ->
     * Clip(min=eps) -> Expand(., Shape(x)) (or not) -> Div(x, .), each the sole user of the value
     * before it. Converted to one L2Normalize node, the op the .pth path builds; three nodes (one
     * with no SIMD kernel) otherwise. Returns false, converting nothing, when the pattern differs.
     */
    private boolean l2Normalize(NodeProto reduce) {
        int[] axes = OnnxAttrs.getIntArray(reduce, "axes", null);
        if (axes == null || axes.length != 1 || OnnxAttrs.getInt(reduce, "keepdims", 1) == 0) return false;
        String x = reduce.getInput(0);
        NodeProto clip = soleConsumer(reduce.getOutput(0), "Clip");
        if (clip == null) return false;
        for (int i = 1; i < clip.getInputCount(); i++) {
            if (!clip.getInput(i).isEmpty() && !constants.containsKey(clip.getInput(i))) return false; // Clip itself reports it
        }
        float[] bounds = clipBounds(clip);
        float eps = bounds[0];
        if (!(eps >= 0) || bounds[1] != Float.POSITIVE_INFINITY) return false;
        String denominator = clip.getOutput(0);
        NodeProto expand = soleConsumer(denominator, "Expand");
        if (expand != null) {
            NodeProto shape = producer(expand.getInput(1));
            if (shape == null || !shape.getOpType().equals("Shape") || !shape.getInput(0).equals(x)) return false;
            denominator = expand.getOutput(0);
        }
        NodeProto div = soleConsumer(denominator, "Div");
        if (div == null || !div.getInput(0).equals(x) || !div.getInput(1).equals(denominator)) return false;
        absorbed.add(clip);
        if (expand != null) absorbed.add(expand);
        absorbed.add(div);
        values.put(div.getOutput(0), g.add(name(div), new L2Normalize(axes[0], eps), in(reduce, 0)));
        return true;
    }

    private NodeProto producer(String value) {
        for (NodeProto n : model.graph().getNodeList()) if (n.getOutputList().contains(value)) return n;
        return null;
    }

    private void clip(NodeProto n) {
        float[] bounds = clipBounds(n);
        define(n, new Clip(bounds[0], bounds[1]), in(n, 0));
    }

    /** A Clip node's {min, max}: constant inputs 1 and 2 (opset >= 11) or attributes, else -inf/+inf. */
    private float[] clipBounds(NodeProto n) {
        float lo = Float.NEGATIVE_INFINITY, hi = Float.POSITIVE_INFINITY;
        if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) lo = constant(n, 1).getFlat(0);
        if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) hi = constant(n, 2).getFlat(0);
        lo = OnnxAttrs.getFloat(n, "min", lo); // opset < 11 attribute form
        hi = OnnxAttrs.getFloat(n, "max", hi);
        return new float[] {lo, hi};
    }

    /** Expand(v, Shape(y)) feeding only broadcasting ops whose other operand is y: v itself will do. */
    private void expand(NodeProto n) {
        String measured = shapeOf.get(n.getInput(1));
        if (measured == null) throw new IllegalArgumentException("Expand is supported only to the shape of another tensor (Shape output)");
        List<NodeProto> users = consumers.getOrDefault(n.getOutput(0), List.of());
        boolean ok = !graphOutputs.contains(n.getOutput(0)) && !users.isEmpty();
        for (NodeProto u : users) {
            ok &= Set.of("Add", "Sub", "Mul", "Div").contains(u.getOpType()) && u.getInputList().contains(measured);
        }
        if (!ok) throw new IllegalArgumentException("Expand is supported only where a broadcasting Add/Sub/Mul/Div with the measured tensor consumes it");
        values.put(n.getOutput(0), in(n, 0));
    }

    private void binary(NodeProto n) {
        String a = n.getInput(0), b = n.getInput(1);
        Binary.Fn fn = Binary.Fn.valueOf(n.getOpType().toUpperCase(java.util.Locale.ROOT));
        if (constants.containsKey(a) && constants.containsKey(b)) throw new IllegalArgumentException("constant folding of " + n.getOpType() + " is not supported");
        // x * scalar followed (only) by Add(y): the residual relu?(y + scale * x) as one op.
        if (fn == Binary.Fn.MUL) {
            String x = constants.containsKey(a) ? b : a;
            Float scale = scalarOperand(n, x);
            NodeProto add = scale == null ? null : soleConsumer(n.getOutput(0), "Add");
            if (add != null) {
                String other = add.getInput(0).equals(n.getOutput(0)) ? add.getInput(1) : add.getInput(0);
                Integer y = values.get(other), xv = values.get(x);
                if (y != null && xv != null && g.shapeOf(y).equals(g.shapeOf(xv))) {
                    NodeProto relu = soleConsumer(add.getOutput(0), "Relu");
                    absorbed.add(add);
                    NodeProto last = add;
                    if (relu != null) {
                        absorbed.add(relu);
                        last = relu;
                    }
                    values.put(last.getOutput(0), g.add(name(n), new ResidualAdd(scale, relu != null ? Activation.RELU : Activation.NONE), y, xv));
                    return;
                }
            }
        }
        if (constants.containsKey(a) || constants.containsKey(b)) {
            throw new IllegalArgumentException(n.getOpType() + " with a constant operand is supported only as the scaled residual (x * s + y)");
        }
        define(n, new Binary(fn), in(n, 0), in(n, 1));
    }

    /** The scalar constant operand of {@code node} when its other operand is {@code x}. */
    private Float scalarOperand(NodeProto node, String x) {
        if (node.getInputCount() != 2) return null;
        String other = node.getInput(0).equals(x) ? node.getInput(1) : node.getInput(1).equals(x) ? node.getInput(0) : null;
        Tensor c = other == null ? null : constants.get(other);
        return c != null && c.size() == 1 ? c.getFlat(0) : null;
    }

    private NodeProto soleConsumer(String value, String opType) {
        List<NodeProto> users = consumers.getOrDefault(value, List.of());
        if (users.size() != 1 || graphOutputs.contains(value)) return null;
        NodeProto u = users.get(0);
        return u.getOpType().equals(opType) ? u : null;
    }

    private void define(NodeProto n, org.deepfever.core.op.Op op, int... inputs) {
        values.put(n.getOutput(0), g.add(name(n), op, inputs));
    }

    private int in(NodeProto n, int i) {
        String name = n.getInput(i);
        Integer v = values.get(name);
        if (v == null) {
            if (constants.containsKey(name)) throw new IllegalArgumentException("input " + i + " '" + name + "' is a constant where an activation is expected");
            throw new IllegalArgumentException("input " + i + " '" + name + "' is not defined before this node (graph not topologically sorted or produced by an unsupported pattern)");
        }
        return v;
    }

    private Tensor constant(NodeProto n, int i) {
        if (n.getInputCount() <= i || n.getInput(i).isEmpty()) throw new IllegalArgumentException("missing input " + i);
        Tensor t = constants.get(n.getInput(i));
        if (t == null) throw new IllegalArgumentException("input " + i + " '" + n.getInput(i) + "' must be a constant float tensor (initializer)");
        return t;
    }

    private long[] intConstant(NodeProto n, int i) {
        long[] v = intConstants.get(n.getInput(i));
        if (v == null) throw new IllegalArgumentException("input " + i + " '" + n.getInput(i) + "' must be a constant int64 tensor");
        return v;
    }

    private static String name(NodeProto n) {
        return n.getName().isEmpty() ? n.getOpType() + "->" + (n.getOutputCount() > 0 ? n.getOutput(0) : "?") : n.getName();
    }

    private ModelFormatException error(String message) {
        return new ModelFormatException(model.path(), null, message);
    }

    /** Float initializer elements counted as parameters. */
    public static long parameterCount(OnnxModel model) {
        long n = 0;
        for (Tensor t : model.initializers().values()) n += t.size();
        return n;
    }

}
