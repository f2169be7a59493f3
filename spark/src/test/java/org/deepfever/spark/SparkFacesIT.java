package org.deepfever.spark;

import static org.deepfever.spark.FaceRows.assertSame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deepfever.api.FaceModels;
import org.deepfever.api.ModelChecksum;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark extraction in local[2], run from fever-spark.jar (failsafe puts the shaded jar, not the
 * engine's modules, on the class path): the same rows as {@code fever extract} on the same inputs
 * (crops, a photo, a truncated JPEG, a text file) with the golden mini model in .pth and ONNX form
 * and with the built-in default; Parquet read back with Spark; one model load per JVM; any DataFrame
 * with a path and a binary column; files too large to read.
 */
class SparkFacesIT {
    /** Same engine, same inputs: only batch composition and threads differ between the two runs. */
    static final double TOLERANCE = 1e-6;

    @TempDir static Path tmp;
    static SparkSession spark;
    static List<String> inputs;

    @BeforeAll
    static void start() throws IOException {
        spark = TestInputs.spark();
        inputs = TestInputs.mixed(Files.createDirectories(tmp.resolve("inputs")));
    }

    static List<FaceRows> feverExtract(String model, List<String> in, String name, String... options) {
        return TestInputs.feverExtract(tmp.resolve(name + ".jsonl"), model, in, options);
    }

    static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void sameRowsAsFeverExtractWithTheMiniModel() throws Exception {
        Path pth = TestInputs.mini().resolve("model.pth");
        List<FaceRows> expected = feverExtract(pth.toString(), inputs, "mini-pth");
        Dataset<Row> faces = SparkFaces.model(pth.toString()).extract(ImageFiles.read(spark, inputs));
        assertEquals(FaceColumns.SCHEMA, faces.schema());
        List<Row> rows = faces.collectAsList();
        List<FaceRows> actual = FaceRows.fromSpark(rows);
        assertSame(expected, actual, TOLERANCE);

        long crops = expected.stream().filter(r -> r.features() != null && r.box() == null).count();
        assertEquals(TestInputs.miniCrops(), crops, "the 140x140 crops are taken whole");
        assertTrue(expected.stream().anyMatch(r -> r.image().endsWith("messi5.jpg") && r.box() != null), "a face found in the photo");
        for (String bad : List.of("corrupt.jpg", "notes.txt")) {
            FaceRows r = actual.stream().filter(x -> x.image().endsWith(bad)).findFirst().orElseThrow();
            assertNotNull(r.error(), bad + " has an error row");
            assertNull(r.features(), bad);
        }
        String sum = sha256(pth);
        for (Row r : rows) {
            assertEquals("deepfever", r.getAs(FaceColumns.MODEL));
            assertEquals(sum, r.getAs(FaceColumns.MODEL_SHA256), "sha256 of model.pth");
        }

        // Parquet, read back by Spark: the same schema (Parquet makes every field nullable) and rows
        String parquet = tmp.resolve("mini.parquet").toString();
        faces.write().parquet(parquet);
        Dataset<Row> back = spark.read().parquet(parquet);
        assertEquals(FaceColumns.SCHEMA.simpleString(), back.schema().simpleString());
        assertSame(actual, FaceRows.fromSpark(back.collectAsList()), 0);
    }

    @Test
    void onnxModelLoadsInATaskWithItsOwnProtobuf() throws Exception {
        // the engine's generated ONNX classes must extend the relocated runtime, not Spark's protobuf-java
        Class<?> model = Class.forName("org.deepfever.io.onnx.proto.Onnx$ModelProto");
        assertTrue(model.getSuperclass().getName().startsWith("org.deepfever.shaded.protobuf."), model.getSuperclass().getName());
        Path onnx = TestInputs.mini().resolve("model.onnx");
        List<String> crops = List.of(TestInputs.mini().resolve("faces").toString());
        List<FaceRows> expected = feverExtract(onnx.toString(), crops, "mini-onnx");
        Dataset<Row> faces = SparkFaces.model(onnx.toString()).extract(ImageFiles.read(spark, crops));
        List<Row> rows = faces.collectAsList();
        assertSame(expected, FaceRows.fromSpark(rows), TOLERANCE);
        assertEquals(sha256(onnx), rows.get(0).getAs(FaceColumns.MODEL_SHA256));
    }

    @Test
    void sameRowsAsFeverExtractWithTheBuiltInDefault() {
        // One face per run on both sides. The engine's sums round differently with the batch size, and a
        // full-size network's features (|x| up to ~5.4 with the untrained default) then differ by a few
        // ulps (3.6e-6 between fever extract --batch 1 and --batch 8 on these two images); with equal
        // batches the numbers are equal, whatever the partitioning.
        List<String> in = List.of(TestInputs.photo().toString(), TestInputs.repo().resolve("samples/messi-crop.png").toString());
        List<FaceRows> expected = feverExtract(null, in, "default", "--batch", "1");
        List<Row> rows = SparkFaces.defaultModel().batch(1).extract(ImageFiles.read(spark, in)).collectAsList();
        assertSame(expected, FaceRows.fromSpark(rows), TOLERANCE);
        assertTrue(expected.stream().anyMatch(r -> r.image().endsWith("messi5.jpg") && r.features() != null), "the photo gives a face");
        for (Row r : rows) assertEquals(ModelChecksum.sha256(FaceModels.DEFAULT), r.getAs(FaceColumns.MODEL_SHA256));
    }

    @Test
    void theModelIsLoadedOncePerJvmAcrossTasksAndJobs() throws Exception {
        // safetensors: a model file no other test here uses, so this is its first load in the JVM
        String model = TestInputs.mini().resolve("model.safetensors").toString();
        Dataset<Row> images = ImageFiles.read(spark, List.of(TestInputs.mini().resolve("faces").toString())).repartition(4);
        assertEquals(4, images.rdd().getNumPartitions());
        int before = ExecutorModels.loads();
        Dataset<Row> faces = SparkFaces.model(model).extract(images);
        assertEquals(TestInputs.miniCrops(), faces.count());
        List<Row> rows = faces.collectAsList();
        assertEquals(1, ExecutorModels.loads() - before, "one load for four partitions on two task threads, two jobs");
        // partitions of several images: batches across images, rows still those of fever extract
        assertSame(feverExtract(model, List.of(TestInputs.mini().resolve("faces").toString()), "mini-safetensors"), FaceRows.fromSpark(rows), TOLERANCE);
    }

    @Test
    void anyDataFrameWithAPathAndABinaryColumn() throws Exception {
        StructType schema = new StructType().add("name", DataTypes.StringType).add("bytes", DataTypes.BinaryType).add("other", DataTypes.IntegerType);
        byte[] crop = Files.readAllBytes(TestInputs.mini().resolve("faces/00.png"));
        Dataset<Row> images = spark.createDataFrame(List.of(RowFactory.create("/a/crop.png", crop, 1), RowFactory.create("/a/none.png", null, 2),
                RowFactory.create("/a/empty.png", new byte[0], 3), RowFactory.create(null, crop, 4)), schema);
        String model = TestInputs.mini().resolve("model.pth").toString();
        List<Row> rows = SparkFaces.model(model).columns("name", "bytes").extract(images).collectAsList();
        assertEquals(4, rows.size());
        assertEquals("/a/crop.png", rows.get(0).getAs(FaceColumns.IMAGE));
        assertNotNull(rows.get(0).getAs(FaceColumns.FEATURES));
        assertEquals("no image bytes (the bytes column is null)", rows.get(1).getAs(FaceColumns.ERROR));
        assertEquals("empty file, not an image", rows.get(2).getAs(FaceColumns.ERROR));
        assertNull(rows.get(3).getAs(FaceColumns.IMAGE), "a null path stays null");
        assertEquals(rows.get(0).<Object>getAs(FaceColumns.FEATURES), rows.get(3).getAs(FaceColumns.FEATURES), "and the image is still read");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SparkFaces.model(model).extract(images));
        assertTrue(e.getMessage().contains("no column 'path'") && e.getMessage().contains("name string, bytes binary"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SparkFaces.model(model).columns("name", "other").extract(images));
        assertTrue(e.getMessage().contains("'other' is int, expected binary"), e.getMessage());
    }

    @Test
    void aFileTooLargeToReadIsAnErrorRowNotAFailedJob() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("large"));
        Files.copy(TestInputs.mini().resolve("faces/01.png"), dir.resolve("small.png"));
        // sparse: no disk used; past 2 GiB, where reading its content would fail the whole job
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("huge.JPG").toFile(), "rw")) {
            f.setLength((1L << 31) + 1);
        }
        Files.writeString(dir.resolve("skipped.txt"), "not an image extension: not taken from a folder");
        String model = TestInputs.mini().resolve("model.pth").toString();
        List<FaceRows> rows = FaceRows.fromSpark(SparkFaces.model(model).extract(ImageFiles.read(spark, List.of(dir.toString()))).collectAsList());
        assertEquals(2, rows.size(), rows.toString());
        assertTrue(rows.get(0).image().endsWith("huge.JPG"));
        assertEquals("file too large to be an image we decode (" + ((1L << 31) + 1) + " bytes)", rows.get(0).error());
        assertNotNull(rows.get(1).features());
    }
}
