package org.deepfever.model;

import java.util.List;
import java.util.Map;

/**
 * What the builder inferred from a checkpoint: channel widths, repeat counts, the cut point and the
 * heads. {@code widthOf} maps stage names (conv2d_1a ... project) to output channels.
 */
public record DeepFeverLayout(Map<String, Integer> widths, int[] repeats, boolean fullBackbone, int denseLayers,
                              int denseGrowth, int featureDim, int embeddingDim, int classes,
                              List<String> extraHeads, String strippedPrefix) {

    public String describe() {
        return "widths " + widths + ", repeats " + repeats[0] + "," + repeats[1] + "," + repeats[2]
                + ", cut after " + (fullBackbone ? "block8 (full backbone)" : "mixed_7a")
                + ", dense " + denseLayers + "x" + denseGrowth + ", features " + featureDim
                + ", embedding " + embeddingDim + ", classes " + classes
                + (extraHeads.isEmpty() ? "" : ", extra heads " + extraHeads);
    }
}
