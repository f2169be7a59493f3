package org.deepfever.spark;

import org.deepfever.model.ModelLoadException;

/**
 * One line for the user from a failed command: a Spark job failure carries the executor's exception
 * as its cause and a remote stack trace in its message; the cause is what names the model or file.
 */
final class JobErrors {
    private JobErrors() {}

    /**
     * The most telling message of a failure.
     *
     * @param t the failure
     * @return the message of the innermost {@link ModelLoadException} or {@link IllegalArgumentException}
     *         in the cause chain, else the first line of the outermost message (or the exception's name)
     */
    static String describe(Throwable t) {
        Throwable best = null;
        for (Throwable c = t; c != null && c != c.getCause(); c = c.getCause()) {
            if (c instanceof ModelLoadException || c instanceof IllegalArgumentException) best = c;
        }
        Throwable shown = best != null ? best : t;
        String m = shown.getMessage();
        if (m == null || m.isBlank()) return shown.toString();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
