package org.deepfever.io;

import static org.deepfever.io.BrokenFiles.assertLoadsOrRefused;
import static org.deepfever.io.BrokenFiles.assertRefused;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken torch.save checkpoints, made at run time from the golden mini model.pth and from
 * hand-assembled pickles: each is refused with one ModelFormatException naming the file (and the
 * tensor or pickle global at fault) and saying what is wrong; nothing of the file stays open or
 * mapped, and no pickle global outside the allow-list is ever called.
 */
class BrokenPthTest {
    @TempDir Path tmp;

    // ---- the golden checkpoint, cut and flipped --------------------------------------------------

    @Test
    void everyTruncationOfTheGoldenModelIsRefused() throws IOException {
        BrokenFiles.assertEveryTruncationRefused(TestFiles.mini("model.pth"), tmp.resolve("cut.pth"), PthReader::read);
    }

    @Test
    void bitFlipsInThePickleAndTheZipDirectoryLoadOrAreRefused() throws IOException {
        byte[] all = Files.readAllBytes(TestFiles.mini("model.pth"));
        Random r = new Random(13);
        Path p = tmp.resolve("flip.pth");
        for (int i = 0; i < 240; i++) {
            // the pickle comes first in torch's archives; the central directory is at the end
            boolean head = i % 2 == 0;
            int from = head ? 0 : all.length - 8192, to = head ? 8192 : all.length;
            Files.write(p, BrokenFiles.flipBits(all, r, 1 + i % 3, from, to));
            assertLoadsOrRefused(p, PthReader::read);
        }
    }

