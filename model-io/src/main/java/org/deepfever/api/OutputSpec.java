package org.deepfever.api;

import java.util.List;

/**
 * What one {@link FaceResult} of a {@link FaceModel} holds.
 *
 * @param featureLength   length of {@link FaceResult#features()}
 * @param embeddingLength length of {@link FaceResult#embedding()}, 0 where the model has none
 * @param classes         expression class names, in logit order
 */
public record OutputSpec(int featureLength, int embeddingLength, List<String> classes) {
    /** Copies the class list. */
    public OutputSpec {
        classes = List.copyOf(classes);
    }

    /** Whether results carry an embedding. */
    public boolean hasEmbedding() { return embeddingLength > 0; }
}
