package org.deepfever.cli;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceResult;
import org.deepfever.faces.FaceAnalyzer;

/**
 * The extract command's three stages, each on its own threads so none waits for another's work:
 *
 * <ol>
 *   <li><b>prepare</b> ({@code fever-prepare} workers): decode, detect, crop and normalise, at most
 *       {@code ahead} images beyond the image the network is at (a bounded queue: memory stays
 *       flat however many images come);
 *   <li><b>network</b>: the calling thread takes the prepared images in input order and puts
 *       their faces in full batches as soon as a batch is full, whatever images its faces come
 *       from (the last batch may be short). With one network lane it runs each batch itself; with
 *       {@code lanes > 1} ({@code fever-network} threads) up to that many batches run at once, each
 *       on its own lane, and their results are taken in the order the batches were formed, so the
 *       output, and every batch's make-up, are those of a one-lane run;
 *   <li><b>write</b> ({@code fever-write}, one thread): writes each image's results, in input
 *       order, as soon as all its faces have run.
 * </ol>
 *
 * Workers start on construction, before the model is loaded: decoding overlaps the load, and
 * {@link FacePreparer} waits for the model only where it needs it.
 */
final class ExtractPipeline implements AutoCloseable {
    /** Writes one image's outcome; called on the writer thread only, in input order. */
    interface Writer {
        /**
         * @param image   the prepared image (its error, or its faces)
         * @param results one result per face of {@code image}, in order
         * @throws IOException if the output cannot be written (ends the run)
         */
        void write(FacePreparer.Prepared image, List<FaceResult> results) throws IOException;
    }

    /** An image between the network and the writer: its faces' results as they come. */
    private static final class Pending {
        final FacePreparer.Prepared image;
        final FaceResult[] results;
        /** Whether it is written (not when a resumed run has it in its file already). */
        final boolean write;
        int missing;

        Pending(FacePreparer.Prepared image, boolean write) {
            this.image = image;
            this.results = new FaceResult[image.faces().size()];
            this.write = write;
            this.missing = results.length;
        }
    }

    /** Faces run together, and where each face's result goes. */
    private static final class Batch {
        final List<float[]> faces;
        final List<Pending> owner;
        final int[] slot;
        Future<List<FaceResult>> results;

        Batch(int size) {
            faces = new ArrayList<>(size);
            owner = new ArrayList<>(size);
            slot = new int[size];
        }

        void add(Pending p, int face) {
            slot[faces.size()] = face;
            faces.add(p.image.faces().get(face).input());
            owner.add(p);
        }

        /** Waits for the results and hands each to its image (the calling thread only). */
        void finish() {
            List<FaceResult> r = get(results);
            for (int i = 0; i < r.size(); i++) {
                Pending p = owner.get(i);
                p.results[slot[i]] = r.get(i);
                p.missing--;
            }
        }
    }

    private final List<InputWalker.Input> images;
    private final int first;
    private final Function<InputWalker.Input, FacePreparer.Prepared> preparer;
    private final int ahead;
    private final ExecutorService workers;
    private final ExecutorService writer;
    /** The network lanes; null for one lane (the calling thread runs each batch). */
    private final ExecutorService network;
    private final int lanes;
    /** Preparations submitted and not yet taken by the network, in input order (network thread only). */
    private final ArrayDeque<Future<FacePreparer.Prepared>> prepared = new ArrayDeque<>();
    private int submitted;
    /** The writer's first failure; later writes are skipped. */
    private final AtomicReference<Exception> writeError = new AtomicReference<>();
    /** Set by {@link #stop}: no batch starts after those running. */
    private volatile boolean stopping;

