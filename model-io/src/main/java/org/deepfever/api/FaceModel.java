package org.deepfever.api;

import java.util.List;

/**
 * A face model: a network that turns one prepared face crop into a feature vector, an optional
 * embedding and expression scores. DeepFEVER ({@link DeepFever}, with the user's weights) and the
 * built-in expression model ({@link ExpressionModel}) both implement it; {@link FaceModels#load}
 * returns either.
 *
 * <p>The model says what it takes ({@link #input()}: size, colour order, normalisation, how a
 * detected face is fitted into the crop) and what it gives ({@link #output()}), so image code can
 * prepare faces for any model (the {@code fever-faces} module does). One instance is safe to share
 * across threads. Close it to release its worker threads and memory-mapped weights; a closed model
 * throws {@link IllegalStateException}.
 */
public interface FaceModel extends AutoCloseable {
    /** A short name: {@code deepfever}, {@code face-expression}, ... */
    String name();

    /** A caveat every result should carry (e.g. untrained weights), or null. */
    String note();

    /** What one input face must be. */
    InputSpec input();

    /**
     * What one result holds.
     *
     * @throws IllegalStateException if the model is closed
     */
    OutputSpec output();

    /**
     * Runs the faces as one batch.
     *
     * @param faces prepared crops, each {@code 3 * size * size} floats, channel planes in
     *              {@link InputSpec#colors()} order, normalised as {@link InputSpec} says
     * @return one result per face, in order
     * @throws IllegalArgumentException if a face has the wrong number of values
     * @throws IllegalStateException if the model is closed
     */
    List<FaceResult> extract(List<float[]> faces);

    /**
     * Runs one face.
     *
     * @param chw one prepared crop, as in {@link #extract(List)}
     * @return its result
     * @throws IllegalArgumentException if it has the wrong number of values
     * @throws IllegalStateException if the model is closed
     */
    default FaceResult extract(float[] chw) {
        return extract(List.of(chw)).get(0);
    }

    /** Worker threads the model runs on. */
    int threads();

    /**
     * Lines describing the model for people ({@code fever info}): source, format, shapes, compute.
     *
     * @throws IllegalStateException if the model is closed
     */
    List<String> describe();

    /**
     * Releases the worker threads (they have ended when this returns) and the weights (a mapped
     * file is unmapped). Afterwards every call that runs or describes the model ({@link #extract},
     * {@link #output}, {@link #describe}, and DeepFever's run, taps, info, kernelChoices and graph)
     * throws {@link IllegalStateException} naming the model's file (the built-in model: its name);
     * {@link #name}, {@link #note}, {@link #input} and {@link #threads} still answer. Idempotent.
     */
    @Override
    void close();
}
