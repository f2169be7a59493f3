package org.deepfever.io;

import static org.deepfever.io.BrokenFiles.assertLoadsOrRefused;
import static org.deepfever.io.BrokenFiles.assertRefused;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken safetensors files, made at run time from the golden mini model and from small headers:
 * each is refused with one ModelFormatException naming the file (and the tensor, where one is at
 * fault) and saying what is wrong; nothing of the file is left open or mapped.
 */
class BrokenSafetensorsTest {
    @TempDir Path tmp;

    private Path st(String name, String header, byte[] data) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, FuzzSeeds.safetensors(header, data));
        return p;
    }

    private static String one(String dtype, String shape, String offsets) {
        return "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
    }

    @Test
    void everyTruncationOfTheGoldenModelIsRefused() throws IOException {
        BrokenFiles.assertEveryTruncationRefused(TestFiles.mini("model.safetensors"), tmp.resolve("cut.safetensors"), SafetensorsReader::read);
    }

    @Test
    void bitFlipsInTheHeaderLoadOrAreRefused() throws IOException {
        byte[] all = Files.readAllBytes(TestFiles.mini("model.safetensors"));
        int headerEnd = (int) (8 + ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong(0));
        Random r = new Random(11);
        Path p = tmp.resolve("flip.safetensors");
        for (int i = 0; i < 300; i++) {
            Files.write(p, BrokenFiles.flipBits(all, r, 1 + i % 3, 0, headerEnd));
            assertLoadsOrRefused(p, SafetensorsReader::read);
        }
    }

    @Test
    void emptyAndImplausibleHeaderLengths() throws IOException {
        Path empty = tmp.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        assertRefused(empty, SafetensorsReader::read, "too short for the 8-byte safetensors header length");
        Path text = tmp.resolve("text.safetensors");
        Files.writeString(text, "this is a text file, not tensors\n");
        assertRefused(text, SafetensorsReader::read, "is not sane");
        byte[] b = FuzzSeeds.safetensors(one("F32", "[1]", "[0,4]"), new byte[4]);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
        Path past = tmp.resolve("past.safetensors");
        Files.write(past, b);
        assertRefused(past, SafetensorsReader::read, "header length 1000 exceeds");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1);
        Files.write(past, b);
        assertRefused(past, SafetensorsReader::read, "header length 18446744073709551615 is not sane");
    }

    @Test
    void offsetsOutsideTheFileOrOverflowing() throws IOException {
        assertRefused(st("out.safetensors", one("F32", "[2]", "[0,1000000]"), new byte[8]), SafetensorsReader::read,
                "tensor 'w'", "exceed the data section of 8 bytes");
        assertRefused(st("max.safetensors", one("F32", "[2]", "[9223372036854775800,9223372036854775807]"), new byte[8]), SafetensorsReader::read,
                "tensor 'w'", "exceed the data section");
        assertRefused(st("big.safetensors", one("F32", "[2]", "[0,18446744073709551616]"), new byte[8]), SafetensorsReader::read,
                "tensor 'w'", "is too large");
        assertRefused(st("neg.safetensors", one("F32", "[2]", "[-8,0]"), new byte[8]), SafetensorsReader::read,
                "tensor 'w'", "not a non-negative integer");
        assertRefused(st("reversed.safetensors", one("F32", "[2]", "[8,0]"), new byte[8]), SafetensorsReader::read,
                "tensor 'w'", "begin > end");
        assertRefused(st("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), SafetensorsReader::read, "overlap tensor 'a'");
    }

    @Test
    void shapesDisagreeingWithByteCounts() throws IOException {
        assertRefused(st("short.safetensors", one("F32", "[2,2]", "[0,12]"), new byte[12]), SafetensorsReader::read,
                "tensor 'w'", "shape [2, 2] F32 needs 16 bytes but data_offsets [0, 12] hold 12");
        assertRefused(st("half.safetensors", one("F16", "[3]", "[0,12]"), new byte[12]), SafetensorsReader::read,
                "tensor 'w'", "F16 needs 6 bytes");
        assertRefused(st("huge.safetensors", one("F32", "[4294967296,4294967296]", "[0,4]"), new byte[4]), SafetensorsReader::read,
                "tensor 'w'", "has a dimension over 2147483647");
        assertRefused(st("overflow.safetensors", one("F32", "[2147483647,2147483647,2147483647]", "[0,4]"), new byte[4]), SafetensorsReader::read,
                "tensor 'w'", "needs too many bytes");
    }

    @Test
    void unsupportedDtypes() throws IOException {
        for (String d : new String[] {"F64", "C64", "F8_E4M3", "U64", "f32"}) {
            assertRefused(st("dtype.safetensors", one(d, "[1]", "[0,8]"), new byte[8]), SafetensorsReader::read,
                    "tensor 'w'", "unsupported dtype " + d);
        }
    }

    @Test
    void duplicateNamesAndMalformedHeaders() throws IOException {
        assertRefused(st("dup.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]), SafetensorsReader::read, "duplicate key \"w\"");
        assertRefused(st("json.safetensors", "{\"w\":{\"dtype\":\"F32\",", new byte[0]), SafetensorsReader::read, "header is not valid JSON");
        assertRefused(st("array.safetensors", "[1,2,3]", new byte[0]), SafetensorsReader::read, "header JSON is not an object");
        assertRefused(st("nodtype.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), SafetensorsReader::read,
                "tensor 'w'", "missing or non-string \"dtype\"");
        assertRefused(st("deep.safetensors", "[".repeat(100) + "]".repeat(100), new byte[0]), SafetensorsReader::read, "nesting depth (65) exceeds the maximum allowed (64");
        // found by SafetensorsFuzzTest: BigDecimal's NumberFormatException escaped the JSON parser
        assertRefused(st("exponent.safetensors", one("F32", "[1e99999999999]", "[0,4]"), new byte[4]), SafetensorsReader::read,
                "header is not valid JSON: number 1e99999999999 is out of range");
        Path bad = tmp.resolve("utf8.safetensors");
        Files.write(bad, FuzzSeeds.safetensors("{\"wX\":1}", new byte[0]));
        byte[] b = Files.readAllBytes(bad);
        b[11] = (byte) 0xff; // an invalid UTF-8 byte inside the key
        Files.write(bad, b);
        assertRefused(bad, SafetensorsReader::read, "header is not valid UTF-8");
    }
}