    @Test
    void emptyAndNonZipFiles() throws IOException {
        assertRefused(write("empty.pth", new byte[0]), PthReader::read, "file has 0 bytes: truncated, not a torch checkpoint");
        assertRefused(write("text.pth", "not a checkpoint at all".getBytes(StandardCharsets.US_ASCII)), PthReader::read,
                "not a torch zip checkpoint (no zip signature)");
        assertRefused(write("legacy.pth", new byte[] {(byte) 0x80, 2, 'K', 1, '.'}), PthReader::read, "legacy (pre-1.6, non-zip) torch.save format");
        assertRefused(write("zip-only-magic.pth", new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0}), PthReader::read, "zip file of 8 bytes is truncated");
    }

    // ---- the zip directory ---------------------------------------------------------------------

    @Test
    void centralDirectoryOrLocalHeaderOutsideTheFile() throws IOException {
        // re-zipped without zip64 records (torch's own writer adds them), so that the plain fields are the ones read
        byte[] good = FuzzSeeds.rezip(Files.readAllBytes(TestFiles.resource("pth/param.pth")), false);
        int eocd = eocd(good);
        byte[] cd = good.clone();
        ByteBuffer.wrap(cd).order(ByteOrder.LITTLE_ENDIAN).putInt(eocd + 16, good.length + 100);
        assertRefused(write("cd.pth", cd), PthReader::read, "zip central directory", "lies outside the file");
        byte[] size = good.clone();
        ByteBuffer.wrap(size).order(ByteOrder.LITTLE_ENDIAN).putInt(eocd + 12, -1);
        assertRefused(write("cdsize.pth", size), PthReader::read, "zip64 end-of-central-directory locator missing");
        // every central entry's local header offset pointed past the end
        byte[] local = good.clone();
        ByteBuffer b = ByteBuffer.wrap(local).order(ByteOrder.LITTLE_ENDIAN);
        int cdOffset = b.getInt(eocd + 16);
        for (int p = cdOffset; b.getInt(p) == 0x02014b50; p += 46 + b.getShort(p + 28) + b.getShort(p + 30) + b.getShort(p + 32)) {
            b.putInt(p + 42, good.length * 2);
        }
        assertRefused(write("local.pth", local), PthReader::read, "local header at " + good.length * 2 + " is missing or outside the file");
    }

    @Test
    void deflatedEntryClaimingMoreThanDeflateCanProduceIsRefusedBeforeAllocating() throws IOException {
        byte[] good = FuzzSeeds.rezip(Files.readAllBytes(TestFiles.resource("pth/param.pth")), true);
        ByteBuffer b = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN);
        int cdOffset = b.getInt(eocd(good) + 16);
        for (int p = cdOffset; b.getInt(p) == 0x02014b50; p += 46 + b.getShort(p + 28) + b.getShort(p + 30) + b.getShort(p + 32)) {
            b.putInt(p + 24, 2_000_000_000); // uncompressed size: 2 GB from a few hundred bytes
        }
        assertRefused(write("bomb.pth", good), PthReader::read, "claims 2000000000 bytes from", "more than deflate can produce");
    }

    @Test
    void duplicateZipEntriesAndMissingOrShortStorages() throws IOException {
        Map<String, byte[]> entries = TestFiles.unzip(TestFiles.resource("pth/param.pth"));
        String prefix = entries.keySet().iterator().next().split("/")[0];
        byte[] dir = FuzzSeeds.rezip(Files.readAllBytes(TestFiles.resource("pth/param.pth")), false);
        // the same central directory entry twice: append a copy of the first and bump the counts
        assertRefused(write("dup-entry.pth", duplicateFirstCentralEntry(dir)), PthReader::read, "zip holds entry '" + prefix + "/data.pkl' twice");
        Map<String, byte[]> shortStorage = new LinkedHashMap<>(entries);
        shortStorage.put(prefix + "/data/0", new byte[6]);
        Path p = tmp.resolve("short.pth");
        TestFiles.zip(p, shortStorage, false);
        assertRefused(p, PthReader::read, "tensor 'p'", "storage data/0 has 6 bytes, but its 4 float32 elements need 16");
        Map<String, byte[]> missing = new LinkedHashMap<>(entries);
        missing.remove(prefix + "/data/0");
        TestFiles.zip(p, missing, false);
        assertRefused(p, PthReader::read, "tensor 'p'", "storage data/0 (" + prefix + "/data/0) is missing from the archive");
    }

    // ---- the pickle ----------------------------------------------------------------------------

    @Test
    void viewsOutsideTheirStorageOrExpandedBeyondTheLimit() throws IOException {
        assertRefused(checkpoint("outside.pth", Pickle.oneTensor("w", "FloatStorage", 4, 2, new long[] {3}, new long[] {1}), 16), PthReader::read,
                "tensor 'w'", "shape [3] stride [1] at element offset 2 needs 20");
        assertRefused(checkpoint("strided.pth", Pickle.oneTensor("w", "FloatStorage", 4, 0, new long[] {2, 2}, new long[] {1, 3}), 16), PthReader::read,
                "tensor 'w'", "needs 20");
        long huge = PthReader.MAX_EXPANDED + 1;
        assertRefused(checkpoint("expanded.pth", Pickle.oneTensor("w", "FloatStorage", 1, 0, new long[] {huge}, new long[] {0}), 4), PthReader::read,
                "tensor 'w'", "repeats 1 stored elements into " + huge);
        assertRefused(checkpoint("overflow.pth", Pickle.oneTensor("w", "FloatStorage", 4, 0, new long[] {1L << 40, 1L << 40}, new long[] {1, 1}), 16),
                PthReader::read, "tensor 'w'", "is too large");
        assertRefused(checkpoint("numel.pth", Pickle.oneTensor("w", "FloatStorage", Long.MAX_VALUE / 2, 0, new long[] {2}, new long[] {1}), 16),
                PthReader::read, "tensor 'w'", "need more than 2^63 bytes");
    }

    @Test
    void unsupportedDtypes() throws IOException {
        assertRefused(TestFiles.resource("pth/f64.pth"), PthReader::read, "tensor 'd'", "unsupported dtype float64");
        assertRefused(checkpoint("complex.pth", Pickle.oneTensor("w", "ComplexFloatStorage", 2, 0, new long[] {2}, new long[] {1}), 16), PthReader::read,
                "refusing pickle global torch.ComplexFloatStorage");
    }

    /** Found by PthFuzzTest: the second view's larger declared storage was sliced from the first view's cached, smaller slice. */
    @Test
    void twoViewsOfOneStorageDeclaringDifferentSizes() throws IOException {
        Pickle p = new Pickle().proto().global("collections", "OrderedDict").op(')', 'R', '(');
        p.str("a").tensor("FloatStorage", "0", 3, 0, new long[] {3}, new long[] {1});
        p.str("b").tensor("FloatStorage", "0", 12, 0, new long[] {12}, new long[] {1});
        assertRefused(checkpoint("two-sizes.pth", p.op('u', '.').bytes(), 12), PthReader::read,
                "tensor 'b'", "storage data/0 has 12 bytes, but its 12 float32 elements need 48");
        Pickle ok = new Pickle().proto().global("collections", "OrderedDict").op(')', 'R', '(');
        ok.str("a").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1});
        ok.str("b").tensor("FloatStorage", "0", 3, 0, new long[] {3}, new long[] {1});
        try (WeightFile w = PthReader.read(checkpoint("two-views.pth", ok.op('u', '.').bytes(), 12))) {
            org.junit.jupiter.api.Assertions.assertEquals(3, w.tensor("b").size(), "a view may declare more of the shared storage than another");
        }
    }

    @Test
    void duplicateStateDictKeys() throws IOException {
        Pickle p = new Pickle().proto().global("collections", "OrderedDict").op(')', 'R', '(');
        p.str("w").tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1});
        p.str("w").tensor("FloatStorage", "0", 4, 0, new long[] {2}, new long[] {1});
        assertRefused(checkpoint("dupkey.pth", p.op('u', '.').bytes(), 16), PthReader::read, "dict key 'w' is set twice");
    }

    /** Globals an attacker would reach for: each is refused by name, and none runs. */
    @Test
    void picklesReachingForGlobalsOutsideTheAllowList() throws IOException {
        Path marker = tmp.resolve("pwned");
        String[][] globals = {{"os", "system"}, {"posix", "system"}, {"builtins", "exec"}, {"builtins", "getattr"}, {"__builtin__", "eval"},
                {"subprocess", "check_output"}, {"torch.storage", "_load_from_bytes"}, {"torch", "load"}, {"numpy.core.multiarray", "_reconstruct"},
                {"functools", "partial"}, {"collections", "defaultdict"}, {"torch._utils", "_rebuild_from_type_v2"}};
        for (String[] g : globals) {
            for (boolean stackGlobal : new boolean[] {false, true}) {
                Pickle p = new Pickle().proto().global("collections", "OrderedDict").op(')', 'R', '(');
                p.str("w").tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1});
                p.str("evil");
                if (stackGlobal) p.str(g[0]).str(g[1]).op(0x93); else p.global(g[0], g[1]);
                p.str("touch " + marker).op(0x85, 'R', 'u', '.');
                assertRefused(checkpoint("evil.pth", p.bytes(), 16), PthReader::read, "refusing pickle global " + g[0] + "." + g[1]);
                assertFalse(Files.exists(marker), "nothing ran");
            }
        }
    }

    @Test
    void malformedPickles() throws IOException {
        assertRefused(checkpoint("trunc.pth", new Pickle().proto().global("collections", "OrderedDict").bytes(), 16), PthReader::read,
                "data.pkl at byte", "pickle truncated");
        assertRefused(checkpoint("len.pth", new Pickle().proto().op('X', 0xff, 0xff, 0xff, 0xff).bytes(), 16), PthReader::read,
                "pickle truncated (needs 4294967295 more bytes)");
        assertRefused(checkpoint("underflow.pth", new Pickle().proto().op('u').bytes(), 16), PthReader::read, "no MARK on the stack");
        assertRefused(checkpoint("memo.pth", new Pickle().proto().op('h', 7).bytes(), 16), PthReader::read, "memo index 7 was never stored");
        assertRefused(checkpoint("notdict.pth", new Pickle().proto().op('K', 3, '.').bytes(), 16), PthReader::read, "does not hold a dict");
        assertRefused(checkpoint("op.pth", new Pickle().proto().op('i').bytes(), 16), PthReader::read, "unsupported pickle opcode 0x69");
        Pickle deep = new Pickle().proto();
        for (int i = 0; i < 100_000; i++) deep.op(']');
        for (int i = 1; i < 100_000; i++) deep.op('a');
        assertRefused(checkpoint("deep.pth", deep.op('.').bytes(), 16), PthReader::read, "does not hold a dict");
    }

    // ---- helpers -------------------------------------------------------------------------------

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** A checkpoint with this pickle and one storage data/0 of {@code storageBytes} bytes. */
    private Path checkpoint(String name, byte[] pickle, int storageBytes) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        entries.put("archive/data/0", new byte[storageBytes]);
        entries.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        Path p = tmp.resolve(name);
        TestFiles.zip(p, entries, false);
        return p;
    }

    /** The offset of the end-of-central-directory record (no archive comment). */
    private static int eocd(byte[] zip) {
        return zip.length - 22;
    }

    /** The archive with its first central directory entry appearing twice. */
    private static byte[] duplicateFirstCentralEntry(byte[] zip) {
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int e = eocd(zip), cd = b.getInt(e + 16), cdSize = b.getInt(e + 12);
        int first = 46 + b.getShort(cd + 28) + b.getShort(cd + 30) + b.getShort(cd + 32);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(zip, 0, cd + cdSize);
        out.write(zip, cd, first);
        byte[] end = java.util.Arrays.copyOfRange(zip, e, zip.length);
        ByteBuffer eb = ByteBuffer.wrap(end).order(ByteOrder.LITTLE_ENDIAN);
        eb.putShort(8, (short) (eb.getShort(8) + 1)).putShort(10, (short) (eb.getShort(10) + 1)).putInt(12, cdSize + first);
        out.writeBytes(end);
        return out.toByteArray();
    }
}
