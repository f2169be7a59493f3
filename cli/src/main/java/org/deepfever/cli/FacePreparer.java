package org.deepfever.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.deepfever.faces.detect.FaceDetector;
import org.deepfever.faces.image.FaceCropper;
import org.deepfever.faces.image.ImageDecoder;
import org.deepfever.faces.image.Preprocess;
import org.deepfever.faces.image.RgbImage;
import org.deepfever.cli.output.FaceBox;

/**
 * Turns one input file into network inputs: decode (ImageIO), find faces per the detect mode, crop
 * with the 1.4 margin, resize to 140x140 (bilinear, as PIL), normalise. Never throws for a bad
 * image: the failure becomes the {@link Prepared#error()} text. Thread-safe.
 */
final class FacePreparer {
    enum Detect { auto, always, never }

    record Face(FaceBox box, float[] chw) {}

    record Prepared(InputWalker.Input input, List<Face> faces, String error) {}

    private final Detect mode;
    private final FaceDetector detector;

    FacePreparer(Detect mode) {
        this.mode = mode;
        this.detector = mode == Detect.never ? null : FaceDetector.frontalFace();
    }

    /** The decoder's message without the file name it starts with (the output names the image already). */
    private static String reason(IOException e, InputWalker.Input in) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        for (String prefix : new String[] {in.path().toString() + ": ", in.path().getFileName() + ": "}) {
            if (m.startsWith(prefix)) return m.substring(prefix.length());
        }
        return m;
    }

    Prepared prepare(InputWalker.Input in) {
        if (in.error() != null) return new Prepared(in, List.of(), in.error());
        try {
            RgbImage img = ImageDecoder.decode(in.path());
            List<Face> faces = new ArrayList<>();
            boolean crop = FaceCropper.isInputSized(img);
            if (mode == Detect.never || (mode == Detect.auto && crop)) {
                RgbImage whole = crop ? img : FaceCropper.resizeBilinear(img, FaceCropper.INPUT_SIZE, FaceCropper.INPUT_SIZE);
                faces.add(new Face(null, Preprocess.toChw(whole)));
            } else {
                for (org.deepfever.faces.detect.FaceBox b : detector.detect(img)) {
                    faces.add(new Face(new FaceBox(b.x(), b.y(), b.size(), b.size()), Preprocess.toChw(FaceCropper.crop(img, b))));
                }
            }
            return new Prepared(in, faces, null);
        } catch (IOException e) {
            return new Prepared(in, List.of(), reason(e, in));
        } catch (RuntimeException | OutOfMemoryError e) {
            return new Prepared(in, List.of(), "cannot process image: " + e);
        }
    }
}
