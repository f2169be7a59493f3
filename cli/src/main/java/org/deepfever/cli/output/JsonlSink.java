package org.deepfever.cli.output;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.deepfever.api.FaceResult;

/** One JSON object per line: a face, an image without faces, or an image that failed. */
public final class JsonlSink extends TextSink {
    private final String note;

    /** {@code target} null writes to stdout. {@code note}, when not null, is added to every face line. */
    public JsonlSink(Path target, String note) throws IOException {
        super(target);
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
}
