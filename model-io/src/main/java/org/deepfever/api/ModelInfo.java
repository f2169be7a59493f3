package org.deepfever.api;

import java.util.List;
import java.util.Map;
import org.deepfever.model.DeepFeverLayout;

/**
 * What {@code fever info} shows: file format, parameter count, the inferred layout (null for a
 * graph read from ONNX, where the layout is the file's own), inputs and outputs with shapes, compute
 * per face, planned peak activation memory for batch 1 and the backend running each op kind.
 */
public record ModelInfo(String file, String format, long parameters, DeepFeverLayout layout,
                        Map<String, String> inputs, Map<String, String> outputs, double gflopPerFace,
                        long peakActivationBytesBatch1, int nodes, Map<String, Long> backendNodeCounts) {

    public List<String> lines() {
        var out = new java.util.ArrayList<String>();
        out.add("file: " + file);
        out.add("format: " + format);
        out.add("parameters: " + parameters);
        if (layout != null) out.add("layout: " + layout.describe());
        out.add("inputs: " + inputs);
        out.add("outputs: " + outputs);
        out.add(String.format("compute: %.3f GFLOP per face", gflopPerFace));
        out.add(String.format("peak activation memory (batch 1, planned): %.2f MiB", peakActivationBytesBatch1 / 1048576.0));
        out.add("graph: " + nodes + " nodes, backends " + backendNodeCounts);
        return out;
    }
}
