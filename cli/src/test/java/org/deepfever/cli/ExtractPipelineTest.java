package org.deepfever.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceResult;
import org.deepfever.api.InputSpec;
import org.deepfever.api.OutputSpec;
import org.deepfever.cli.output.WrittenRecords;
import org.deepfever.faces.FaceAnalyzer;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's ordering and batching, with a stand-in model that returns each face's first input
 * value as its feature and records its batch sizes, and preparation that takes random time (so
 * images finish out of order) and gives 0 to 3 faces or an error per image.
 */
class ExtractPipelineTest {

    /** Image i: i % 7 == 5 fails; otherwise i % 4 faces, face f carrying the value i * 10 + f. */
    private static FacePreparer.Prepared prepare(InputWalker.Input in, Random delays) {
        int i = Integer.parseInt(in.display());
        try {
            Thread.sleep(delays.nextInt(3));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (i % 7 == 5) return new FacePreparer.Prepared(in, List.of(), "broken " + i);
        List<FaceAnalyzer.PreparedFace> faces = new ArrayList<>();
        for (int f = 0; f < i % 4; f++) faces.add(new FaceAnalyzer.PreparedFace(null, new float[] {i * 10 + f, 0}));
        return new FacePreparer.Prepared(in, faces, null);
    }

    private static List<InputWalker.Input> inputs(int n) {
        List<InputWalker.Input> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(new InputWalker.Input(Path.of("img" + i), Integer.toString(i), null));
        return l;
    }

    /**
     * Returns each face's first value as its one feature; records batch sizes (in the order the
     * batches end). With {@code delays}, each batch takes 0-2 ms, so concurrent ones end out of order.
     */
    private static class EchoModel implements FaceModel {
        final Random delays;
        /** Batches running now, and the most seen at once. */
        final AtomicInteger running = new AtomicInteger(), mostAtOnce = new AtomicInteger();
        final List<Integer> batches = Collections.synchronizedList(new ArrayList<>());
        /** Each batch's faces, by their values. */
        final List<List<Float>> compositions = Collections.synchronizedList(new ArrayList<>());

        @Override public String name() { return "echo"; }
        @Override public String note() { return null; }
        @Override public InputSpec input() { throw new UnsupportedOperationException(); }
        @Override public OutputSpec output() { return new OutputSpec(1, 0, List.of("a")); }
        @Override public int threads() { return 1; }
        @Override public List<String> describe() { return List.of("echo"); }
        @Override public void close() {}

        EchoModel() { this(null); }

        EchoModel(Random delays) { this.delays = delays; }

        @Override
        public List<FaceResult> extract(List<float[]> faces) {
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                if (delays != null) Thread.sleep(delays.nextInt(3));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running.decrementAndGet();
            }
            if (faces.stream().anyMatch(f -> f[0] == FAIL)) throw new IllegalStateException("batch with face " + FAIL);
            batches.add(faces.size());
            List<Float> values = new ArrayList<>();
            for (float[] f : faces) values.add(f[0]);
            compositions.add(values);
            List<FaceResult> out = new ArrayList<>();
            for (float[] f : faces) out.add(new FaceResult(new float[] {f[0]}, new float[0], new float[] {0}, new float[] {1}, List.of("a"), java.util.Map.of()));
            return out;
        }
    }

    /** A face value that makes {@link EchoModel} fail its batch (image 63's second face). */
    private static final float FAIL = 631;

