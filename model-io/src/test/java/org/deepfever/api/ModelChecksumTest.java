package org.deepfever.api;

import static org.deepfever.model.ModelTestUtil.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deepfever.model.ModelLoadException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ModelChecksum against FIPS 180-2's published SHA-256 test vectors (so a file's checksum is what
 * {@code sha256sum} prints), manifests with their weight files, built-in names and bad files.
 */
class ModelChecksumTest {
    /** SHA-256("abc"), FIPS 180-2 appendix B.1. */
    static final String ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    /** SHA-256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), FIPS 180-2 appendix B.2. */
    static final String TWO_BLOCKS = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

    @TempDir Path tmp;

    @Test
    void aFileIsTheDigestOfItsBytes() throws IOException {
        Path f = Files.writeString(tmp.resolve("model.pth"), "abc", StandardCharsets.US_ASCII);
        assertEquals(ABC, ModelChecksum.sha256(f));
        assertEquals(ABC, ModelChecksum.sha256(f.toString()), "by path string");
    }

    @Test
    void aManifestCoversItsWeightFilesInOrder() throws IOException {
        String manifest = "[{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"x\",\"shape\":[1]}]},{\"paths\":[\"b.bin\"]}]";
        Path m = Files.writeString(tmp.resolve("model.json"), manifest);
        Files.writeString(tmp.resolve("a.bin"), "first shard ");
        Files.writeString(tmp.resolve("b.bin"), "second shard");
        Path concatenated = Files.writeString(tmp.resolve("all.pth"), manifest + "first shard second shard");
        assertEquals(ModelChecksum.sha256(concatenated), ModelChecksum.sha256(m), "manifest, then a.bin, then b.bin");
        Files.writeString(tmp.resolve("b.bin"), "changed weights");
        assertNotEquals(ModelChecksum.sha256(concatenated), ModelChecksum.sha256(m), "a changed weight file changes the checksum");
    }

    @Test
    void aLongerFileMatchesTheTwoBlockVector() throws IOException {
        Path f = Files.writeString(tmp.resolve("two.pth"), "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
        assertEquals(TWO_BLOCKS, ModelChecksum.sha256(f));
    }

    @Test
    void aManifestNamingAMissingWeightFileNamesIt() throws IOException {
        Path m = Files.writeString(tmp.resolve("model.json"), "[{\"paths\":[\"gone.bin\"]}]");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelChecksum.sha256(m));
        assertContains(e.getMessage(), "model.json", "gone.bin");
    }

    @Test
    void aMissingFileIsNamed() {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelChecksum.sha256(tmp.resolve("nope.pth").toString()));
        assertContains(e.getMessage(), "nope.pth");
    }

    @Test
    void everyBuiltInModelHasOne() {
        for (String name : FaceModels.builtInNames()) {
            String sum = ModelChecksum.sha256(name);
            assertEquals(64, sum.length(), name);
            assertEquals(sum, ModelChecksum.sha256(name), name + ": stable");
        }
        assertNotEquals(ModelChecksum.sha256(FaceModels.UNTRAINED_DEEPFEVER), ABC);
    }
}
