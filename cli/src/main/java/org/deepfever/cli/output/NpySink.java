package org.deepfever.cli.output;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVPrinter;
import org.deepfever.api.FaceResult;
import org.deepfever.core.Tensor;
import org.deepfever.io.Npy;

/**
 * A float32 [N, F] features file plus {@code index.csv} beside it mapping each row to its image and
 * face box. Both are written atomically at the end of the run.
 */
public final class NpySink implements ResultSink {
    private final Path target;
    private final List<float[]> rows = new ArrayList<>();
    private final List<IndexRow> index = new ArrayList<>();

    private record IndexRow(String image, FaceBox box) {}

    public NpySink(Path target) {
        this.target = target;
    }

    public Path indexPath() {
        Path parent = target.toAbsolutePath().getParent();
        return parent.resolve("index.csv");
    }

    @Override
    public void face(String image, FaceBox box, FaceResult r) {
        index.add(new IndexRow(image, box));
        rows.add(r.features());
    }

    @Override public void noFace(String image) {}
    @Override public void error(String image, String reason) {}

    @Override
    public void finish() throws IOException {
        int width = rows.isEmpty() ? 0 : rows.get(0).length;
        float[] data = new float[rows.size() * width];
        for (int i = 0; i < rows.size(); i++) System.arraycopy(rows.get(i), 0, data, i * width, width);
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            Npy.write(temp, Tensor.of(data, rows.size(), width));
            AtomicFile.moveInto(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
        try (AtomicFile f = new AtomicFile(indexPath())) {
            Writer w = new OutputStreamWriter(f.stream(), StandardCharsets.UTF_8);
            CSVPrinter csv = new CSVPrinter(w, CsvSink.FORMAT);
            csv.printRecord("row", "image", "x", "y", "w", "h");
            for (int i = 0; i < index.size(); i++) {
                csv.print(i);
                csv.print(index.get(i).image());
                CsvSink.boxCells(csv, index.get(i).box());
                csv.println();
            }
            csv.flush();
            f.commit();
        }
    }

    @Override public void close() {}
}
