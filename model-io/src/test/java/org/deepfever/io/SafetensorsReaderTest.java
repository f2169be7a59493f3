package org.deepfever.io;

import static org.deepfever.io.TestFiles.assertContains;
import static org.deepfever.io.TestFiles.concat;
import static org.deepfever.io.TestFiles.leFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsReaderTest {
    @TempDir Path tmp;

    private ModelFormatException fails(String header, byte[] data) throws IOException {
        Path p = TestFiles.safetensors(tmp.resolve("bad.safetensors"), header, data);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsReader.read(p));
        assertContains(e.getMessage(), "bad.safetensors: ");
        return e;
    }

    @Test
    void readsFixtureAsMappedTensors() throws IOException {
        try (WeightFile w = SafetensorsReader.read(TestFiles.mini("model.safetensors"))) {
            assertEquals("safetensors", w.format());
            assertTrue(w.tensors().size() > 100, "tensor count " + w.tensors().size());
            Tensor conv = w.tensor("conv2d_1a.conv.weight");
            assertArrayEquals(new int[] {32 / 8, 3, 3, 3}, conv.shape().dims()); // the mini set: widths / 8
            assertTrue(TestFiles.isMapped(conv), "F32 tensors are slices of the mapping");
            assertTrue(w.skipped().isEmpty());
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> w.tensor("nope"));
            assertContains(missing.getMessage(), "model.safetensors", "'nope'");
        }
    }

    @Test
    void convertsHalfAndBfloat16SkipsIntegersAllowsMetadata() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(4 + 4 + 8 + 8).order(ByteOrder.LITTLE_ENDIAN);
        d.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-0.25f));
        d.putShort((short) (Float.floatToRawIntBits(3.0f) >>> 16)).putShort((short) (Float.floatToRawIntBits(-1024f) >>> 16));
        d.putLong(42);
        d.putFloat(7f).putFloat(8f);
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[4,8]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]},"
                + "\"f\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[16,24]}}   ";
        try (WeightFile w = SafetensorsReader.read(TestFiles.safetensors(tmp.resolve("m.safetensors"), header, d.array()))) {
            assertEquals(List.of("h", "b", "f"), List.copyOf(w.tensors().keySet()));
            assertArrayEquals(new float[] {1.5f, -0.25f}, w.tensor("h").toFloatArray());
            assertArrayEquals(new float[] {3f, -1024f}, w.tensor("b").toFloatArray());
            assertArrayEquals(new int[] {1, 2}, w.tensor("b").shape().dims());
            assertArrayEquals(new float[] {7f, 8f}, w.tensor("f").toFloatArray());
            assertEquals(Map.of("n", "int64"), w.skipped());
            assertContains(assertThrows(IllegalArgumentException.class, () -> w.tensor("n")).getMessage(), "int64");
        }
    }

    @Test
    void rejectsBadHeaders() throws IOException {
        byte[] eight = leFloats(1, 2);
        String ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertContains(fails(ok.replace("}}", "},}"), eight).getMessage(), "not valid JSON");
        assertContains(fails("{\"a\":1,\"a\":2}", eight).getMessage(), "duplicate key \"a\"");
        assertContains(fails(ok.replace("[0,8]", "[0,12]"), eight).getMessage(), "tensor 'a'", "exceed the data section of 8 bytes");
        assertContains(fails(ok.replace("[0,8]", "[8,0]"), eight).getMessage(), "tensor 'a'", "begin > end");
        assertContains(fails(ok.replace("[2]", "[3]"), eight).getMessage(), "tensor 'a'", "shape [3] F32 needs 12 bytes");
        assertContains(fails(ok.replace("F32", "F64").replace("[2]", "[1]"), eight).getMessage(), "tensor 'a'", "unsupported dtype F64");
        assertContains(fails(ok.replace("[2]", "[-2]"), eight).getMessage(), "tensor 'a'", "not a non-negative integer");
        assertContains(fails("[1,2]", eight).getMessage(), "not an object");
        assertContains(fails(ok + " {}", eight).getMessage(), "trailing content");
        assertContains(fails("{\"__metadata__\":" + "[".repeat(70) + "]".repeat(70) + "}", eight).getMessage(), "nesting depth");
        assertContains(fails(ok.replace("[0,8]", "[0," + "1".repeat(401) + "]"), eight).getMessage(), "Number value length");
        String overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertContains(fails(overlap, eight).getMessage(), "overlap");
    }

    @Test
    void rejectsInsaneLengthsAndTruncation() throws IOException {
        Path huge = tmp.resolve("huge.safetensors");
        Files.write(huge, concat(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(200_000_000L).array(), "{}".getBytes()));
        assertContains(assertThrows(ModelFormatException.class, () -> SafetensorsReader.read(huge)).getMessage(), "huge.safetensors", "not sane");
        Path tiny = tmp.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertContains(assertThrows(ModelFormatException.class, () -> SafetensorsReader.read(tiny)).getMessage(), "too short");
        Path src = TestFiles.mini("model.safetensors");
        for (long cut : new long[] {20, 5000, Files.size(src) - 1}) {
            Path p = TestFiles.truncate(src, tmp.resolve("cut" + cut + ".safetensors"), cut);
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsReader.read(p));
            assertContains(e.getMessage(), "cut" + cut + ".safetensors");
            if (cut > 5000) assertContains(e.getMessage(), "tensor '", "truncated");
        }
    }

    @Test
    void mappedTensorsAreSharedAcrossThreadsUntilClose() throws Exception {
        WeightFile w = SafetensorsReader.read(TestFiles.mini("model.safetensors"));
        Tensor t = w.tensor("conv2d_2b.conv.weight");
        double expected = 0;
        for (float v : t.toFloatArray()) expected += v;
        double e2 = expected;
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger ok = new java.util.concurrent.atomic.AtomicInteger();
        for (int i = 0; i < 4; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                double s = 0;
                for (float v : t.toFloatArray()) s += v;
                if (s == e2) ok.incrementAndGet();
            }));
        }
        for (Thread th : threads) th.join();
        assertEquals(4, ok.get());
        w.close();
        w.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> t.get(0, 0, 0, 0));
    }
}
