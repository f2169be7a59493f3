package org.deepfever.spark;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.deepfever.cli.FeverCommand;

/**
 * What the Spark tests share: one local[2] session per JVM (starting one takes seconds), the golden
 * mini model, and the inputs of a run: the model's face crops, a photo with a face, a truncated JPEG
 * and a text file.
 */
final class TestInputs {
    private static SparkSession spark;

    private TestInputs() {}

    /** The shared local[2] session (no web UI); stopped when the JVM exits. */
    static synchronized SparkSession spark() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2]").appName("fever-spark-test")
                    .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", "2").getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(spark::stop));
        }
        return spark;
    }

    /** The repository root (the module's parent folder). */
    static Path repo() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
    }

    /** The golden DeepFEVER mini model's folder ({@code -Dfever.fixtures}); skips the test if absent. */
    /** How many face crops the mini golden set holds (each a 140x140 image, taken whole). */
    static int miniCrops() {
        try (var files = java.nio.file.Files.list(mini().resolve("faces"))) {
            return (int) files.count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Path mini() {
        String p = System.getProperty("fever.fixtures");
        Path dir = (p != null ? Path.of(p) : repo().resolve("src-test/golden")).resolve("deepfever-mini");
        assumeTrue(Files.isDirectory(dir), "fixtures not found at " + dir.toAbsolutePath());
        return dir;
    }

    /** samples/messi5.jpg: a photo with one face. */
    static Path photo() {
        return repo().resolve("samples/messi5.jpg");
    }

    /**
     * Runs {@code fever extract} in process into {@code out} (jsonl) and returns its rows.
     *
     * @param out     the jsonl file to write
     * @param model   the --model argument, or null for the default
     * @param in      the inputs
     * @param options further options
     * @return its rows, sorted by image
     */
    static List<FaceRows> feverExtract(Path out, String model, List<String> in, String... options) {
        List<String> args = new ArrayList<>(List.of("extract", "--out", out.toString()));
        if (model != null) args.addAll(List.of("--model", model));
        args.addAll(List.of(options));
        args.addAll(in);
        int rc = FeverCommand.commandLine().execute(args.toArray(String[]::new));
        assertTrue(rc == 0 || rc == 1, "fever extract exit code " + rc);
        return FaceRows.fromJsonl(out);
    }

    /**
     * Writes the bad inputs into {@code dir} and returns every input as fever extract takes it: the
     * crops folder, the photo, a truncated JPEG and a text file.
     */
    static List<String> mixed(Path dir) throws IOException {
        byte[] jpeg = Files.readAllBytes(photo());
        Path corrupt = Files.write(dir.resolve("corrupt.jpg"), Arrays.copyOf(jpeg, jpeg.length * 2 / 5));
        Path text = Files.writeString(dir.resolve("notes.txt"), "not an image\n", StandardCharsets.UTF_8);
        return List.of(mini().resolve("faces").toString(), photo().toString(), corrupt.toString(), text.toString());
    }
}
