package org.deepfever.faces;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceResult;
import org.deepfever.faces.detect.FaceBox;
import org.deepfever.faces.detect.FaceDetector;
import org.deepfever.faces.image.ImageDecoder;
import org.deepfever.faces.image.RgbImage;

/**
 * From a photo to face results in one call: decode, find the faces (OpenCV's LBP frontal-face
 * cascade), crop and prepare each as the model's {@link org.deepfever.api.InputSpec} says, run them
 * as one batch.
 *
 * <pre>{@code
 * try (FaceModel model = FaceModels.load("face-expression")) {
 *     for (FaceAnalyzer.Face f : new FaceAnalyzer(model).analyze(Path.of("photo.jpg"))) {
 *         System.out.println(f.box() + " " + f.result().label());
 *     }
 * }
 * }</pre>
 *
 * Thread-safe; the analyzer does not own the model (close the model yourself).
 */
public final class FaceAnalyzer {
    /** When to run the face detector. */
    public enum Detect {
        /** Detect, unless the image already is a crop of the model's input size. */
        AUTO,
        /** Detect in every image. */
        ALWAYS,
        /** Never detect: the whole image is the face. */
        NEVER
    }

    /**
     * One face of a photo and the model's result for it.
     *
     * @param box    where the face was found, or null when the whole image was taken as the face
     * @param result the model's outputs
     */
    public record Face(FaceBox box, FaceResult result) {}

    /**
     * One face prepared for the model, before it runs (for callers that batch across images).
     *
     * @param box   where the face was found, or null for the whole image
     * @param input the model input, {@code model.input().values()} floats
     */
    public record PreparedFace(FaceBox box, float[] input) {}

    private final FaceModel model;
    private final Detect mode;
    /** Made on first need: a run of face crops never parses the cascade. */
    private volatile FaceDetector detector;

    /**
     * An analyzer that detects faces unless an image already is an input-sized crop.
     *
     * @param model the model to run (not closed by the analyzer)
     */
    public FaceAnalyzer(FaceModel model) {
        this(model, Detect.AUTO);
    }

    /**
     * @param model the model to run (not closed by the analyzer)
     * @param mode  when to detect faces
     */
    public FaceAnalyzer(FaceModel model, Detect mode) {
        this.model = Objects.requireNonNull(model, "model");
        this.mode = Objects.requireNonNull(mode, "mode");
    }

    private FaceDetector detector() {
        FaceDetector d = detector;
        if (d == null) {
            d = FaceDetector.frontalFace(); // the cascade is parsed once per JVM; a race makes two cheap wrappers
            detector = d;
        }
        return d;
    }

    /**
     * Decodes an image file and runs the model on every face in it.
     *
     * @param image a JPEG, PNG, BMP or GIF file
     * @return one entry per face, left to right; empty when detection finds none
     * @throws IOException if the file cannot be read or decoded (the message names the file and why)
     * @throws IllegalStateException if the model is closed
     */
    public List<Face> analyze(Path image) throws IOException {
        return run(prepare(ImageDecoder.decode(image)));
    }

    /**
     * Runs the model on every face of an image already in memory.
     *
     * @param image any {@link BufferedImage} (converted to 8-bit RGB)
     * @return one entry per face, left to right; empty when detection finds none
     * @throws IllegalStateException if the model is closed
     */
    public List<Face> analyze(BufferedImage image) {
        return run(prepare(ImageDecoder.toRgb(image)));
    }

    /**
     * Finds the faces of a decoded image and prepares each as the model's input, without running it.
     *
     * @param image the decoded image
     * @return the prepared faces, left to right
     */
    public List<PreparedFace> prepare(RgbImage image) {
        List<PreparedFace> faces = new ArrayList<>();
        int size = model.input().size();
        boolean isCrop = image.width() == size && image.height() == size;
        if (mode == Detect.NEVER || (mode == Detect.AUTO && isCrop)) {
            faces.add(new PreparedFace(null, ModelInput.prepare(image, null, model.input())));
        } else {
            for (FaceBox b : detector().detect(image)) faces.add(new PreparedFace(b, ModelInput.prepare(image, b, model.input())));
        }
        return faces;
    }

    /**
     * Runs prepared faces as one batch.
     *
     * @param faces faces from {@link #prepare(RgbImage)}
     * @return their results, in order
     * @throws IllegalStateException if the model is closed
     */
    public List<Face> run(List<PreparedFace> faces) {
        if (faces.isEmpty()) return List.of();
        List<FaceResult> results = model.extract(faces.stream().map(PreparedFace::input).toList());
        List<Face> out = new ArrayList<>(faces.size());
        for (int i = 0; i < faces.size(); i++) out.add(new Face(faces.get(i).box(), results.get(i)));
        return out;
    }
}
