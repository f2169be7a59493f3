package org.deepfever.io;

import static org.deepfever.io.TestFiles.assertBitExact;
import static org.deepfever.io.TestFiles.assertContains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PthReaderTest {
    @TempDir Path tmp;

    /** k/8 - 1 for k = 0..n-1, the values make_resources.py writes. */
    private static float[] ramp(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = i / 8f - 1;
        return a;
    }

    private static void compareWithSafetensors(String set) throws IOException {
        Path dir = TestFiles.fixtures().resolve(set);
        try (WeightFile pth = PthReader.read(dir.resolve("model.pth"));
             WeightFile st = SafetensorsReader.read(dir.resolve("model.safetensors"))) {
            assertEquals(List.copyOf(st.tensors().keySet()), List.copyOf(pth.tensors().keySet()), "same float tensors, same order");
            for (Map.Entry<String, Tensor> e : st.tensors().entrySet()) {
                Tensor t = pth.tensor(e.getKey());
                assertTrue(TestFiles.isMapped(t), e.getKey() + " should be a mapped slice");
                assertBitExact(e.getKey(), e.getValue(), t);
            }
            assertTrue(pth.skipped().size() > 10, "BatchNorm num_batches_tracked tensors are skipped");
            pth.skipped().forEach((k, v) -> {
                assertTrue(k.endsWith("num_batches_tracked"), k);
                assertEquals("int64", v);
            });
        }
    }

    @Test
    void miniFixtureMatchesSafetensorsBitExactly() throws IOException {
        compareWithSafetensors("deepfever-mini");
    }

    @Test
    void fullBackboneFixtureMatchesSafetensorsBitExactly() throws IOException {
        compareWithSafetensors("deepfever-mini-fullbackbone");
    }

    @Test
    void convertsHalfAndBfloat16AndSkipsIntegerAndBoolTensors() throws IOException {
        try (WeightFile w = PthReader.read(TestFiles.resource("pth/dtypes.pth"))) {
            assertEquals(List.of("f32", "f16", "bf16"), List.copyOf(w.tensors().keySet()));
            for (String k : w.tensors().keySet()) {
                assertArrayEquals(new int[] {3, 4}, w.tensor(k).shape().dims(), k);
                assertArrayEquals(ramp(12), w.tensor(k).toFloatArray(), k);
            }
            assertTrue(TestFiles.isMapped(w.tensor("f32")));
            assertTrue(w.tensor("f16").isHeap());
            assertEquals(Map.of("bn.num_batches_tracked", "int64", "mask", "bool"), w.skipped());
        }
    }

    @Test
    void unwrapsStateDictNestedInTrainingCheckpoint() throws IOException {
        try (WeightFile w = PthReader.read(TestFiles.resource("pth/nested.pth"))) {
            assertEquals(List.of("fc.weight", "fc.bias"), List.copyOf(w.tensors().keySet()));
            assertArrayEquals(ramp(6), w.tensor("fc.weight").toFloatArray());
            assertArrayEquals(new int[] {2, 3}, w.tensor("fc.weight").shape().dims());
            assertArrayEquals(ramp(2), w.tensor("fc.bias").toFloatArray());
        }
    }

    @Test
    void rebuildsViewsWithOffsetsAndStrides() throws IOException {
        float[] base = ramp(24); // [4,6]
        try (WeightFile w = PthReader.read(TestFiles.resource("pth/strided.pth"))) {
            assertArrayEquals(base, w.tensor("base").toFloatArray());
            Tensor t = w.tensor("t");
            assertArrayEquals(new int[] {6, 4}, t.shape().dims());
            for (int i = 0; i < 6; i++) for (int j = 0; j < 4; j++) assertEquals(base[j * 6 + i], t.get(i, j));
            assertTrue(t.isContiguous());
            float[] row = new float[6];
            System.arraycopy(base, 6, row, 0, 6);
            assertArrayEquals(row, w.tensor("row").toFloatArray());
            assertTrue(TestFiles.isMapped(w.tensor("row")), "a contiguous slice at an offset stays mapped");
            assertArrayEquals(new float[] {base[2], base[8], base[14], base[20]}, w.tensor("col").toFloatArray());
            Tensor ex = w.tensor("expanded");
            assertArrayEquals(new int[] {3, 4}, ex.shape().dims());
            float[] r3 = ramp(3);
            for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) assertEquals(r3[i], ex.get(i, j));
            Tensor ht = w.tensor("half_t");
            for (int i = 0; i < 6; i++) for (int j = 0; j < 4; j++) assertEquals(base[j * 6 + i], ht.get(i, j));
        }
    }

    @Test
    void readsParametersAndRefusesFloat64() throws IOException {
        try (WeightFile w = PthReader.read(TestFiles.resource("pth/param.pth"))) {
            assertArrayEquals(ramp(4), w.tensor("p").toFloatArray());
        }
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> PthReader.read(TestFiles.resource("pth/f64.pth")));
        assertContains(e.getMessage(), "f64.pth: tensor 'd': unsupported dtype float64");
    }

    // ---- malicious pickles --------------------------------------------------------------

    /** OrderedDict() then MARK and a valid 2-element float tensor entry 'w' backed by data/0 (hand-written opcodes). */
    private static Pickle validStart() {
        return new Pickle().proto().global("collections", "OrderedDict").op(')', 'R', '(')
                .str("w").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1});
    }

    private Path checkpoint(String name, byte[] pickle) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        entries.put("archive/data/0", TestFiles.leFloats(1.5f, 2.5f));
        entries.put("archive/version", "3\n".getBytes());
        Path p = tmp.resolve(name);
        TestFiles.zip(p, entries, false);
        return p;
    }

    @Test
    void handBuiltPickleIsReadWhenBenign() throws IOException {
        byte[] pk = validStart().op('u', '.').bytes();
        try (WeightFile w = PthReader.read(checkpoint("ok.pth", pk))) {
            assertArrayEquals(new float[] {1.5f, 2.5f}, w.tensor("w").toFloatArray());
        }
    }

    @Test
    void refusesOsSystemGlobal() throws IOException {
        Path marker = tmp.resolve("pwned-os");
        byte[] pk = validStart().str("evil").global("os", "system").str("touch " + marker).op(0x85, 'R', 'u', '.').bytes();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> PthReader.read(checkpoint("evil-os.pth", pk)));
        assertContains(e.getMessage(), "evil-os.pth: ", "refusing pickle global os.system: only state-dict types are allowed");
        assertFalse(Files.exists(marker), "nothing ran");
    }

    @Test
    void refusesBuiltinsEvalViaStackGlobal() throws IOException {
        Path marker = tmp.resolve("pwned-eval");
        Pickle p = new Pickle().op(0x80, 4).str("builtins").op(0x94).str("eval").op(0x94, 0x93, 0x94);
        byte[] pk = p.str("__import__('os').system('touch " + marker + "')").op(0x85, 'R', '.').bytes();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> PthReader.read(checkpoint("evil-eval.pth", pk)));
        assertContains(e.getMessage(), "evil-eval.pth: ", "refusing pickle global builtins.eval");
        assertFalse(Files.exists(marker), "nothing ran");
    }

    @Test
    void refusesSubprocessPopenViaStackGlobalInsideStateDict() throws IOException {
        Path marker = tmp.resolve("pwned-popen");
        Pickle p = validStart().str("evil").str("subprocess").str("Popen").op(0x93);
        byte[] pk = p.op(']', '(').str("touch").str(marker.toString()).op('e', 0x85, 'R', 'u', '.').bytes();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> PthReader.read(checkpoint("evil-popen.pth", pk)));
        assertContains(e.getMessage(), "evil-popen.pth: ", "refusing pickle global subprocess.Popen");
        assertFalse(Files.exists(marker), "nothing ran");
    }

    @Test
    void refusesNonWhitelistedTorchGlobalsAndUnknownOpcodes() throws IOException {
        byte[] pk = new Pickle().op(0x80, 2).global("torch", "load").op('.').bytes();
        assertContains(assertThrows(ModelFormatException.class, () -> PthReader.read(checkpoint("t.pth", pk))).getMessage(), "refusing pickle global torch.load");
        byte[] inst = new Pickle().op(0x80, 2, '(').global("os", "system").op('.').bytes();
        assertContains(assertThrows(ModelFormatException.class, () -> PthReader.read(checkpoint("i.pth", inst))).getMessage(), "os.system");
        byte[] obj = new Pickle().op(0x80, 2, 'i').bytes(); // INST: not supported
        assertContains(assertThrows(ModelFormatException.class, () -> PthReader.read(checkpoint("o.pth", obj))).getMessage(), "unsupported pickle opcode 0x69");
        byte[] cut = validStart().bytes(); // no STOP
        assertContains(assertThrows(ModelFormatException.class, () -> PthReader.read(checkpoint("c.pth", cut))).getMessage(), "c.pth", "truncated");
        byte[] empty = new Pickle().op(0x80, 2, '}', '.').bytes();
        assertContains(assertThrows(ModelFormatException.class, () -> PthReader.read(checkpoint("e.pth", empty))).getMessage(), "no tensors found", "'state_dict'");
    }

    // ---- damaged archives ---------------------------------------------------------------

    @Test
    void truncatedCheckpointGivesOneClearError() throws IOException {
        Path src = TestFiles.mini("model.pth");
        long size = Files.size(src);
        for (long cut : new long[] {0, 3, 100, 50_000, size / 2, size - 30, size - 1}) {
            Path p = TestFiles.truncate(src, tmp.resolve("cut" + cut + ".pth"), cut);
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> PthReader.read(p), "cut at " + cut);
            assertContains(e.getMessage(), "cut" + cut + ".pth: ");
        }
    }

    @Test
    void missingStorageEntryNamesTensorAndEntry() throws IOException {
        Map<String, byte[]> entries = TestFiles.unzip(TestFiles.mini("model.pth"));
        assertTrue(entries.remove("model/data/3") != null);
        Path p = tmp.resolve("missing.pth");
        TestFiles.zip(p, entries, false);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> PthReader.read(p));
        assertContains(e.getMessage(), "missing.pth: tensor 'conv2d_1a.bn.running_mean': storage data/3", "missing");
        assertEquals("conv2d_1a.bn.running_mean", e.tensor());
    }

    @Test
    void shortStorageEntryNamesTensorShapeAndSizes() throws IOException {
        Map<String, byte[]> entries = TestFiles.unzip(TestFiles.mini("model.pth"));
        entries.put("model/data/0", new byte[100]);
        Path p = tmp.resolve("short.pth");
        TestFiles.zip(p, entries, false);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> PthReader.read(p));
        assertContains(e.getMessage(), "short.pth: tensor 'conv2d_1a.conv.weight': storage data/0 has 100 bytes",
                "108 float32 elements need 432"); // [4, 3, 3, 3] in the mini set
    }

    @Test
    void outOfRangeEntryOffsetNamesTensor() throws IOException {
        byte[] all = Files.readAllBytes(TestFiles.mini("model.pth"));
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(all).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        byte[] name = "model/data/0".getBytes(StandardCharsets.US_ASCII);
        int patched = 0;
        for (int i = 46; i + name.length <= all.length; i++) {
            if (b.getInt(i - 46) == 0x02014b50 && (b.getShort(i - 46 + 28) & 0xffff) == name.length
                    && java.util.Arrays.equals(all, i, i + name.length, name, 0, name.length)) {
                b.putInt(i - 46 + 42, 0x7fff0000); // local header offset far past the end
                patched++;
            }
        }
        assertEquals(1, patched);
        Path p = tmp.resolve("offset.pth");
        Files.write(p, all);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> PthReader.read(p));
        assertContains(e.getMessage(), "offset.pth: tensor 'conv2d_1a.conv.weight': zip entry 'model/data/0'", "outside the file");
    }

    @Test
    void deflatedEntriesAreInflated() throws IOException {
        Path p = tmp.resolve("deflated.pth");
        TestFiles.zip(p, TestFiles.unzip(TestFiles.mini("model.pth")), true);
        try (WeightFile d = PthReader.read(p); WeightFile st = SafetensorsReader.read(TestFiles.mini("model.safetensors"))) {
            assertEquals(st.tensors().keySet(), d.tensors().keySet());
            st.tensors().forEach((k, v) -> assertBitExact(k, v, d.tensor(k)));
            assertFalse(TestFiles.isMapped(d.tensor("conv2d_1a.conv.weight")), "inflated, not mapped");
        }
    }

    @Test
    void bigEndianByteorderIsConverted() throws IOException {
        Map<String, byte[]> entries = TestFiles.unzip(TestFiles.resource("pth/nested.pth"));
        Map<String, byte[]> swapped = new LinkedHashMap<>();
        entries.forEach((k, v) -> {
            if (k.contains("/data/")) {
                byte[] s = v.clone();
                for (int i = 0; i + 3 < s.length; i += 4) {
                    byte a = s[i], b = s[i + 1];
                    s[i] = s[i + 3]; s[i + 1] = s[i + 2]; s[i + 2] = b; s[i + 3] = a;
                }
                swapped.put(k, s);
            } else {
                swapped.put(k, v);
            }
        });
        swapped.put("nested/byteorder", "big".getBytes());
        Path p = tmp.resolve("big.pth");
        TestFiles.zip(p, swapped, false);
        try (WeightFile w = PthReader.read(p)) {
            assertArrayEquals(ramp(6), w.tensor("fc.weight").toFloatArray());
        }
    }

    @Test
    void refusesLegacyAndNonZipFilesAndDispatchesByContent() throws IOException {
        Path legacy = tmp.resolve("legacy.pth");
        Files.write(legacy, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        assertContains(assertThrows(ModelFormatException.class, () -> PthReader.read(legacy)).getMessage(), "legacy.pth", "legacy");
        Path junk = tmp.resolve("junk.pth");
        Files.writeString(junk, "hello world");
        assertContains(assertThrows(ModelFormatException.class, () -> PthReader.read(junk)).getMessage(), "junk.pth", "not a torch zip checkpoint");
        try (WeightFile a = WeightFile.open(TestFiles.mini("model.pth"));
             WeightFile b = WeightFile.open(TestFiles.mini("model.safetensors"));
             WeightFile c = WeightFile.open(TestFiles.mini("features.npy"))) {
            assertEquals("pth", a.format());
            assertEquals("safetensors", b.format());
            assertEquals("npy", c.format());
        }
    }
}
