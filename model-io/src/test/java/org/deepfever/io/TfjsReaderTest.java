package org.deepfever.io;

import static org.deepfever.io.TestFiles.assertContains;
import static org.deepfever.io.TestFiles.concat;
import static org.deepfever.io.TestFiles.leFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TfjsReaderTest {
    @TempDir Path tmp;

    private Path write(String manifest, Map<String, byte[]> shards) throws IOException {
        for (var e : shards.entrySet()) Files.write(tmp.resolve(e.getKey()), e.getValue());
        Path m = tmp.resolve("m-weights_manifest.json");
        Files.writeString(m, manifest);
        return m;
    }

    private ModelFormatException fails(String manifest, Map<String, byte[]> shards) throws IOException {
        Path m = write(manifest, shards);
        return assertThrows(ModelFormatException.class, () -> TfjsReader.read(m));
    }

    private static byte[] le16(int... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putShort((short) x);
        return b.array();
    }

    @Test
    void decodesFloat32Uint8Uint16AndFloat16AcrossGroupsAndShards() throws IOException {
        // group 0: float32 [2,2] then uint8 [3] split over two shards (the split falls inside the uint8 tensor)
        byte[] g0 = concat(leFloats(1f, -2f, 3.5f, 0f), new byte[] {0, (byte) 255, 10});
        byte[] shardA = Arrays.copyOfRange(g0, 0, 17), shardB = Arrays.copyOfRange(g0, 17, g0.length);
        // group 1: uint16 [2], float16 [2], int32 [1] (skipped), float32 scalar []
        byte[] g1 = concat(le16(0, 65535), le16(Float.floatToFloat16(1.5f), Float.floatToFloat16(-0.25f)), leFloats(Float.intBitsToFloat(7)), leFloats(9f));
        String manifest = """
                [{"paths": ["a.bin", "b.bin"], "weights": [
                   {"name": "blk/w", "shape": [2, 2], "dtype": "float32"},
                   {"name": "blk/q8", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.25}}]},
                 {"paths": ["c.bin"], "weights": [
                   {"name": "q16", "shape": [2], "dtype": "float32", "quantization": {"dtype": "uint16", "scale": 0.001, "min": 2}},
                   {"name": "h", "shape": [1, 2], "dtype": "float32", "quantization": {"dtype": "float16"}},
                   {"name": "steps", "shape": [1], "dtype": "int32"},
                   {"name": "s", "shape": [], "dtype": "float32"}]}]
                """;
        Path m = write(manifest, Map.of("a.bin", shardA, "b.bin", shardB, "c.bin", g1));
        try (WeightFile w = TfjsReader.read(m)) {
            assertEquals("tfjs", w.format());
            assertEquals(List.of("blk/w", "blk/q8", "q16", "h", "s"), List.copyOf(w.tensors().keySet()));
            assertArrayEquals(new int[] {2, 2}, w.tensor("blk/w").shape().dims());
            assertArrayEquals(new float[] {1f, -2f, 3.5f, 0f}, w.tensor("blk/w").toFloatArray());
            assertArrayEquals(new float[] {-1.25f, (float) (255 * 0.5 - 1.25), (float) (10 * 0.5 - 1.25)}, w.tensor("blk/q8").toFloatArray());
            assertArrayEquals(new float[] {2f, (float) (65535 * 0.001 + 2)}, w.tensor("q16").toFloatArray());
            assertArrayEquals(new float[] {1.5f, -0.25f}, w.tensor("h").toFloatArray());
            assertArrayEquals(new float[] {9f}, w.tensor("s").toFloatArray());
            assertEquals(Map.of("steps", "int32"), w.skipped());
        }
        // WeightFile.open recognises the manifest by its extension
        try (WeightFile w = WeightFile.open(m)) {
            assertEquals(5, w.tensors().size());
        }
    }

    @Test
    void acceptsModelJsonWithWeightsManifestAndShardSource() throws IOException {
        String json = "{\"format\": \"layers-model\", \"weightsManifest\": [{\"paths\": [\"x.bin\"], \"weights\": [{\"name\": \"b\", \"shape\": [2], \"dtype\": \"float32\"}]}]}";
        try (WeightFile w = TfjsReader.read(Path.of("model.json"), json.getBytes(), p -> {
            assertEquals("x.bin", p);
            return leFloats(4f, 5f);
        })) {
            assertArrayEquals(new float[] {4f, 5f}, w.tensor("b").toFloatArray());
        }
    }

    @Test
    void shortShardNamesTheTensorThatDoesNotFit() throws IOException {
        String manifest = "[{\"paths\": [\"w.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [2], \"dtype\": \"float32\"},"
                + "{\"name\": \"fc/bias\", \"shape\": [3], \"dtype\": \"float32\"}]}]";
        ModelFormatException e = fails(manifest, Map.of("w.bin", leFloats(1, 2, 3, 4)));
        assertContains(e.getMessage(), "w.bin", "tensor 'fc/bias'", "[8, 20)", "hold 16 bytes", "need 20");
        assertEquals("fc/bias", e.tensor());
    }

    @Test
    void longShardIsAnErrorToo() throws IOException {
        String manifest = "[{\"paths\": [\"w.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\", "
                + "\"quantization\": {\"dtype\": \"uint8\", \"scale\": 1, \"min\": 0}}]}]";
        ModelFormatException e = fails(manifest, Map.of("w.bin", new byte[] {1, 2}));
        assertContains(e.getMessage(), "w.bin", "hold 2 bytes", "need 1", "1 bytes left over");
    }

    @Test
    void malformedManifestsGiveClearErrors() throws IOException {
        Map<String, byte[]> shard = Map.of("w.bin", leFloats(1));
        String ok = "{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\"}";
        assertContains(fails("[{\"paths\": [\"w.bin\"], \"weights\": [" + ok + "]", shard).getMessage(), "m-weights_manifest.json: ", "not valid JSON");
        assertContains(fails("{\"paths\": []}", shard).getMessage(), "expected a JSON array of weight groups", "an object");
        assertContains(fails("[{\"paths\": [\"w.bin\"], \"paths\": [\"w.bin\"], \"weights\": [" + ok + "]}]", shard).getMessage(), "not valid JSON", "paths");
        assertContains(fails("[{\"weights\": [" + ok + "]}]", shard).getMessage(), "group 0", "\"paths\"");
        assertContains(fails("[{\"paths\": [\"w.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [-1], \"dtype\": \"float32\"}]}]", shard).getMessage(),
                "tensor 'a'", "shape [-1]");
        assertContains(fails("[{\"paths\": [\"w.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [1], \"dtype\": \"string\"}]}]", shard).getMessage(),
                "tensor 'a'", "unsupported dtype \"string\"");
        assertContains(fails("[{\"paths\": [\"w.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [4], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"uint8\", \"min\": 0}}]}]", shard)
                .getMessage(), "tensor 'a'", "\"scale\"");
        assertContains(fails("[{\"paths\": [\"w.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [4], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"int4\"}}]}]", shard)
                .getMessage(), "tensor 'a'", "unsupported quantization dtype \"int4\"");
        assertContains(fails("[{\"paths\": [\"w.bin\"], \"weights\": [" + ok + "]}, {\"paths\": [\"w.bin\"], \"weights\": [" + ok + "]}]", shard).getMessage(),
                "tensor 'a'", "twice");
        assertContains(fails("[{\"paths\": [\"../w.bin\"], \"weights\": [" + ok + "]}]", shard).getMessage(), "\"../w.bin\"", "leaves the manifest's folder");
        assertContains(fails("[{\"paths\": [\"/etc/w.bin\"], \"weights\": [" + ok + "]}]", shard).getMessage(), "must be relative");
        assertContains(fails("", shard).getMessage(), "empty file");
    }

    private static String one(String shape, String quantization) {
        return "[{\"paths\": [\"w.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": " + shape + ", \"dtype\": \"float32\""
                + (quantization == null ? "" : ", \"quantization\": " + quantization) + "}]}]";
    }

    @Test
    void dimensionsMustBeJsonIntegersInIntRange() throws IOException {
        Map<String, byte[]> shard = Map.of("w.bin", leFloats(1, 2, 3));
        // 3.0 and 3e0 are numbers equal to 3 but not JSON integers: refused, as they were under databind's isIntegralNumber()
        for (String d : new String[] {"3.0", "3e0", "2147483648", "99999999999999999999999", "\"3\"", "null", "true", "[3]"}) {
            ModelFormatException e = fails(one("[1, " + d + "]", null), shard);
            assertContains(e.getMessage(), "tensor 'a'", "shape [1,", "dimension ", "is not an integer in 0..2147483647");
            assertEquals("a", e.tensor());
        }
        assertContains(fails(one("[3.0]", null), shard).getMessage(), "shape [3.0]: dimension 3.0 is not");
        assertContains(fails(one("[\"x\\\"y\"]", null), shard).getMessage(), "shape [\"x\\\"y\"]: dimension \"x\\\"y\" is not");
        assertContains(fails(one("[65536, 65536]", null), shard).getMessage(), "shape [65536,65536] has 4294967296 elements");
        // the largest int and zero are dimensions (the shard size check fails afterwards, naming the bytes)
        assertContains(fails(one("[2147483647, 0]", null), shard).getMessage(), "12 bytes left over");
        try (WeightFile w = TfjsReader.read(write(one("[3, 1]", null), shard))) {
            assertArrayEquals(new int[] {3, 1}, w.tensor("a").shape().dims());
        }
    }

    @Test
    void scaleAndMinAreAnyFiniteNumber() throws IOException {
        Map<String, byte[]> shard = Map.of("w.bin", new byte[] {0, 2});
        // an integer beyond long and an exponent form are numbers like any other
        try (WeightFile w = TfjsReader.read(write(one("[2]", "{\"dtype\": \"uint8\", \"scale\": 25e-1, \"min\": -100000000000000000000}"), shard))) {
            assertArrayEquals(new float[] {-1e20f, (float) (2 * 2.5 - 1e20)}, w.tensor("a").toFloatArray());
        }
        for (String bad : new String[] {"1e400", "-1e309", "\"1\"", "null", "{\"v\": 1}"}) {
            ModelFormatException e = fails(one("[2]", "{\"dtype\": \"uint8\", \"scale\": " + bad + ", \"min\": 0}"), shard);
            assertContains(e.getMessage(), "tensor 'a'", "uint8 quantization needs a finite number \"scale\", got ");
        }
        assertContains(fails(one("[2]", "{\"dtype\": \"uint8\", \"scale\": 1, \"min\": {\"v\": [1, \"x\"]}}"), shard).getMessage(),
                "finite number \"min\", got {\"v\":[1,\"x\"]}");
        assertContains(fails(one("[2]", "{\"dtype\": \"uint8\", \"scale\": 1}"), shard).getMessage(), "finite number \"min\", got none");
    }

    @Test
    void jsonErrorsSayWhereAndStayStrict() throws IOException {
        Map<String, byte[]> shard = Map.of("w.bin", leFloats(1));
        String ok = one("[1]", null);
        // duplicate keys deeper down are refused too, with the line and column of a multi-line manifest
        String dup = "[{\"paths\": [\"w.bin\"],\n  \"weights\": [{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\", \"dtype\": \"float16\"}]}]";
        assertContains(fails(dup, shard).getMessage(), "not valid JSON: duplicate key \"dtype\"", "(line 2, column ");
        assertContains(fails(ok + " []", shard).getMessage(), "not valid JSON: unexpected trailing content");
        assertContains(fails("[1, 2", shard).getMessage(), "not valid JSON: ", "(line 1, column ");
        assertContains(fails("\n \t\r\n", shard).getMessage(), "empty file");
        assertContains(fails("[".repeat(100) + "]".repeat(100), shard).getMessage(), "not valid JSON", "nesting depth");
        assertContains(fails("{\"weightsManifest\": null}", shard).getMessage(), "expected a JSON array of weight groups", "got null");
        assertContains(fails("[7]", shard).getMessage(), "group 0: expected an object with \"paths\" and \"weights\", got a number");
        assertContains(fails("[{\"paths\": [\"w.bin\"], \"weights\": [\"a\"]}]", shard).getMessage(), "group 0, weight 0: expected an object, got a string");
        assertContains(fails("[{\"paths\": [3], \"weights\": []}]", shard).getMessage(), "group 0: paths[0] is not a non-empty string");
        // bytes that are not UTF-8, named by offset
        Path bad = write(ok, shard);
        byte[] bytes = Files.readAllBytes(bad);
        bytes[5] = (byte) 0xC3;
        bytes[6] = (byte) 0x28;
        Files.write(bad, bytes);
        assertContains(assertThrows(ModelFormatException.class, () -> TfjsReader.read(bad)).getMessage(), "m-weights_manifest.json: ", "invalid UTF-8 at byte 5");
        // a UTF-8 byte order mark is allowed (as before), and non-ASCII names come through
        byte[] bom = concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, ok.replace("\"a\"", "\"ä/w\"").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (WeightFile w = TfjsReader.read(Path.of("bom.json"), bom, p -> leFloats(1))) {
            assertEquals(List.of("ä/w"), List.copyOf(w.tensors().keySet()));
        }
    }

    @Test
    void missingShardIsNamed() throws IOException {
        Path m = write("[{\"paths\": [\"gone.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\"}]}]", Map.of());
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> TfjsReader.read(m));
        assertContains(e.getMessage(), "gone.bin", "m-weights_manifest.json");
    }
}
