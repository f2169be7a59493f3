package org.deepfever.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Counts images, faces and failures; shows a progress bar (images/s, ETA) on stderr when stderr is a
 * terminal and the run has more than a few images; prints a one-line summary at the end.
 */
final class Summary {
    private final long start = System.nanoTime();
    private final ProgressBar bar;
    private int images, faces, failed;

    Summary(int total) {
        boolean terminal = System.console() != null && System.console().isTerminal();
        this.bar = terminal && total > 4
                ? new ProgressBarBuilder().setTaskName("extract").setInitialMax(total).setUnit(" img", 1)
                        .setStyle(ProgressBarStyle.ASCII).showSpeed().setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err)).build()
                : null;
    }

    void image(int faceCount) {
        images++;
        faces += faceCount;
        if (bar != null) bar.step();
    }

    void failed(String image) {
        images++;
        failed++;
        if (bar != null) bar.step();
    }

    int failed() { return failed; }

    void finish() {
        if (bar != null) bar.close();
        double s = (System.nanoTime() - start) / 1e9;
        System.err.printf("fever: %d images, %d faces, %d failed, %.1f faces/s (%.2f s)%n", images, faces, failed, faces / Math.max(s, 1e-9), s);
    }
}
