package org.deepfever.io;

import java.util.List;
import org.deepfever.io.onnx.proto.Onnx.AttributeProto;
import org.deepfever.io.onnx.proto.Onnx.AttributeProto.AttributeType;
import org.deepfever.io.onnx.proto.Onnx.NodeProto;
import org.deepfever.io.onnx.proto.Onnx.TensorProto;

/**
 * Typed access to ONNX node attributes. Getters return the default when the attribute is absent
 * and throw IllegalArgumentException (naming node, op and attribute) when it has another type.
 */
public final class OnnxAttrs {
    private OnnxAttrs() {}

    /** The attribute of that name, or null. */
    public static AttributeProto find(NodeProto node, String name) {
        for (AttributeProto a : node.getAttributeList()) if (a.getName().equals(name)) return a;
        return null;
    }

    /** Whether the node has the attribute. */
    public static boolean has(NodeProto node, String name) { return find(node, name) != null; }

    /** An INT attribute. */
    public static long getInt(NodeProto node, String name, long dflt) {
        AttributeProto a = typed(node, name, AttributeType.INT);
        return a == null ? dflt : a.getI();
    }

    /** A FLOAT attribute. */
    public static float getFloat(NodeProto node, String name, float dflt) {
        AttributeProto a = typed(node, name, AttributeType.FLOAT);
        return a == null ? dflt : a.getF();
    }

    /** A STRING attribute, decoded as UTF-8. */
    public static String getString(NodeProto node, String name, String dflt) {
        AttributeProto a = typed(node, name, AttributeType.STRING);
        return a == null ? dflt : a.getS().toStringUtf8();
    }

    /** An INTS attribute. */
    public static long[] getInts(NodeProto node, String name, long[] dflt) {
        AttributeProto a = typed(node, name, AttributeType.INTS);
        if (a == null) return dflt;
        List<Long> l = a.getIntsList();
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = l.get(i);
        return out;
    }

    /** An INTS attribute as ints (shapes, pads, strides); values beyond int range are an error. */
    public static int[] getIntArray(NodeProto node, String name, int[] dflt) {
        long[] v = getInts(node, name, null);
        if (v == null) return dflt;
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] != (int) v[i]) throw new IllegalArgumentException(where(node, name) + " value " + v[i] + " exceeds the int range");
            out[i] = (int) v[i];
        }
        return out;
    }

    /** A FLOATS attribute. */
    public static float[] getFloats(NodeProto node, String name, float[] dflt) {
        AttributeProto a = typed(node, name, AttributeType.FLOATS);
        if (a == null) return dflt;
        float[] out = new float[a.getFloatsCount()];
        for (int i = 0; i < out.length; i++) out[i] = a.getFloats(i);
        return out;
    }

    /** A TENSOR attribute (e.g. Constant's "value"), or null; decode it with OnnxModel.toTensor/toInts. */
    public static TensorProto getTensor(NodeProto node, String name) {
        AttributeProto a = typed(node, name, AttributeType.TENSOR);
        return a == null ? null : a.getT();
    }

    private static AttributeProto typed(NodeProto node, String name, AttributeType type) {
        AttributeProto a = find(node, name);
        if (a == null) return null;
        AttributeType actual = a.hasType() ? a.getType() : inferType(a);
        if (actual != type) throw new IllegalArgumentException(where(node, name) + " is " + actual + ", expected " + type);
        return a;
    }

    /** For old files that omit the type field: the type implied by the field that is set. */
    private static AttributeType inferType(AttributeProto a) {
        if (a.hasF()) return AttributeType.FLOAT;
        if (a.hasI()) return AttributeType.INT;
        if (a.hasS()) return AttributeType.STRING;
        if (a.hasT()) return AttributeType.TENSOR;
        if (a.hasG()) return AttributeType.GRAPH;
        if (a.getFloatsCount() > 0) return AttributeType.FLOATS;
        if (a.getIntsCount() > 0) return AttributeType.INTS;
        if (a.getStringsCount() > 0) return AttributeType.STRINGS;
        return AttributeType.UNDEFINED;
    }

    private static String where(NodeProto node, String name) {
        return "node '" + node.getName() + "' (" + node.getOpType() + "): attribute '" + name + "'";
    }
}
