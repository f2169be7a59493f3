package org.deepfever.spark;

import static org.apache.spark.sql.functions.col;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.datasources.FileStatusWithMetadata;
import org.apache.spark.sql.execution.datasources.HadoopFsRelation;
import org.apache.spark.sql.execution.datasources.LogicalRelation;
import org.apache.spark.sql.execution.datasources.PartitionDirectory;
import org.deepfever.faces.image.ImageDecoder;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Image files as a DataFrame for {@link SparkFaces#extract}, chosen as {@code fever extract} chooses
 * them: a file named on the command line is taken whatever its type (so a wrong file is reported,
 * not skipped); a directory is walked recursively for files with an image extension (jpg, jpeg,
 * png, bmp, gif, in any case). Read with Spark's {@code binaryFile} source, so any file system
 * Spark reads (local, {@code hdfs://}, {@code s3a://}) works.
 *
 * <p>Files over {@link ImageDecoder#MAX_FILE_BYTES} are listed with a null content instead of
 * being read (the source would load each whole into a task's memory, and fail the job past 2 GiB);
 * the extraction reports them as too large.
 */
public final class ImageFiles {
    /** Glob of the image extensions, case-insensitive ({@code pathGlobFilter} matches file names). */
    static final String IMAGE_GLOB = "*.{" + String.join(",", caseless("jpg"), caseless("jpeg"), caseless("png"), caseless("bmp"),
            caseless("gif")) + "}";

    private ImageFiles() {}

    /**
     * Lists and reads images.
     *
     * @param spark  the session
     * @param inputs files or directories (paths or URIs)
     * @return columns {@code path} (string, a URI), {@code length} (long) and {@code content}
     *         (binary; null for a file too large to decode)
     * @throws IllegalArgumentException if an input does not exist or none is given (the message names it)
     * @throws UncheckedIOException if the file system cannot be asked about an input
     */
    public static Dataset<Row> read(SparkSession spark, List<String> inputs) {
        if (inputs.isEmpty()) throw new IllegalArgumentException("no inputs given");
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        List<String> files = new ArrayList<>(), dirs = new ArrayList<>();
        for (String in : inputs) {
            Path p = new Path(in);
            try {
                FileStatus st = p.getFileSystem(conf).getFileStatus(p);
                (st.isDirectory() ? dirs : files).add(in);
            } catch (FileNotFoundException e) {
                throw new IllegalArgumentException(in + ": no such file or directory");
            } catch (IOException e) {
                throw new UncheckedIOException(in + ": " + e.getMessage(), e);
            }
        }
        Dataset<Row> all = null;
        if (!files.isEmpty()) all = guarded(spark, spark.read().format("binaryFile").load(files.toArray(String[]::new)));
        if (!dirs.isEmpty()) {
            Dataset<Row> walked = guarded(spark, spark.read().format("binaryFile").option("recursiveFileLookup", "true")
                    .option("pathGlobFilter", IMAGE_GLOB).load(dirs.toArray(String[]::new)));
            all = all == null ? walked : all.unionByName(walked);
        }
        return all;
    }

    /**
     * The files small enough to decode, with their content (the length filter reaches the source,
     * which then does not open the others), and the others with a null content, taken from the
     * listing the driver already holds: no second scan, no file touched again.
     */
    private static Dataset<Row> guarded(SparkSession spark, Dataset<Row> binary) {
        Dataset<Row> small = binary.where(col("length").leq(ImageDecoder.MAX_FILE_BYTES)).select("path", "length", "content");
        List<Row> large = tooLarge(binary);
        return large.isEmpty() ? small : small.unionByName(spark.createDataFrame(large, small.schema()));
    }

    /**
     * Files of a {@code binaryFile} DataFrame over {@link ImageDecoder#MAX_FILE_BYTES}, as rows of
     * path, length and a null content, from its file index. That index is Spark's internal API: should
     * a Spark version shape it otherwise, this warns that such files go unreported, and carries on.
     */
    static List<Row> tooLarge(Dataset<Row> binary) {
        List<Row> rows = new ArrayList<>();
        try {
            for (LogicalPlan leaf : CollectionConverters.asJava(binary.queryExecution().analyzed().collectLeaves())) {
                if (leaf instanceof LogicalRelation lr && lr.relation() instanceof HadoopFsRelation fs) {
                    scala.collection.immutable.Seq<Expression> none = CollectionConverters.asScala(List.<Expression>of()).toSeq();
                    for (PartitionDirectory dir : CollectionConverters.asJava(fs.location().listFiles(none, none))) {
                        for (FileStatusWithMetadata f : CollectionConverters.asJava(dir.files())) {
                            if (f.getLen() > ImageDecoder.MAX_FILE_BYTES) rows.add(RowFactory.create(f.getPath().toString(), f.getLen(), null));
                        }
                    }
                }
            }
        } catch (RuntimeException | LinkageError e) {
            System.err.println("fever: WARNING: cannot list files over " + ImageDecoder.MAX_FILE_BYTES
                    + " bytes from this Spark's file index (" + e + "); such files are skipped without an error row");
        }
        return rows;
    }

    private static String caseless(String ext) {
        StringBuilder sb = new StringBuilder();
        for (char c : ext.toCharArray()) sb.append('[').append(Character.toLowerCase(c)).append(Character.toUpperCase(c)).append(']');
        return sb.toString();
    }
}
