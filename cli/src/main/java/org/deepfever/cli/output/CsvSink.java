package org.deepfever.cli.output;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.deepfever.api.FaceResult;

/**
 * One row per face under a header row: {@code image,x,y,w,h,f0..fN}; x..h are empty when the whole
 * image was the crop. RFC 4180 quoting through Apache Commons CSV, so paths holding commas, quotes,
 * spaces or newlines read back intact. Images without faces or that failed have no row (they are
 * reported on stderr and in the summary).
 */
public final class CsvSink extends TextSink {
    /** RFC 4180 with Unix line ends; also used for the npy sink's index. */
    static final CSVFormat FORMAT = CSVFormat.RFC4180.builder().setRecordSeparator('\n').get();

    private final CSVPrinter csv;

    /**
     * @param file          the file to write, or null for stdout
     * @param featureLength the number of feature columns (the model's feature vector length)
     * @param header        whether to write the header row (not when continuing a file that has it)
     * @throws IOException if the header cannot be written
     */
    public CsvSink(PartFile file, int featureLength, boolean header) throws IOException {
        super(file);
        this.csv = new CSVPrinter(out, FORMAT);
        if (header) {
            csv.printRecord(header(featureLength));
            csv.flush();
        }
    }

    /** The header row: {@code image,x,y,w,h,f0..f(featureLength-1)}. */
    public static List<String> header(int featureLength) {
        List<String> header = new ArrayList<>(List.of("image", "x", "y", "w", "h"));
        for (int i = 0; i < featureLength; i++) header.add("f" + i);
        return header;
    }

    @Override
    public void face(String image, FaceBox box, FaceResult r) throws IOException {
        csv.print(image);
        boxCells(csv, box);
        for (float v : r.features()) csv.print(Float.toString(v));
        csv.println();
        csv.flush(); // each row reaches the file (and a .part file left by a kill) whole
    }

    /** The four box cells, empty when the whole image was the crop. */
    static void boxCells(CSVPrinter csv, FaceBox box) throws IOException {
        if (box == null) {
            for (int i = 0; i < 4; i++) csv.print("");
        } else {
            csv.print(box.x());
            csv.print(box.y());
            csv.print(box.w());
            csv.print(box.h());
        }
    }

    @Override public void noFace(String image) {}
    @Override public void error(String image, String reason) {}

    @Override
    public void finish() throws IOException {
        csv.flush();
        super.finish();
    }
}
