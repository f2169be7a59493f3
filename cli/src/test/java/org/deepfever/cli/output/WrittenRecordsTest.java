package org.deepfever.cli.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deepfever.api.FaceResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading back what an interrupted run left: a file cut at every byte offset yields exactly the
 * whole records before the cut, with the offsets at which they end, whatever the image names hold
 * (commas, quotes, newlines, non-ASCII letters split across the cut).
 */
class WrittenRecordsTest {
    @TempDir Path dir;

    static final List<String> NAMES = List.of("a.png", "b, \"quoted\".png", "line\nbreak.png", "Zoë 😀.jpg", "plain.png");

    static FaceResult result(float v) {
        return new FaceResult(new float[] {v, -v, 0.5f}, new float[0], new float[] {0}, new float[] {1}, List.of("a"), Map.of());
    }

    /** Writes faces (two for the second name), a no-face and an error line through {@code sink}; returns the bytes. */
    private byte[] write(Path out, ResultSink sink) throws IOException {
        try (sink) {
            for (int i = 0; i < NAMES.size(); i++) {
                sink.face(NAMES.get(i), i == 2 ? null : new FaceBox(i, i, 10, 10), result(i));
                if (i == 1) sink.face(NAMES.get(i), new FaceBox(5, 5, 9, 9), result(7));
            }
            sink.noFace("none.png");
            sink.error("bad.png", "not an image");
        }
        return Files.readAllBytes(PartFile.partOf(out));
    }

    @Test
    void aJsonlFileCutAnywhereGivesItsWholeLines() throws IOException {
        Path out = dir.resolve("o.jsonl");
        byte[] whole = write(out, new JsonlSink(PartFile.create(out), null));
        WrittenRecords all = WrittenRecords.jsonl(PartFile.partOf(out));
        assertEquals(8, all.records().size());
        assertEquals(3, all.featureLength());
        assertEquals(List.of(true, true, true, true, true, true, false, false), all.records().stream().map(WrittenRecords.Record::face).toList());
        assertEquals(NAMES.get(3), all.records().get(4).image());
        checkEveryCut(whole, all, WrittenRecordsTest::jsonl, 0);
    }

    @Test
    void aCsvFileCutAnywhereGivesItsWholeRecords() throws IOException {
        Path out = dir.resolve("o.csv");
        byte[] whole = write(out, new CsvSink(PartFile.create(out), 3, true));
        WrittenRecords all = WrittenRecords.csv(PartFile.partOf(out));
        assertEquals(3, all.featureLength());
        // the last record is not known to be whole (nothing follows it), so it is left out
        assertEquals(List.of("a.png", "b, \"quoted\".png", "b, \"quoted\".png", "line\nbreak.png", "Zoë 😀.jpg"),
                all.records().stream().map(WrittenRecords.Record::image).toList());
        checkEveryCut(whole, all, WrittenRecordsTest::csv, 2);
    }

    interface Reader {
        WrittenRecords read(Path file) throws IOException;
    }

    static WrittenRecords jsonl(Path f) throws IOException { return WrittenRecords.jsonl(f); }

    static WrittenRecords csv(Path f) throws IOException { return WrittenRecords.csv(f); }

    /**
     * Every cut gives a prefix of the whole file's records, each ending before the cut, and misses
     * at most {@code lag} of the records that end before it (csv: a record counts as whole once the
     * next one has been read whole or to its end).
     */
    private void checkEveryCut(byte[] whole, WrittenRecords all, Reader reader, int lag) throws IOException {
        Path cut = dir.resolve("cut");
        for (int n = 0; n <= whole.length; n++) {
            Files.write(cut, Arrays.copyOf(whole, n));
            List<WrittenRecords.Record> got = reader.read(cut).records();
            assertTrue(got.size() <= all.records().size(), "cut at " + n);
            assertEquals(all.records().subList(0, got.size()), got, "cut at " + n);
            if (!got.isEmpty()) assertTrue(got.getLast().end() <= n, "cut at " + n);
            int cutAt = n;
            long ended = all.records().stream().filter(r -> r.end() <= cutAt).count();
            assertTrue(got.size() >= ended - lag, "cut at " + n + ": " + got.size() + " records of the " + ended + " ended");
        }
    }

    @Test
    void filesOfAnotherKindAreRefusedNamingTheFile() throws IOException {
        Path f = dir.resolve("x.part");
        Files.writeString(f, "{\"image\":\"a\"}\nnot json\n");
        IOException e = assertThrows(IOException.class, () -> WrittenRecords.jsonl(f));
        assertEquals(f + ": line 2 is not a line of fever extract's jsonl output", e.getMessage());
        Files.writeString(f, "name,size\na,1\nb,2\n");
        e = assertThrows(IOException.class, () -> WrittenRecords.csv(f));
        assertTrue(e.getMessage().startsWith(f + ": its first row is not fever extract's csv header"), e.getMessage());
    }
}
