package org.deepfever.spark;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.deepfever.api.FaceResult;
import org.deepfever.faces.FaceAnalyzer;
import org.deepfever.faces.detect.FaceBox;
import org.deepfever.faces.image.ImageDecoder;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The work of one partition: images in, {@link FaceColumns} rows out, in input order. Images are
 * taken a window at a time (decoded, searched for faces and prepared on the task's thread), their
 * faces run through the executor's shared model in batches, and the window's rows handed on before
 * the next window is read, so a partition's memory is one window of prepared faces. An image that
 * cannot be decoded becomes an error row; it never fails the task.
 */
final class PartitionExtractor implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    /** Images per window, at least: enough faces for two batches of crops. */
    private static final int MIN_WINDOW = 16;

    private final ExtractSettings settings;

    /** @param settings the extraction's settings */
    PartitionExtractor(ExtractSettings settings) {
        this.settings = settings;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();
            private Window window;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && input.hasNext()) {
                    if (window == null) window = new Window(ExecutorModels.get(settings));
                    window.fill(input, ready);
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                return ready.poll();
            }
        };
    }

    /** One image read from the input, decoded and prepared (or failed). */
    private record Image(String path, List<FaceAnalyzer.PreparedFace> faces, String error) {}

    /** A partition's state once its first row arrives: the model, the analyzer, the column positions. */
    private final class Window {
        private final ExecutorModels.Shared shared;
        private final FaceAnalyzer analyzer;
        private final String modelName;
        private final boolean embedding;
        private int pathIndex = -1, contentIndex, lengthIndex;

        Window(ExecutorModels.Shared shared) {
            this.shared = shared;
            this.analyzer = new FaceAnalyzer(shared.model(), settings.detect());
            this.modelName = shared.model().name();
            this.embedding = shared.model().output().hasEmbedding();
        }

        /** Reads, prepares and runs the next window of images; appends their rows to {@code out}. */
        void fill(Iterator<Row> input, ArrayDeque<Row> out) {
            int size = Math.max(settings.batch(), MIN_WINDOW);
            List<Image> images = new ArrayList<>(size);
            List<float[]> faces = new ArrayList<>();
            while (images.size() < size && input.hasNext()) {
                Image img = prepare(input.next());
                images.add(img);
                for (FaceAnalyzer.PreparedFace f : img.faces()) faces.add(f.input());
            }
            List<FaceResult> results = new ArrayList<>(faces.size());
            for (int b = 0; b < faces.size(); b += settings.batch()) {
                results.addAll(shared.extract(faces.subList(b, Math.min(faces.size(), b + settings.batch()))));
            }
            int next = 0;
            for (Image img : images) {
                if (img.error() != null) {
                    out.add(RowFactory.create(img.path(), null, null, null, null, null, img.error(), modelName, shared.checksum()));
                } else if (img.faces().isEmpty()) {
                    out.add(RowFactory.create(img.path(), null, null, null, null, null, null, modelName, shared.checksum()));
                } else {
                    for (FaceAnalyzer.PreparedFace f : img.faces()) out.add(row(img.path(), f.box(), results.get(next++)));
                }
            }
        }

        private Row row(String path, FaceBox b, FaceResult r) {
            Row box = b == null ? null : RowFactory.create(b.x(), b.y(), b.size(), b.size());
            float[] emb = embedding && r.embedding() != null && r.embedding().length > 0 ? r.embedding() : null;
            // a Row's map column takes a Scala map; the wrapper keeps the classes' order
            return RowFactory.create(path, box, r.features(), emb, r.label(), CollectionConverters.asScala(r.scores()), null, modelName,
                    shared.checksum());
        }

        private Image prepare(Row row) {
            if (pathIndex < 0) {
                pathIndex = row.fieldIndex(settings.pathColumn());
                contentIndex = row.fieldIndex(settings.contentColumn());
                lengthIndex = settings.lengthColumn() == null ? -1 : row.fieldIndex(settings.lengthColumn());
            }
            String path = row.isNullAt(pathIndex) ? null : row.getString(pathIndex);
            if (row.isNullAt(contentIndex)) return new Image(path, List.of(), noContent(row));
            String name = path == null ? "(no path)" : path;
            try {
                return new Image(path, analyzer.prepare(ImageDecoder.decode((byte[]) row.get(contentIndex), name)), null);
            } catch (IOException e) {
                return new Image(path, List.of(), reason(e, name));
            } catch (RuntimeException | OutOfMemoryError e) {
                // as fever extract: a reader that breaks on a crafted file, an image too big for the heap
                return new Image(path, List.of(), "cannot process image: " + e);
            }
        }

        /** Why there are no bytes: {@link ImageFiles} leaves them out of files too large to decode. */
        private String noContent(Row row) {
            if (lengthIndex >= 0 && !row.isNullAt(lengthIndex) && row.getLong(lengthIndex) > ImageDecoder.MAX_FILE_BYTES) {
                return "file too large to be an image we decode (" + row.getLong(lengthIndex) + " bytes)";
            }
            return "no image bytes (the " + settings.contentColumn() + " column is null)";
        }
    }

    /** The decoder's message without the path it starts with (the row names the image already), as fever extract writes it. */
    private static String reason(IOException e, String path) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return m.startsWith(path + ": ") ? m.substring(path.length() + 2) : m;
    }
}