    /**
     * Starts preparing the first {@code ahead} images from {@code first} on.
     *
     * @param images   the inputs, in output order
     * @param first    the first input to prepare (a resumed run's {@link ResumePoint#firstImage})
     * @param preparer turns an input into model inputs, never throwing ({@link FacePreparer#prepare}; thread-safe)
     * @param threads  prepare workers
     * @param ahead    images prepared beyond the network's position, at most
     * @param lanes    batches the network runs at once (each calls the model from its own thread)
     */
    ExtractPipeline(List<InputWalker.Input> images, int first, Function<InputWalker.Input, FacePreparer.Prepared> preparer, int threads, int ahead, int lanes) {
        if (threads < 1 || ahead < 1 || lanes < 1) throw new IllegalArgumentException("threads, ahead and lanes must be >= 1");
        if (first < 0 || first > images.size()) throw new IllegalArgumentException("first image " + first + " of " + images.size());
        this.images = images;
        this.first = first;
        this.submitted = first;
        this.preparer = preparer;
        this.ahead = ahead;
        this.workers = Executors.newFixedThreadPool(threads, daemon("fever-prepare"));
        this.writer = Executors.newSingleThreadExecutor(daemon("fever-write"));
        this.lanes = lanes;
        this.network = lanes == 1 ? null : Executors.newFixedThreadPool(lanes, daemon("fever-network"));
        fill();
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private void fill() {
        while (submitted < images.size() && prepared.size() < ahead) {
            InputWalker.Input in = images.get(submitted++);
            prepared.add(workers.submit(() -> preparer.apply(in)));
        }
    }

    /** The next image in input order, once prepared; the workers move on to the image {@code ahead} beyond it. */
    private FacePreparer.Prepared next() {
        Future<FacePreparer.Prepared> f = prepared.poll();
        fill();
        return get(f);
    }

    /**
     * Runs every image through the network and the writer; returns when the last result is written,
     * or, after {@link #stop}, when the batches running then and the images they completed are written.
     * Returns only when no lane is running a batch any more, also when it throws.
     *
     * @param model      the network
     * @param batch      faces per network run
     * @param skipFaces  faces of the first image not run (a resumed run's {@link ResumePoint#skipFaces})
     * @param firstWrite the first image written (earlier ones only fill the first batch as an
     *                   uninterrupted run had it)
     * @param out        receives each image's outcome in input order, on the writer thread
     * @return the number of images written; fewer than {@code images - firstWrite} after a stop
     * @throws IOException if {@code out} fails (the run stops at the next batch)
     * @throws IllegalStateException if the model is closed
     */
    int run(FaceModel model, int batch, int skipFaces, int firstWrite, Writer out) throws IOException {
        ArrayDeque<Batch> running = new ArrayDeque<>();
        try {
            return run(model, batch, skipFaces, firstWrite, out, running);
        } finally {
            // after a failure, no lane may still be using the model when the caller closes it
            for (Batch b : running) awaitQuietly(b.results);
        }
    }

    private int run(FaceModel model, int batch, int skipFaces, int firstWrite, Writer out, ArrayDeque<Batch> running) throws IOException {
        ArrayDeque<Pending> unwritten = new ArrayDeque<>();
        Batch forming = new Batch(batch);
        int written = 0;
        for (int i = first; i < images.size() && !stopping; i++) {
            Pending p = new Pending(next(), i >= firstWrite);
            unwritten.add(p);
            for (int f = 0; f < p.results.length; f++) {
                if (i == first && f < skipFaces) {
                    p.missing--; // in the file already, with the batch before
                    continue;
                }
                forming.add(p, f);
                if (forming.faces.size() == batch && !stopping) {
                    start(model, forming, running);
                    forming = new Batch(batch);
                    if (running.size() >= lanes) running.poll().finish();
                    written += flush(unwritten, out);
                }
            }
            written += flush(unwritten, out);
        }
        // a stop leaves the last, incomplete batch: run, it would not be the batch an uninterrupted run has
        if (!stopping && !forming.faces.isEmpty()) start(model, forming, running);
        while (!running.isEmpty()) {
            running.poll().finish(); // the batches started before a stop finish too
            written += flush(unwritten, out);
        }
        get(writer.submit(() -> {})); // the writer is done with everything handed to it
        checkWrites();
        return written;
    }

    /** Runs {@code b} on this thread (one lane) or starts it on a lane. */
    private void start(FaceModel model, Batch b, ArrayDeque<Batch> running) {
        b.results = network == null ? CompletableFuture.completedFuture(model.extract(b.faces)) : network.submit(() -> model.extract(b.faces));
        running.add(b);
    }

    /**
     * Asks a running {@link #run} to stop: the batches running finish, the images they complete are
     * written, no batch starts after it. Safe from any thread (a signal handler).
     */
    void stop() {
        stopping = true;
    }

    /**
     * Hands the complete images at the head of the queue to the writer; surfaces a failed write.
     * Returns how many images were handed over to be written.
     */
    private int flush(ArrayDeque<Pending> unwritten, Writer out) throws IOException {
        checkWrites();
        int n = 0;
        while (!unwritten.isEmpty() && unwritten.peek().missing == 0) {
            Pending p = unwritten.poll();
            if (!p.write) continue;
            n++;
            writer.submit(() -> {
                if (writeError.get() != null) return; // nothing after a failed write: the output must not skip an image
                try {
                    out.write(p.image, List.of(p.results));
                } catch (IOException | RuntimeException e) {
                    writeError.compareAndSet(null, e);
                }
            });
        }
        return n;
    }

    /** Rethrows the writer's first failure, if any. */
    private void checkWrites() throws IOException {
        Exception e = writeError.get();
        if (e instanceof IOException io) throw io;
        if (e instanceof RuntimeException r) throw r;
    }

    /** Waits until {@code f} is done, whatever its outcome. */
    private static void awaitQuietly(Future<?> f) {
        boolean interrupted = false;
        while (true) {
            try {
                f.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException | CancellationException e) {
                break;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** A task's value; its unchecked exception rethrown as thrown. */
    private static <T> T get(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error err) throw err;
            throw new IllegalStateException(c);
        }
    }

    /** Stops the workers and the writer (what is queued is dropped; a finished run has nothing queued). */
    @Override
    public void close() {
        workers.shutdownNow();
        if (network != null) network.shutdownNow();
        writer.shutdown();
        try {
            writer.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
