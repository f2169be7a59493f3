package org.deepfever.cli.output;

import java.io.IOException;
import java.nio.file.Path;
import org.deepfever.api.FaceResult;

/**
 * One row per face: {@code image,x,y,w,h,f0..fN}; x..h are empty when the whole image was the crop.
 * Images without faces or that failed have no row (they are reported on stderr and in the summary).
 */
public final class CsvSink extends TextSink {
    private boolean header;

    public CsvSink(Path target) throws IOException {
        super(target);
    }

    static String field(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    @Override
    public void face(String image, FaceBox box, FaceResult r) {
        float[] f = r.features();
        if (!header) {
            StringBuilder h = new StringBuilder("image,x,y,w,h");
            for (int i = 0; i < f.length; i++) h.append(",f").append(i);
            out.append(h).append('\n');
            header = true;
        }
        StringBuilder sb = new StringBuilder(f.length * 12).append(field(image));
        if (box == null) sb.append(",,,,");
        else sb.append(',').append(box.x()).append(',').append(box.y()).append(',').append(box.w()).append(',').append(box.h());
        for (float v : f) sb.append(',').append(v);
        out.append(sb).append('\n');
    }

    @Override public void noFace(String image) {}
    @Override public void error(String image, String reason) {}
}
