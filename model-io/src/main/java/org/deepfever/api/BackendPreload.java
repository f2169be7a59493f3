package org.deepfever.api;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import org.deepfever.core.backend.Backend;
import org.deepfever.core.backend.Backends;

/**
 * The backend of a load, resolved ({@link Backends#preferred} or by name) and preloaded
 * ({@link Backend#preload}) on a daemon thread of its own, started before the model file is read:
 * in a fresh JVM that is class loading and Vector API start-up which would otherwise follow the
 * read. {@link #get} waits for it and rethrows what it threw (an unknown backend name, say).
 */
final class BackendPreload {
    private final FutureTask<Backend> task;

    private BackendPreload(String name) {
        task = new FutureTask<>(() -> {
            Backend b = name == null ? Backends.preferred() : Backends.byName(name);
            b.preload();
            return b;
        });
    }

    /** Starts resolving on a new thread (or here, if no thread can be started). */
    static BackendPreload start(String name) {
        BackendPreload p = new BackendPreload(name);
        try {
            Thread t = new Thread(p.task, "fever-backend-init");
            t.setDaemon(true);
            t.start();
        } catch (RuntimeException | OutOfMemoryError e) {
            p.task.run();
        }
        return p;
    }

    /** Resolves on the calling thread. */
    static BackendPreload now(String name) {
        BackendPreload p = new BackendPreload(name);
        p.task.run();
        return p;
    }

    Backend get() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true; // a load is not interruptible; keep the flag for the caller
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) throw r;
                    if (e.getCause() instanceof Error err) throw err;
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }
}
