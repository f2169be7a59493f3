package org.deepfever.cli.output;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A line-oriented sink writing UTF-8 to stdout or to a file through its {@code .part} sibling
 * ({@link PartFile}). Each record is flushed when written, so a {@code .part} file left by a kill
 * holds every record written before it.
 */
abstract class TextSink implements ResultSink {
    private final PartFile file;
    protected final PrintStream out;

    /** {@code file} null writes to stdout. */
    TextSink(PartFile file) {
        this.file = file;
        OutputStream os = file == null ? System.out : file.stream();
        this.out = new PrintStream(os, false, StandardCharsets.UTF_8);
    }

    @Override
    public void finish() throws IOException {
        out.flush();
        if (file != null) file.commit();
    }

    @Override
    public void close() throws IOException {
        out.flush();
        if (file != null) file.close();
    }
}
