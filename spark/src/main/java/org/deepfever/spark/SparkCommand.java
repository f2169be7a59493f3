package org.deepfever.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count_distinct;
import static org.apache.spark.sql.functions.when;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deepfever.api.DeepFever;
import org.deepfever.api.FaceModels;
import org.deepfever.api.ModelChecksum;
import org.deepfever.faces.FaceAnalyzer;
import org.deepfever.model.ModelLoadException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fever spark}: {@code fever extract} over Spark. Images in (files or directories, local or
 * any file system Spark reads), a Parquet or JSON directory of face rows ({@link FaceColumns}) out.
 * Runs in local mode ({@code local[*]}) with nothing installed; under {@code spark-submit}, takes the
 * master and settings spark-submit gives. Exit codes as {@code fever}: 0 ok, 1 some images failed,
 * 2 usage, model or job error.
 */
@Command(name = "fever spark", mixinStandardHelpOptions = true, version = "fever 0.1.0", sortOptions = false,
        description = {"Extract face features from many images with Apache Spark; one row per face.",
                "Rows: image, face {x,y,w,h} (null for a whole-image crop), features, embedding, label, scores, "
                        + "error (why an image failed), model, model_sha256. An image without faces gives one row with null features."},
        footer = {"", "Exit codes: 0 ok, 1 some images failed, 2 usage, model or job error."})
public final class SparkCommand implements Callable<Integer> {
    /** Exit codes, as fever's. */
    static final int EXIT_OK = 0, EXIT_INPUT_FAILED = 1, EXIT_USAGE = 2;

    /** Output formats. */
    enum Format { parquet, json }

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[*]: this machine's cores).")
    String master;

    @Option(names = "--model", paramLabel = "FILE|NAME", description = "A model file every executor can read, or a built-in model "
            + "(default: ${DEFAULT-VALUE}). With a cluster master, a local file is shipped to the executors.")
    String model = FaceModels.DEFAULT;

    @Option(names = "--format", paramLabel = "FMT", description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Format format = Format.parquet;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output directory (must not exist).")
    String out;

    @Option(names = "--batch", paramLabel = "N", description = "Faces per network run (default: ${DEFAULT-VALUE}).")
    int batch = 8;

    @Option(names = "--detect", paramLabel = "MODE", converter = DetectConverter.class, description = "Face detection: auto (unless the image "
            + "is a crop of the model's input size), always, never (default: auto).")
    FaceAnalyzer.Detect detect = FaceAnalyzer.Detect.AUTO;

    /** Accepts the modes in any case. */
    static final class DetectConverter implements CommandLine.ITypeConverter<FaceAnalyzer.Detect> {
        @Override
        public FaceAnalyzer.Detect convert(String value) {
            try {
                return FaceAnalyzer.Detect.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not auto, always or never");
            }
        }
    }

    @Option(names = "--threads", paramLabel = "N", description = "Engine threads per executor (default: the executor's cores).")
    Integer threads;

    @Option(names = "--backend", paramLabel = "NAME", description = "Force a backend: simd or reference (default: best available).")
    String backend;

    @Option(names = "--partitions", paramLabel = "N", description = "Merge the input into at most N tasks (and output files); "
            + "default: Spark's file splits, ~30 photos each.")
    Integer partitions;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting (repeatable), e.g. --conf spark.ui.enabled=true.")
    Map<String, String> conf = new LinkedHashMap<>();

    @Parameters(paramLabel = "INPUT", arity = "1..*", description = "Image files (taken whatever their type) or directories "
            + "(walked recursively for .jpg .jpeg .png .bmp .gif): paths or URIs.")
    List<String> inputs;

    private final PrintStream err = System.err;

    @Override
    public Integer call() {
        SparkFaces.model(model).batch(batch).detect(detect); // checks the options before Spark starts
        if (partitions != null && partitions < 1) throw new IllegalArgumentException("--partitions must be >= 1, got " + partitions);
        SparkSession existing = SparkSession.getDefaultSession().getOrElse(() -> null);
        String m = existing != null ? existing.sparkContext().master() : master != null ? master : System.getProperty("spark.master", "local[*]");
        ModelPlan plan = planModel(isLocal(m), existing == null);
        SparkSession spark = existing != null ? existing : start(m, plan.ship());
        try {
            if (existing != null && master != null) err.println("fever: a Spark session is running already; --master is ignored");
            if (model.equals(FaceModels.UNTRAINED_DEEPFEVER)) err.println("fever: WARNING: " + DeepFever.UNTRAINED_NOTE);
            SparkFaces extraction = SparkFaces.model(plan.spec()).batch(batch).detect(detect);
            if (threads != null) extraction = extraction.threads(threads);
            if (backend != null) extraction = extraction.backend(backend);
            return run(spark, extraction);
        } finally {
            if (existing == null) spark.stop();
        }
    }

    /**
     * How the executors will find the model.
     *
     * @param spec what they are told ({@link SparkFaces#model(String)})
     * @param ship files to ship to them when the session starts (empty: none)
     */
    record ModelPlan(String spec, List<Path> ship) {}

    /**
     * Checks the model where the driver can: in local mode the file must be here; with a cluster
     * master, a file that exists here is shipped to the executors (with the weight files of a TF.js
     * manifest) and named by its file name, as {@code spark-submit --files} would. Spark 4 gives a
     * session's Dataset jobs the files the context started with, not files added later, so shipping
     * needs a session this command starts; a running one is told the path as it is.
     */
    private ModelPlan planModel(boolean local, boolean starting) {
        if (FaceModels.builtInNames().contains(model)) return new ModelPlan(model, List.of());
        Path p = Path.of(model);
        boolean here = Files.isRegularFile(p);
        if (local && !here) {
            throw new ModelLoadException(model + ": no such model file, and not a built-in model (built-in: " + FaceModels.builtInNames() + ")");
        }
        if (local || !here) return new ModelPlan(model, List.of()); // not here: a path on the executors, or shipped with --files
        if (!starting) return new ModelPlan(p.toAbsolutePath().toString(), List.of());
        return new ModelPlan(p.getFileName().toString(), ModelChecksum.files(p.toAbsolutePath()));
    }

    private SparkSession start(String m, List<Path> ship) {
        SparkSession.Builder b = SparkSession.builder().appName("fever spark").master(m);
        if (isLocal(m)) {
            // one machine: the progress line stands in for the web UI and Spark's console bar, and
            // nothing listens beyond the loopback interface
            b.config("spark.ui.enabled", "false").config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "localhost");
        }
        b.config("spark.ui.showConsoleProgress", "false");
        conf.forEach(b::config);
        if (!ship.isEmpty()) {
            String given = conf.getOrDefault("spark.files", System.getProperty("spark.files", ""));
            b.config("spark.files", withFiles(given, ship));
        }
        return b.getOrCreate();
    }

