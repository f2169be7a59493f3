package org.deepfever.io;

import static org.deepfever.io.TestFiles.assertBitExact;
import static org.deepfever.io.TestFiles.assertContains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.deepfever.core.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir Path tmp;

    /** A .npy file with the given version, descr, shape literal and raw data. */
    private Path npy(String name, int major, String descr, String fortran, String shape, byte[] data) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
        int pre = major == 1 ? 10 : 12;
        int total = (pre + dict.length() + 1 + 63) / 64 * 64;
        byte[] h = (dict + " ".repeat(total - pre - dict.length() - 1) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(pre + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) h.length); else b.putInt(h.length);
        b.put(h).put(data);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    @Test
    void readsFixtureInputMappedAndOnHeap() throws IOException {
        Path p = TestFiles.mini("input.npy");
        Tensor heap = Npy.read(p);
        assertEquals(org.deepfever.core.Shape.of(4, 3, 140, 140), heap.shape()); // the mini set's 4 faces
        assertTrue(heap.isHeap());
        for (float v : heap.toFloatArray()) assertTrue(v >= -1f && v <= 1f, "normalised pixel " + v);
        try (WeightFile w = Npy.open(p)) {
            assertEquals("npy", w.format());
            Tensor mapped = w.tensor("input");
            assertTrue(TestFiles.isMapped(mapped), "<f4 data should be a slice of the mapping");
            assertBitExact("input", heap, mapped);
        }
    }

    @Test
    void writeThenReadRoundTripsAnyRankAndLayout() throws IOException {
        Random r = new Random(1);
        int[][] shapes = {{}, {5}, {2, 3}, {2, 3, 4}, {1, 2, 3, 4}, {0, 3}};
        for (int[] s : shapes) {
            Tensor t = Tensor.zeros(s);
            for (long i = 0; i < t.size(); i++) t.setFlat(i, r.nextFloat() - 0.5f);
            Path p = tmp.resolve("t" + s.length + ".npy");
            Npy.write(p, t);
            assertBitExact("rank " + s.length, t, Npy.read(p));
            byte[] all = Files.readAllBytes(p);
            int headerLen = (all[8] & 0xff) | (all[9] & 0xff) << 8;
            assertEquals(0, (10 + headerLen) % 64, "data starts on a 64-byte boundary");
            String header = new String(all, 10, headerLen, StandardCharsets.ISO_8859_1);
            assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': ("), header);
            assertTrue(header.endsWith("\n"));
        }
        Tensor base = Tensor.zeros(4, 6);
        for (long i = 0; i < base.size(); i++) base.setFlat(i, i);
        Tensor view = base.slice(1, 2, 3); // non-contiguous
        Path p = tmp.resolve("view.npy");
        Npy.write(p, view);
        assertBitExact("view", view, Npy.read(p));
        assertArrayEquals(new float[] {2, 3, 4, 8, 9, 10, 14, 15, 16, 20, 21, 22}, Npy.read(p).toFloatArray());
    }

    @Test
    void convertsFloat64AndFloat16AndReadsVersions2And3() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putDouble(1.5).putDouble(-2).putDouble(1e-3);
        assertArrayEquals(new float[] {1.5f, -2f, (float) 1e-3}, Npy.read(npy("d.npy", 1, "<f8", "False", "(3,)", d.array())).toFloatArray());
        ByteBuffer h = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN)
                .putShort(Float.floatToFloat16(0.5f)).putShort(Float.floatToFloat16(-3f)).putShort(Float.floatToFloat16(65504f));
        Tensor half = Npy.read(npy("h.npy", 2, "<f2", "False", "(1, 3)", h.array()));
        assertArrayEquals(new float[] {0.5f, -3f, 65504f}, half.toFloatArray());
        assertArrayEquals(new int[] {1, 3}, half.shape().dims());
        Tensor v3 = Npy.read(npy("v3.npy", 3, "<f4", "False", "(2,)", TestFiles.leFloats(7, 8)));
        assertArrayEquals(new float[] {7, 8}, v3.toFloatArray());
    }

    @Test
    void rejectsFortranOrderBadDtypeTruncationAndBadMagic() throws IOException {
        byte[] four = TestFiles.leFloats(1, 2, 3, 4);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Npy.read(npy("f.npy", 1, "<f4", "True", "(2, 2)", four)));
        assertContains(e.getMessage(), "f.npy", "fortran_order");
        e = assertThrows(ModelFormatException.class, () -> Npy.read(npy("b.npy", 1, ">f4", "False", "(4,)", four)));
        assertContains(e.getMessage(), "b.npy", "'>f4'");
        e = assertThrows(ModelFormatException.class, () -> Npy.read(npy("i.npy", 1, "<i8", "False", "(2,)", new byte[16])));
        assertContains(e.getMessage(), "'<i8'");
        e = assertThrows(ModelFormatException.class, () -> Npy.read(npy("t.npy", 1, "<f4", "False", "(5,)", four)));
        assertContains(e.getMessage(), "t.npy", "needs 20 data bytes", "truncated");
        Path cut = TestFiles.truncate(TestFiles.mini("features.npy"), tmp.resolve("cut.npy"), 50);
        e = assertThrows(ModelFormatException.class, () -> Npy.read(cut));
        assertContains(e.getMessage(), "cut.npy");
        Files.writeString(tmp.resolve("x.npy"), "not numpy at all");
        e = assertThrows(ModelFormatException.class, () -> Npy.read(tmp.resolve("x.npy")));
        assertContains(e.getMessage(), "not a .npy file");
        e = assertThrows(ModelFormatException.class, () -> Npy.read(npy("s.npy", 1, "<f4", "False", "(2, x)", four)));
        assertContains(e.getMessage(), "bad .npy header");
    }
}
