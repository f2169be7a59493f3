package org.deepfever.cli.output;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A line-oriented sink writing UTF-8 to stdout or, atomically, to a file. */
abstract class TextSink implements ResultSink {
    private final AtomicFile file;
    protected final PrintStream out;

    /** {@code target} null writes to stdout. */
    TextSink(Path target) throws IOException {
        this.file = target == null ? null : new AtomicFile(target);
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
