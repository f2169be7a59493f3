package org.deepfever.model;

/** A model file that cannot be turned into a DeepFEVER network; the message names the file and the culprit. */
public class ModelLoadException extends RuntimeException {
    public ModelLoadException(String message) { super(message); }
    public ModelLoadException(String message, Throwable cause) { super(message, cause); }
}
