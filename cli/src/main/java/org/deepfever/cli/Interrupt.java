package org.deepfever.cli;

import java.util.ArrayList;
import java.util.List;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C (SIGINT) and SIGTERM during a run: the first one calls {@code onStop} (the run finishes
 * the batches running, writes what is done and ends) and puts the default handlers back, so a second one
 * ends the JVM at once. Closing puts the previous handlers back.
 */
final class Interrupt implements AutoCloseable {
    private static final List<String> SIGNALS = List.of("INT", "TERM");

    private final List<Signal> signals = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();
    private volatile boolean received;

    private Interrupt() {}

    /** Handles SIGINT and SIGTERM with {@code onStop} until closed (where the platform has them). */
    static Interrupt onSignal(Runnable onStop) {
        Interrupt it = new Interrupt();
        for (String name : SIGNALS) {
            Signal s;
            try {
                s = new Signal(name);
            } catch (IllegalArgumentException unknownHere) {
                continue;
            }
            SignalHandler handler = sig -> {
                if (it.received) return;
                it.received = true;
                it.restore();
                System.err.println("\nfever: stopping after the batches running (press Ctrl-C again to quit at once)");
                onStop.run();
            };
            try {
                it.previous.add(Signal.handle(s, handler));
                it.signals.add(s);
            } catch (IllegalArgumentException inUseByTheJvm) {
                // e.g. under -Xrs: the JVM's defaults stay
            }
        }
        return it;
    }

    /** Whether a signal came. */
    boolean received() { return received; }

    private synchronized void restore() {
        for (int i = 0; i < signals.size(); i++) Signal.handle(signals.get(i), previous.get(i));
        signals.clear();
        previous.clear();
    }

    @Override
    public void close() {
        restore();
    }
}