    @Test
    void resultsComeInInputOrderAndBatchesAreFull() throws IOException {
        for (int batch : new int[] {1, 3, 8}) {
            List<List<Float>> oneLane = null;
            for (int[] tl : new int[][] {{1, 1}, {3, 1}, {1, 2}, {3, 3}}) {
                int threads = tl[0], lanes = tl[1];
                int n = 60;
                Random delays = new Random(batch * 31 + threads + 7 * lanes);
                EchoModel model = new EchoModel(new Random(delays.nextLong()));
                List<String> written = Collections.synchronizedList(new ArrayList<>());
                try (ExtractPipeline p = new ExtractPipeline(inputs(n), 0, in -> prepare(in, new Random(delays.nextLong())), threads, 5, lanes)) {
                    p.run(model, batch, 0, 0, (img, results) -> {
                        int i = Integer.parseInt(img.input().display());
                        if (img.error() != null) {
                            assertEquals("broken " + i, img.error());
                            assertEquals(0, results.size());
                        } else {
                            assertEquals(i % 4, results.size());
                            for (int f = 0; f < results.size(); f++) assertEquals(i * 10 + f, results.get(f).features()[0], "image " + i + " face " + f);
                        }
                        written.add(img.input().display());
                    });
                }
                List<String> want = new ArrayList<>();
                for (int i = 0; i < n; i++) want.add(Integer.toString(i));
                String where = "batch " + batch + ", threads " + threads + ", lanes " + lanes;
                assertEquals(want, written, where);
                int faces = 0;
                for (int i = 0; i < n; i++) if (i % 7 != 5) faces += i % 4;
                List<Integer> b = model.batches;
                assertEquals(faces, b.stream().mapToInt(Integer::intValue).sum(), where);
                assertTrue(b.stream().filter(size -> size != batch).count() <= 1, where + ": every batch but the last is full: " + b);
                assertTrue(model.mostAtOnce.get() <= lanes, where + ": at most one batch per lane at once");
                // the batches are made as with one lane, face for face (only the order they end in differs)
                List<List<Float>> made = new ArrayList<>(model.compositions);
                made.sort(java.util.Comparator.comparing(l -> l.get(0)));
                if (oneLane == null) oneLane = made;
                assertEquals(oneLane, made, where);
            }
        }
    }

    @Test
    void lanesRunBatchesAtOnce() throws IOException {
        // the first batch waits (at most 10 s) until a second has started: with two lanes it starts
        // meanwhile; one lane would start it only once the first has returned
        CountDownLatch twoStarted = new CountDownLatch(2);
        AtomicInteger inside = new AtomicInteger(), mostInside = new AtomicInteger();
        EchoModel model = new EchoModel(new Random(3)) {
            @Override
            public List<FaceResult> extract(List<float[]> faces) {
                mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                try {
                    twoStarted.countDown();
                    twoStarted.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    inside.decrementAndGet();
                }
                return super.extract(faces);
            }
        };
        try (ExtractPipeline p = new ExtractPipeline(inputs(40), 0, in -> prepare(in, new Random(0)), 2, 16, 2)) {
            p.run(model, 2, 0, 0, (img, results) -> {});
        }
        assertEquals(2, mostInside.get(), "two lanes, two batches at once");
    }

