package org.deepfever.cli;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.deepfever.faces.FaceAnalyzer;
import org.deepfever.faces.image.ImageDecoder;
import org.deepfever.faces.image.RgbImage;

/**
 * Turns one input file into the model's inputs with the library's {@link FaceAnalyzer} (decode,
 * detect per the mode, crop and prepare as the model says). The analyzer may come later than the
 * preparer (the model is still loading): an image is decoded first and waits for it only then.
 * Never throws for a bad image: the failure becomes the {@link Prepared#error()} text. Thread-safe.
 */
final class FacePreparer {
    record Prepared(InputWalker.Input input, List<FaceAnalyzer.PreparedFace> faces, String error) {}

    private final CompletableFuture<FaceAnalyzer> analyzer;

    /** @param analyzer completed once the model is loaded; failed if it cannot be */
    FacePreparer(CompletableFuture<FaceAnalyzer> analyzer) {
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
        RgbImage image;
        try {
            image = ImageDecoder.decode(in.path());
        } catch (IOException e) {
            return new Prepared(in, List.of(), reason(e, in));
        } catch (RuntimeException | OutOfMemoryError e) {
            return new Prepared(in, List.of(), "cannot process image: " + e);
        }
        FaceAnalyzer a;
        try {
            a = analyzer.join();
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            return new Prepared(in, List.of(), "model not loaded"); // the command reports the load's own error
        }
        try {
            return new Prepared(in, a.prepare(image), null);
        } catch (RuntimeException | OutOfMemoryError e) {
            return new Prepared(in, List.of(), "cannot process image: " + e);
        }
    }
}
