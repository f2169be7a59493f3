package org.deepfever.cli.output;

import java.io.IOException;
import org.deepfever.api.FaceResult;

/** Where extraction results go, in input order. */
public interface ResultSink extends AutoCloseable {
    /** One face of {@code image}; {@code box} is null when the whole image was the crop. */
    void face(String image, FaceBox box, FaceResult result) throws IOException;

    /** Detection ran and found no face. */
    void noFace(String image) throws IOException;

    /** The image could not be used; the run goes on. */
    void error(String image, String reason) throws IOException;

    /** Makes the output final (renames a temporary file over the target). */
    void finish() throws IOException;

    @Override void close() throws IOException;
}