    @Test
    void aFailedBatchEndsTheRunAfterTheOthersRunningHaveEnded() {
        // image 63's second face fails its batch; the run stops there and no lane is still running when it has returned
        for (int lanes : new int[] {1, 2, 4}) {
            EchoModel model = new EchoModel(new Random(lanes));
            List<String> written = Collections.synchronizedList(new ArrayList<>());
            try (ExtractPipeline p = new ExtractPipeline(inputs(120), 0, in -> prepare(in, new Random(2)), 2, 8, lanes)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.run(model, 3, 0, 0, (img, results) -> written.add(img.input().display())));
                assertEquals("batch with face 631.0", e.getMessage());
                assertEquals(0, model.running.get(), "lanes " + lanes + ": a batch still running after run() threw");
            }
            assertTrue(written.size() <= 63, "lanes " + lanes + ": written " + written.size());
            for (int i = 0; i < written.size(); i++) assertEquals(Integer.toString(i), written.get(i));
        }
    }

    @Test
    void aRunLongEnoughRunsABatchPerThread() {
        assertEquals(2, ExtractCommand.lanes(2, 8, 128, null));
        assertEquals(1, ExtractCommand.lanes(2, 8, 127, null), "a short run splits each batch across the threads");
        assertEquals(4, ExtractCommand.lanes(4, 1, 32, "cpu"));
        assertEquals(1, ExtractCommand.lanes(1, 8, 1000, null));
        assertEquals(1, ExtractCommand.lanes(2, 8, 1000, "cuda"), "a GPU runs one batch at a time");
    }

    @Test
    void aFailedWriteEndsTheRunAndNothingIsWrittenAfterIt() {
        AtomicInteger calls = new AtomicInteger();
        List<String> written = Collections.synchronizedList(new ArrayList<>());
        IOException boom = new IOException("disk full");
        IOException got;
        try (ExtractPipeline p = new ExtractPipeline(inputs(40), 0, in -> prepare(in, new Random(1)), 2, 4, 1)) {
            got = assertThrows(IOException.class, () -> p.run(new EchoModel(), 2, 0, 0, (img, results) -> {
                if (calls.incrementAndGet() == 10) throw boom;
                written.add(img.input().display());
            }));
        }
        assertSame(boom, got);
        assertEquals(9, written.size(), "images before the failed one only");
        for (int i = 0; i < written.size(); i++) assertEquals(Integer.toString(i), written.get(i));
    }

    @Test
    void refusesEmptyPools() {
        assertThrows(IllegalArgumentException.class, () -> new ExtractPipeline(inputs(1), 0, in -> null, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new ExtractPipeline(inputs(1), 0, in -> null, 1, 0, 1));
    }

    /**
     * A resumed run, for every point at which the first could have been cut (after any whole
     * record): writes exactly the images after those kept, and runs each of its faces in a batch
     * that an uninterrupted run has too, face for face (so its results are the same to the bit).
     */
    @Test
    void aResumedRunBatchesFacesAsTheUninterruptedRun() throws IOException {
        int n = 45;
        for (int batch : new int[] {1, 3, 4}) for (int lanes : new int[] {1, 2}) {
            EchoModel full = new EchoModel();
            List<WrittenRecords.Record> records = new ArrayList<>();
            try (ExtractPipeline p = new ExtractPipeline(inputs(n), 0, in -> prepare(in, new Random(0)), 2, 5, lanes)) {
                p.run(full, batch, 0, 0, (img, results) -> {
                    if (results.isEmpty()) records.add(new WrittenRecords.Record(img.input().display(), false, records.size() + 1));
                    for (int f = 0; f < results.size(); f++) records.add(new WrittenRecords.Record(img.input().display(), true, records.size() + 1));
                });
            }
            for (int cut = 0; cut <= records.size(); cut++) {
                WrittenRecords left = new WrittenRecords(List.copyOf(records.subList(0, cut)), -1, 0);
                ResumePoint at = ResumePoint.of(Path.of("out.part"), left, inputs(n), batch);
                EchoModel resumed = new EchoModel();
                List<WrittenRecords.Record> after = new ArrayList<>(records.subList(0, (int) at.keepBytes()));
                try (ExtractPipeline p = new ExtractPipeline(inputs(n), at.firstImage(), in -> prepare(in, new Random(0)), 2, 5, lanes)) {
                    p.run(resumed, batch, at.skipFaces(), at.firstWrite(), (img, results) -> {
                        if (results.isEmpty()) after.add(new WrittenRecords.Record(img.input().display(), false, after.size() + 1));
                        for (int f = 0; f < results.size(); f++) after.add(new WrittenRecords.Record(img.input().display(), true, after.size() + 1));
                    });
                }
                assertEquals(records, after, "batch " + batch + ", lanes " + lanes + ", cut after " + cut + " records: " + at);
                for (List<Float> b : resumed.compositions) {
                    assertTrue(full.compositions.contains(b), "batch " + batch + ", lanes " + lanes + ", cut after " + cut + ": " + b + " is no batch of the whole run");
                }
            }
        }
    }
}
