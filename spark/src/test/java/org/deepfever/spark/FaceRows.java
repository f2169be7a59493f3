package org.deepfever.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.sql.Row;

/**
 * Face rows from either side in one form, for comparing {@code fever extract}'s jsonl (parsed with
 * Jackson) with the rows of a Spark job: image as an absolute path, box, vectors, label, scores and
 * error; an image without faces has null features and a null error.
 */
record FaceRows(String image, int[] box, float[] features, float[] embedding, String label, Map<String, Double> scores, String error) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Rows of a Spark result (the {@link FaceColumns} schema), sorted by image (each image's faces kept in order). */
    static List<FaceRows> fromSpark(List<Row> rows) {
        List<FaceRows> out = new ArrayList<>();
        for (Row r : rows) {
            Row b = r.getAs(FaceColumns.FACE);
            int[] box = b == null ? null : new int[] {b.getInt(0), b.getInt(1), b.getInt(2), b.getInt(3)};
            Map<String, Double> scores = null;
            if (!r.isNullAt(r.fieldIndex(FaceColumns.SCORES))) {
                scores = new LinkedHashMap<>();
                for (Map.Entry<String, Float> e : r.<String, Float>getJavaMap(r.fieldIndex(FaceColumns.SCORES)).entrySet()) {
                    scores.put(e.getKey(), e.getValue().doubleValue());
                }
            }
            out.add(new FaceRows(absolute(URI.create(r.getAs(FaceColumns.IMAGE))), box, floats(r, FaceColumns.FEATURES),
                    floats(r, FaceColumns.EMBEDDING), r.getAs(FaceColumns.LABEL), scores, r.getAs(FaceColumns.ERROR)));
        }
        return sorted(out);
    }

    /** Lines of fever extract's jsonl output, sorted by image. */
    static List<FaceRows> fromJsonl(Path file) {
        List<FaceRows> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank()) continue;
                out.add(fromJson(JSON.readTree(line), Path.of(JSON.readTree(line).get("image").asText()).toAbsolutePath().normalize().toString()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sorted(out);
    }

    /** One jsonl object (or a row written by Spark's JSON writer, with {@code imagePath} already resolved). */
    static FaceRows fromJson(JsonNode n, String imagePath) {
        if (n.hasNonNull("error")) return new FaceRows(imagePath, null, null, null, null, null, n.get("error").asText());
        if (n.has("faces") && n.get("faces").asInt() == 0) return new FaceRows(imagePath, null, null, null, null, null, null);
        if (!n.hasNonNull("features")) return new FaceRows(imagePath, null, null, null, null, null, null);
        JsonNode f = n.get("face");
        int[] box = f == null || f.isNull() ? null : new int[] {f.get("x").asInt(), f.get("y").asInt(), f.get("w").asInt(), f.get("h").asInt()};
        JsonNode expression = n.has("expression") ? n.get("expression") : n;
        Map<String, Double> scores = new LinkedHashMap<>();
        expression.get("scores").properties().forEach(e -> scores.put(e.getKey(), e.getValue().asDouble()));
        return new FaceRows(imagePath, box, floats(n.get("features")), n.hasNonNull("embedding") ? floats(n.get("embedding")) : null,
                expression.get("label").asText(), scores, null);
    }

    /**
     * Asserts the same images, boxes, labels and errors, and every number within {@code tolerance}.
     *
     * @param expected  rows of the reference
     * @param actual    rows to check
     * @param tolerance the largest absolute difference allowed in features, embedding and scores
     */
    static void assertSame(List<FaceRows> expected, List<FaceRows> actual, double tolerance) {
        assertEquals(expected.stream().map(FaceRows::image).toList(), actual.stream().map(FaceRows::image).toList(), "images, sorted by path");
        for (int i = 0; i < expected.size(); i++) {
            FaceRows e = expected.get(i), a = actual.get(i);
            String where = e.image() + " row " + i;
            assertArrayEquals(e.box(), a.box(), where + ": box");
            assertEquals(e.error(), a.error(), where + ": error");
            assertEquals(e.label(), a.label(), where + ": label");
            assertClose(e.features(), a.features(), tolerance, where + ": features");
            assertClose(e.embedding(), a.embedding(), tolerance, where + ": embedding");
            if (e.scores() == null) {
                assertNull(a.scores(), where + ": scores");
            } else {
                assertNotNull(a.scores(), where + ": scores");
                // a set: Spark's Row API hands a map back as a Scala hash map (the files keep the order; see SparkCommandIT)
                assertEquals(new TreeSet<>(e.scores().keySet()), new TreeSet<>(a.scores().keySet()), where + ": classes");
                for (String k : e.scores().keySet()) {
                    assertEquals(e.scores().get(k), a.scores().get(k), tolerance, where + ": score " + k);
                }
            }
        }
    }

    static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        if (expected == null) {
            assertNull(actual, what);
            return;
        }
        assertNotNull(actual, what);
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((double) expected[i] - actual[i]));
        assertTrue(worst <= tolerance, what + ": max |diff| " + worst + " over " + tolerance);
    }

    static String absolute(URI uri) {
        return Path.of(uri).toAbsolutePath().normalize().toString();
    }

    private static float[] floats(Row r, String column) {
        int i = r.fieldIndex(column);
        if (r.isNullAt(i)) return null;
        List<Float> list = r.getList(i);
        float[] out = new float[list.size()];
        for (int k = 0; k < out.length; k++) out[k] = list.get(k);
        return out;
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int k = 0; k < out.length; k++) out[k] = array.get(k).floatValue();
        return out;
    }

    private static List<FaceRows> sorted(List<FaceRows> rows) {
        List<FaceRows> out = new ArrayList<>(rows);
        out.sort(Comparator.comparing(FaceRows::image)); // stable: each image's faces stay in order
        return out;
    }
}
