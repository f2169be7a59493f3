package org.deepfever.cli;

import java.io.IOException;
import java.util.List;
import org.deepfever.faces.FaceAnalyzer;
import org.deepfever.faces.image.ImageDecoder;

/**
 * Turns one input file into the model's inputs with the library's {@link FaceAnalyzer} (decode,
 * detect per the mode, crop and prepare as the model says). Never throws for a bad image: the
 * failure becomes the {@link Prepared#error()} text. Thread-safe.
 */
final class FacePreparer {
    record Prepared(InputWalker.Input input, List<FaceAnalyzer.PreparedFace> faces, String error) {}

    private final FaceAnalyzer analyzer;

    FacePreparer(FaceAnalyzer analyzer) {
        this.analyzer = analyzer;
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
            return new Prepared(in, analyzer.prepare(ImageDecoder.decode(in.path())), null);
        } catch (IOException e) {
            return new Prepared(in, List.of(), reason(e, in));
        } catch (RuntimeException | OutOfMemoryError e) {
            return new Prepared(in, List.of(), "cannot process image: " + e);
        }
    }
}