    /**
     * A {@code spark.files} value with files added, except those whose name it holds already (Spark
     * refuses two files of one name; one given to {@code --files} is the user's choice).
     *
     * @param sparkFiles the comma-separated list so far (may be empty)
     * @param files      files to add
     * @return the new list
     */
    static String withFiles(String sparkFiles, List<Path> files) {
        List<String> all = new ArrayList<>();
        for (String f : sparkFiles.split(",")) if (!f.isBlank()) all.add(f.trim());
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (all.stream().noneMatch(s -> s.equals(name) || s.endsWith("/" + name))) all.add(f.toAbsolutePath().toUri().toString());
        }
        return String.join(",", all);
    }

    private int run(SparkSession spark, SparkFaces extraction) {
        long start = System.nanoTime();
        Dataset<Row> images = ImageFiles.read(spark, inputs);
        // fewer, longer tasks: fewer output files, the same work (no shuffle)
        if (partitions != null) images = images.coalesce(partitions);
        Dataset<Row> faces = extraction.extract(images);
        boolean terminal = System.console() != null && System.console().isTerminal();
        try (ProgressLine progress = new ProgressLine(JavaSparkContext.fromSparkContext(spark.sparkContext()).statusTracker(), err, terminal)) {
            faces.write().format(format.name()).save(out);
        }
        Dataset<Row> written = spark.read().format(format.name()).schema(FaceColumns.SCHEMA).load(out);
        Row totals = written.agg(count_distinct(col(FaceColumns.IMAGE)),
                org.apache.spark.sql.functions.count(col(FaceColumns.FEATURES)),
                count_distinct(when(col(FaceColumns.ERROR).isNotNull(), col(FaceColumns.IMAGE)))).first();
        long imageCount = totals.getLong(0), faceCount = totals.getLong(1), failed = totals.getLong(2);
        if (failed > 0) {
            for (Row r : written.where(col(FaceColumns.ERROR).isNotNull()).select(FaceColumns.IMAGE, FaceColumns.ERROR).limit(10).collectAsList()) {
                err.println("fever: " + r.getString(0) + ": " + r.getString(1));
            }
            if (failed > 10) err.println("fever: ... and " + (failed - 10) + " more failed images (rows with an error)");
        }
        double s = (System.nanoTime() - start) / 1e9;
        err.printf(Locale.ROOT, "fever spark: %d images, %d faces, %d failed, %.2f faces/s (%.1f s); wrote %s (%s)%n", imageCount, faceCount, failed,
                faceCount / Math.max(s, 1e-9), s, out, format);
        return failed > 0 ? EXIT_INPUT_FAILED : EXIT_OK;
    }

    private static boolean isLocal(String master) {
        return master.equals("local") || master.startsWith("local[");
    }

    /**
     * The command line, with fever's error handling: an exception prints one line naming its cause
     * and exits 2.
     *
     * @return the picocli command line
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SparkCommand());
        cl.setExitCodeExceptionMapper(t -> EXIT_USAGE);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("fever: " + JobErrors.describe(ex));
            return EXIT_USAGE;
        });
        return cl;
    }

    /**
     * Runs the command and exits with its code. Outside spark-submit, Spark's own logging is turned
     * down to warnings first (a cluster's logging settings are left alone).
     *
     * @param args the command-line arguments
     */
    public static void main(String[] args) {
        if (System.getProperty("spark.master") == null && System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:org/deepfever/spark/log4j2-fever.properties");
        }
        System.exit(commandLine().execute(args));
    }
}
