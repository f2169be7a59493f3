package org.deepfever.cli.output;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.Map;
import org.deepfever.api.FaceResult;

/**
 * One JSON object per line (the schema is {@code docs/fever-extract.schema.json}): a face, an image
 * without faces, or an image that failed. Written with Jackson's streaming generator; NaN and
 * infinities, which JSON cannot hold, are written as {@code null}.
 */
public final class JsonlSink extends TextSink {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private final String note;
    private final JsonGenerator json;

    /**
     * @param file the file to write, or null for stdout
     * @param note added to every face line as {@code "note"} when not null
     * @throws IOException if the JSON generator cannot be made
     */
    public JsonlSink(PartFile file, String note) throws IOException {
        super(file);
        this.note = note;
        this.json = JSON.createGenerator(out).disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        // each object is a root value; Jackson would put a space before every one after the first
        json.setRootValueSeparator(null);
    }

    @Override
    public void face(String image, FaceBox box, FaceResult r) throws IOException {
        json.writeStartObject();
        json.writeStringField("image", image);
        json.writeFieldName("face");
        if (box == null) {
            json.writeNull();
        } else {
            json.writeStartObject();
            json.writeNumberField("x", box.x());
            json.writeNumberField("y", box.y());
            json.writeNumberField("w", box.w());
            json.writeNumberField("h", box.h());
            json.writeEndObject();
        }
        floats("features", r.features());
        if (r.embedding() != null) floats("embedding", r.embedding());
        json.writeObjectFieldStart("expression");
        json.writeStringField("label", r.label());
        json.writeObjectFieldStart("scores");
        for (Map.Entry<String, Float> e : r.scores().entrySet()) {
            json.writeFieldName(e.getKey());
            number(e.getValue());
        }
        json.writeEndObject();
        json.writeEndObject();
        if (!r.extraHeads().isEmpty()) {
            json.writeObjectFieldStart("heads");
            for (Map.Entry<String, float[]> h : r.extraHeads().entrySet()) floats(h.getKey(), h.getValue());
            json.writeEndObject();
        }
        if (note != null) json.writeStringField("note", note);
        json.writeEndObject();
        endLine();
    }

    @Override
    public void noFace(String image) throws IOException {
        json.writeStartObject();
        json.writeStringField("image", image);
        json.writeNumberField("faces", 0);
        json.writeEndObject();
        endLine();
    }

    @Override
    public void error(String image, String reason) throws IOException {
        json.writeStartObject();
        json.writeStringField("image", image);
        json.writeStringField("error", reason);
        json.writeEndObject();
        endLine();
    }

    private void floats(String name, float[] values) throws IOException {
        json.writeArrayFieldStart(name);
        for (float v : values) number(v);
        json.writeEndArray();
    }

    private void number(float v) throws IOException {
        if (Float.isFinite(v)) json.writeNumber(v);
        else json.writeNull();
    }

    /** Each line reaches the reader as soon as it is complete (a pipe, a watching user). */
    private void endLine() throws IOException {
        json.flush();
        out.append('\n');
        out.flush();
    }
}
