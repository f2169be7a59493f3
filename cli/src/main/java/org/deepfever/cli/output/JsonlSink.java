package org.deepfever.cli.output;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.deepfever.api.FaceResult;

/** One JSON object per line: a face, an image without faces, or an image that failed. */
public final class JsonlSink implements ResultSink {
    private final AtomicFile file;
    private final PrintStream out;
    private final String note;

    /** {@code target} null writes to stdout. {@code note}, when not null, is added to every face line. */
    public JsonlSink(Path target, String note) throws IOException {
        this.file = target == null ? null : new AtomicFile(target);
        OutputStream os = file == null ? System.out : file.stream();
        this.out = new PrintStream(os, false, StandardCharsets.UTF_8);
        this.note = note;
    }

    @Override
    public void face(String image, FaceBox box, FaceResult r) {
        StringBuilder sb = new StringBuilder(4096);
        sb.append("{\"image\":").append(Json.string(image)).append(",\"face\":");
        if (box == null) sb.append("null");
        else sb.append("{\"x\":").append(box.x()).append(",\"y\":").append(box.y()).append(",\"w\":").append(box.w()).append(",\"h\":").append(box.h()).append('}');
        sb.append(",\"features\":").append(Json.array(r.features()));
        sb.append(",\"embedding\":").append(Json.array(r.embedding()));
        sb.append(",\"expression\":{\"label\":").append(Json.string(r.label())).append(",\"scores\":{");
        boolean first = true;
        for (Map.Entry<String, Float> e : r.scores().entrySet()) {
            sb.append(first ? "" : ",").append(Json.string(e.getKey())).append(':').append(Json.number(e.getValue()));
            first = false;
        }
        sb.append("}}");
        for (var h : r.extraHeads().entrySet()) sb.append(',').append(Json.string(h.getKey())).append(':').append(Json.array(h.getValue()));
        if (note != null) sb.append(",\"note\":").append(Json.string(note));
        out.append(sb).append('\n');
        out.flush();
    }

    @Override
    public void noFace(String image) {
        out.append("{\"image\":").append(Json.string(image)).append(",\"faces\":0}\n");
        out.flush();
    }

    @Override
    public void error(String image, String reason) {
        out.append("{\"image\":").append(Json.string(image)).append(",\"error\":").append(Json.string(reason)).append("}\n");
        out.flush();
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
