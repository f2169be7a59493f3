package org.deepfever.spark;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * How many cores Spark gave this executor, which is what the engine's threads are sized to (not the
 * machine's processor count: a worker may host several executors, and Spark schedules only the
 * cores it granted).
 */
final class ExecutorCores {
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:\\s*,\\s*\\d+)?])?");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[\\s*\\d+\\s*,\\s*(\\d+)\\s*,\\s*\\d+\\s*]");

    private ExecutorCores() {}

    /** This JVM's executor cores, from the running Spark environment (the processor count outside Spark). */
    static int current() {
        SparkEnv env = SparkEnv.get();
        int available = Runtime.getRuntime().availableProcessors();
        if (env == null) return available;
        SparkConf conf = env.conf();
        return of(conf.get("spark.master", ""), conf.contains("spark.executor.cores") ? conf.get("spark.executor.cores") : null, available);
    }

    /**
     * The executor's cores for a master URL and {@code spark.executor.cores} setting.
     *
     * @param master        {@code spark.master}: {@code local}, {@code local[N]}, {@code local[*]},
     *                      {@code local[N,F]}, {@code local-cluster[W,C,M]} or a cluster URL
     * @param executorCores {@code spark.executor.cores}, or null when unset
     * @param available     the processors this JVM sees (the fallback, and what {@code *} means)
     * @return local modes: the cores of the master URL; otherwise {@code spark.executor.cores}, or
     *         {@code available} when unset (standalone executors then take a whole worker)
     * @throws IllegalArgumentException if {@code spark.executor.cores} is not a positive integer
     */
    static int of(String master, String executorCores, int available) {
        String m = master.trim();
        Matcher local = LOCAL.matcher(m);
        if (local.matches()) {
            String n = local.group(1);
            return n == null ? 1 : n.equals("*") ? available : Math.max(1, Integer.parseInt(n));
        }
        Matcher cluster = LOCAL_CLUSTER.matcher(m);
        if (cluster.matches()) return Math.max(1, Integer.parseInt(cluster.group(1)));
        if (executorCores == null) return available;
        try {
            int c = Integer.parseInt(executorCores.trim());
            if (c >= 1) return c;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("spark.executor.cores must be a positive integer, got '" + executorCores + "'");
    }
}
