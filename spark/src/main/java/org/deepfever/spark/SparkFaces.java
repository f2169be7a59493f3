package org.deepfever.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.deepfever.api.FaceModels;
import org.deepfever.faces.FaceAnalyzer;

/**
 * Face features for a DataFrame of images: one row per face ({@link FaceColumns}), computed on the
 * executors with the fever engine.
 *
 * <pre>{@code
 * Dataset<Row> images = ImageFiles.read(spark, List.of("hdfs:///photos"));   // or spark.read().format("binaryFile")...
 * Dataset<Row> faces = SparkFaces.model("model.pth").extract(images);
 * faces.write().parquet("hdfs:///faces");
 * }</pre>
 *
 * The input needs a string path column and a binary content column ({@code path} and
 * {@code content}, as Spark's {@code binaryFile} source names them, unless {@link #columns} says
 * otherwise). Each executor JVM loads the model once, on its first task, and shares it between its
 * task threads ({@link ExecutorModels}); images are decoded, searched for faces and prepared through
 * the faces module as {@code fever extract} does, and run in batches within each partition. An
 * image that fails gives an error row; it never fails the job. A model that cannot be loaded does
 * fail it: its tasks throw, naming the model and the host.
 *
 * <p>Instances are immutable; each setter returns a changed copy.
 */
public final class SparkFaces {
    private final String model;
    private final int batch;
    private final FaceAnalyzer.Detect detect;
    private final Integer threads;
    private final String backend;
    private final String pathColumn;
    private final String contentColumn;

    private SparkFaces(String model, int batch, FaceAnalyzer.Detect detect, Integer threads, String backend, String pathColumn,
                       String contentColumn) {
        this.model = model;
        this.batch = batch;
        this.detect = detect;
        this.threads = threads;
        this.backend = backend;
        this.pathColumn = pathColumn;
        this.contentColumn = contentColumn;
        new ExtractSettings(model, batch, detect, threads, backend, pathColumn, contentColumn, null); // checks the values now
    }

    /**
     * Extraction with a model.
     *
     * @param nameOrPath a built-in model name ({@link FaceModels#builtInNames()}); a model file path that
     *                   every executor can read (a shared mount); or the file name of a model shipped to
     *                   the executors with {@code spark-submit --files}
     * @return the extraction, batch 8, detection {@code AUTO}, threads sized to each executor's cores
     * @throws IllegalArgumentException if the name is blank
     */
    public static SparkFaces model(String nameOrPath) {
        return new SparkFaces(nameOrPath, 8, FaceAnalyzer.Detect.AUTO, null, null, "path", "content");
    }

    /**
     * Extraction with the default built-in model ({@link FaceModels#DEFAULT}).
     *
     * @return the extraction, with the defaults of {@link #model(String)}
     */
    public static SparkFaces defaultModel() {
        return model(FaceModels.DEFAULT);
    }

    /**
     * Faces per network run.
     *
     * @param n at least 1
     * @return the changed extraction
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public SparkFaces batch(int n) {
        return new SparkFaces(model, n, detect, threads, backend, pathColumn, contentColumn);
    }

    /**
     * When to run the face detector ({@code AUTO}: unless the image is a crop of the model's input size).
     *
     * @param mode the mode
     * @return the changed extraction
     * @throws IllegalArgumentException if {@code mode} is null
     */
    public SparkFaces detect(FaceAnalyzer.Detect mode) {
        return new SparkFaces(model, batch, mode, threads, backend, pathColumn, contentColumn);
    }

    /**
     * Engine threads of the model in each executor JVM, instead of the executor's cores. With fewer
     * threads than cores, more batches run at once (see {@link ExecutorModels}).
     *
     * @param n at least 1
     * @return the changed extraction
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public SparkFaces threads(int n) {
        return new SparkFaces(model, batch, detect, n, backend, pathColumn, contentColumn);
    }

    /**
     * Forces an engine backend.
     *
     * @param name {@code simd} or {@code reference}; null for the best available
     * @return the changed extraction
     */
    public SparkFaces backend(String name) {
        return new SparkFaces(model, batch, detect, threads, name, pathColumn, contentColumn);
    }

    /**
     * The input's column names.
     *
     * @param path    a string column with the image's path (copied to {@link FaceColumns#IMAGE})
     * @param content a binary column with the encoded image
     * @return the changed extraction
     * @throws IllegalArgumentException if a name is null
     */
    public SparkFaces columns(String path, String content) {
        return new SparkFaces(model, batch, detect, threads, backend, path, content);
    }

    /**
     * The face rows of a DataFrame of images (lazy, as any transformation: nothing runs until an action).
     *
     * @param images rows with the path and content columns (others are ignored; a long {@code length}
     *               column, as {@code binaryFile} has, explains a null content)
     * @return one row per face, per image without faces, and per failed image, with the
     *         {@link FaceColumns#SCHEMA} columns; partitioned as the input
     * @throws IllegalArgumentException if a column is missing or has the wrong type (the message lists
     *         the input's columns)
     */
    public Dataset<Row> extract(Dataset<Row> images) {
        Objects.requireNonNull(images, "images");
        StructType schema = images.schema();
        require(schema, pathColumn, DataTypes.StringType);
        require(schema, contentColumn, DataTypes.BinaryType);
        String length = has(schema, "length", DataTypes.LongType) && !"length".equals(pathColumn) && !"length".equals(contentColumn) ? "length" : null;
        List<Column> keep = new ArrayList<>(List.of(images.col(pathColumn), images.col(contentColumn)));
        if (length != null) keep.add(images.col(length));
        ExtractSettings settings = new ExtractSettings(model, batch, detect, threads, backend, pathColumn, contentColumn, length);
        return images.select(keep.toArray(Column[]::new)).mapPartitions(new PartitionExtractor(settings), Encoders.row(FaceColumns.SCHEMA));
    }

    private static boolean has(StructType schema, String name, DataType type) {
        return Arrays.asList(schema.fieldNames()).contains(name) && schema.apply(name).dataType().equals(type);
    }

    private static void require(StructType schema, String name, DataType type) {
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException("the images have no column '" + name + "' (columns: " + describe(schema)
                    + "); name the path and content columns with SparkFaces.columns(path, content)");
        }
        DataType actual = schema.apply(name).dataType();
        if (!actual.equals(type)) {
            throw new IllegalArgumentException("column '" + name + "' is " + actual.simpleString() + ", expected " + type.simpleString());
        }
    }

    private static String describe(StructType schema) {
        List<String> cols = new ArrayList<>();
        for (StructField f : schema.fields()) cols.add(f.name() + " " + f.dataType().simpleString());
        return String.join(", ", cols);
    }
}
