package org.deepfever.spark;

import java.io.PrintStream;
import java.util.Locale;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.api.java.JavaSparkStatusTracker;

/**
 * A progress line on stderr from Spark's status tracker: the running stages' tasks done, running
 * and failed, and the time so far. On a terminal it is redrawn in place every half second; into a
 * file or pipe (a cluster's driver log), a line is written every ten seconds while a stage runs.
 */
final class ProgressLine implements AutoCloseable {
    private static final long TERMINAL_MS = 500, LOG_MS = 10_000;

    private final JavaSparkStatusTracker tracker;
    private final PrintStream err;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private final Thread thread;
    private volatile boolean stopped;
    private int drawn;

    /**
     * Starts reporting.
     *
     * @param tracker  the context's status tracker
     * @param err      where to write
     * @param terminal whether {@code err} is a terminal (redraw in place)
     */
    ProgressLine(JavaSparkStatusTracker tracker, PrintStream err, boolean terminal) {
        this.tracker = tracker;
        this.err = err;
        this.terminal = terminal;
        this.thread = new Thread(this::loop, "fever-progress");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        long lastPrint = 0;
        while (!stopped) {
            try {
                Thread.sleep(TERMINAL_MS);
            } catch (InterruptedException e) {
                return;
            }
            String line = line();
            long now = System.nanoTime() / 1_000_000;
            if (line == null) continue;
            synchronized (this) {
                if (stopped) return;
                if (terminal) {
                    err.print("\r" + line + " ".repeat(Math.max(0, drawn - line.length())));
                    err.flush();
                    drawn = line.length();
                } else if (now - lastPrint >= LOG_MS) {
                    err.println(line);
                    lastPrint = now;
                }
            }
        }
    }

    /** The current figures, or null when no stage is running. */
    String line() {
        int done = 0, total = 0, running = 0, failed = 0, stages = 0;
        for (int id : tracker.getActiveStageIds()) {
            SparkStageInfo s = tracker.getStageInfo(id);
            if (s == null) continue;
            stages++;
            done += s.numCompletedTasks();
            total += s.numTasks();
            running += s.numActiveTasks();
            failed += s.numFailedTasks();
        }
        if (stages == 0) return null;
        long s = (System.nanoTime() - start) / 1_000_000_000L;
        return String.format(Locale.ROOT, "fever spark: %d/%d tasks done, %d running%s (%d stage%s, %d:%02d)", done, total, running,
                failed > 0 ? ", " + failed + " failed" : "", stages, stages == 1 ? "" : "s", s / 60, s % 60);
    }

    /** Stops reporting and ends a line drawn in place. */
    @Override
    public void close() {
        synchronized (this) {
            stopped = true;
            if (terminal && drawn > 0) {
                err.print("\r" + " ".repeat(drawn) + "\r");
                err.flush();
            }
        }
        thread.interrupt();
    }
}
