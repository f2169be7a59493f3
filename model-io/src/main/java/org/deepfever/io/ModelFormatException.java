package org.deepfever.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A weight or model file that cannot be read: truncated, malformed, unsupported or unsafe. The
 * message always starts with the file and, where one is involved, names the tensor:
 * {@code "model.pth: tensor 'fc.weight': storage data/3 has 12 bytes, ..."}.
 */
public class ModelFormatException extends IOException {
    private final transient Path file;
    private final String tensor;

    /** An error about the file as a whole. */
    public ModelFormatException(Path file, String detail) {
        this(file, null, detail, null);
    }

    /** An error about one tensor of the file ({@code tensor} may be null). */
    public ModelFormatException(Path file, String tensor, String detail) {
        this(file, tensor, detail, null);
    }

    /** An error about one tensor of the file, with its cause. */
    public ModelFormatException(Path file, String tensor, String detail, Throwable cause) {
        super(file + ": " + (tensor == null ? "" : "tensor '" + tensor + "': ") + detail, cause);
        this.file = file;
        this.tensor = tensor;
    }

    /** The file that failed to read. */
    public Path file() { return file; }

    /** The tensor involved, or null when the error concerns the whole file. */
    public String tensor() { return tensor; }
}
