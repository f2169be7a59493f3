package org.deepfever.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DeepFEVER's outputs for one face: the 128-d expression features, the 32-d L2-normalised FEC
 * embedding, the AffectNet logits with their softmax probabilities, and any further heads found in
 * the checkpoint, by key name.
 */
public record FaceResult(float[] features, float[] embedding, float[] logits, float[] probabilities,
                         List<String> classes, Map<String, float[]> extraHeads) {

    /** The most probable expression class. */
    public String label() {
        int best = 0;
        for (int i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
        return classes.get(best);
    }

    /** Class name to probability, in class order. */
    public Map<String, Float> scores() {
        Map<String, Float> m = new LinkedHashMap<>();
        for (int i = 0; i < probabilities.length; i++) m.put(classes.get(i), probabilities[i]);
        return m;
    }

    /** Numerically stable softmax. */
    public static float[] softmax(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        double[] e = new double[logits.length];
        for (int i = 0; i < logits.length; i++) sum += e[i] = Math.exp(logits[i] - max);
        float[] p = new float[logits.length];
        for (int i = 0; i < p.length; i++) p[i] = (float) (e[i] / sum);
        return p;
    }
}
