package org.deepfever.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.deepfever.api.FaceModels;
import org.deepfever.model.ModelLoadException;

/**
 * Where an executor finds the model it was asked for: a built-in name; a path it can read (a local
 * file, a shared mount); or a file shipped to every executor with {@code spark-submit --files}
 * (which also fetches {@code hdfs://} and {@code s3a://} URIs), found by its file name.
 */
final class ModelSource {
    private ModelSource() {}

    /**
     * The built-in name, or the readable file, that {@code model} stands for in this JVM.
     *
     * @param model a built-in name, a path, or the file name of a file shipped with {@code --files}
     * @return the built-in name unchanged, or an absolute file path
     * @throws ModelLoadException if it is none of these here (the message names the model and the host)
     */
    static String resolve(String model) {
        if (FaceModels.builtInNames().contains(model)) return model;
        Path p = Path.of(model);
        if (Files.isRegularFile(p)) return p.toAbsolutePath().toString();
        Path shipped = shipped(p);
        if (shipped != null) return shipped.toString();
        throw new ModelLoadException(model + ": no such model file on " + host() + ", none of that name shipped with --files,"
                + " and not a built-in model (built-in: " + FaceModels.builtInNames() + ")");
    }

    /** The file of that name shipped with {@code --files} / {@code SparkContext.addFile}, or null. */
    private static Path shipped(Path p) {
        if (SparkEnv.get() == null || p.getFileName() == null) return null;
        try {
            Path f = Path.of(SparkFiles.get(p.getFileName().toString()));
            return Files.isRegularFile(f) ? f.toAbsolutePath() : null;
        } catch (RuntimeException e) {
            return null; // no SparkFiles root in this JVM
        }
    }

    private static String host() {
        SparkEnv env = SparkEnv.get();
        String id = env == null ? "" : " (executor " + env.executorId() + ")";
        try {
            return java.net.InetAddress.getLocalHost().getHostName() + id;
        } catch (java.io.IOException e) {
            return "this host" + id;
        }
    }
}
