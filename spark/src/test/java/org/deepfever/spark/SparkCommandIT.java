package org.deepfever.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fever spark} run in process on the tests' local[2] session (the command uses a running
 * session and leaves it running): JSON output parsed with Jackson against {@code fever extract}'s
 * rows, exit codes and messages, and the progress line read from a running job.
 */
class SparkCommandIT {
    static final List<String> CLASSES = List.of("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path tmp;
    static SparkSession spark;
    static List<String> inputs;

    @BeforeAll
    static void start() throws IOException {
        spark = TestInputs.spark();
        inputs = TestInputs.mixed(Files.createDirectories(tmp.resolve("inputs")));
    }

    /** Exit code and stderr of one run. */
    record Run(int rc, String err) {}

    static Run run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int rc = SparkCommand.commandLine().execute(args);
            return new Run(rc, buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    static List<String> args(String... head) {
        List<String> a = new ArrayList<>(List.of(head));
        a.addAll(inputs);
        return a;
    }

    @Test
    void jsonRowsAreFeverExtractsAndBadImagesExitOne() throws IOException {
        String model = TestInputs.mini().resolve("model.pth").toString();
        Path out = tmp.resolve("json-out");
        Run r = run(args("--model", model, "--format", "json", "--partitions", "1", "--out", out.toString()).toArray(String[]::new));
        assertEquals(SparkCommand.EXIT_INPUT_FAILED, r.rc(), r.err());
        int crops = TestInputs.miniCrops(); // + messi5.jpg (one face) + a corrupt JPEG + a text file
        assertTrue(r.err().contains("fever spark: " + (crops + 3) + " images, " + (crops + 1) + " faces, 2 failed"), r.err());
        assertTrue(r.err().contains("corrupt.jpg: truncated JPEG"), r.err());

        List<FaceRows> rows = new ArrayList<>();
        List<Path> parts;
        try (Stream<Path> s = Files.list(out)) {
            parts = s.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList();
        }
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
        assertEquals(1, parts.size(), "--partitions 1: one task, one file");
        for (Path part : parts) {
            for (String line : Files.readAllLines(part)) {
                JsonNode n = JSON.readTree(line);
                rows.add(FaceRows.fromJson(n, FaceRows.absolute(URI.create(n.get(FaceColumns.IMAGE).asText()))));
                assertEquals("deepfever", n.get(FaceColumns.MODEL).asText());
                if (n.hasNonNull(FaceColumns.SCORES)) {
                    List<String> keys = new ArrayList<>();
                    n.get(FaceColumns.SCORES).fieldNames().forEachRemaining(keys::add);
                    assertEquals(CLASSES, keys, "the file keeps the classes' order");
                }
            }
        }
        rows.sort(java.util.Comparator.comparing(FaceRows::image));
        List<FaceRows> expected = TestInputs.feverExtract(tmp.resolve("extract.jsonl"), model, inputs);
        FaceRows.assertSame(expected, rows, SparkFacesIT.TOLERANCE);
    }

    @Test
    void usageAndModelErrorsExitTwoWithOneLine() throws IOException {
        Path existing = Files.createDirectories(tmp.resolve("exists"));
        Run r = run(args("--out", existing.toString(), "--model", TestInputs.mini().resolve("model.pth").toString()).toArray(String[]::new));
        assertEquals(SparkCommand.EXIT_USAGE, r.rc(), r.err());
        assertTrue(r.err().contains("already exists"), r.err());

        r = run(args("--out", tmp.resolve("never").toString(), "--model", "/no/such/model.pth").toArray(String[]::new));
        assertEquals(SparkCommand.EXIT_USAGE, r.rc(), r.err());
        assertTrue(r.err().contains("fever: /no/such/model.pth: no such model file"), r.err());

        r = run("--out", tmp.resolve("never2").toString(), "--model", TestInputs.mini().resolve("model.pth").toString(), "/no/such/images");
        assertEquals(SparkCommand.EXIT_USAGE, r.rc(), r.err());
        assertTrue(r.err().contains("fever: /no/such/images: no such file or directory"), r.err());

        r = run("--out", tmp.resolve("never3").toString(), "--detect", "sometimes", "x.jpg");
        assertEquals(SparkCommand.EXIT_USAGE, r.rc(), r.err());
        assertTrue(r.err().contains("'sometimes' is not auto, always or never"), r.err());
    }

    /** Holds the progress test's tasks until the line has been read (local mode: the same JVM). */
    static final CountDownLatch RELEASE = new CountDownLatch(1);

    @Test
    void theProgressLineReadsTheRunningStage() throws Exception {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Thread job = new Thread(() -> spark.range(0, 2, 1, 2).mapPartitions(
                (org.apache.spark.api.java.function.MapPartitionsFunction<Long, Long>) it -> {
                    RELEASE.await(60, TimeUnit.SECONDS);
                    return it;
                }, Encoders.LONG()).count());
        job.start();
        try (ProgressLine progress = new ProgressLine(jsc.statusTracker(), new PrintStream(new ByteArrayOutputStream()), false)) {
            String line = null;
            for (int i = 0; i < 600 && (line == null || !line.contains("2 running")); i++) {
                Thread.sleep(100);
                line = progress.line();
            }
            assertNotNull(line, "a stage was seen running");
            assertTrue(line.startsWith("fever spark: 0/2 tasks done, 2 running (1 stage, "), line);
        } finally {
            RELEASE.countDown();
            job.join();
        }
    }
}
