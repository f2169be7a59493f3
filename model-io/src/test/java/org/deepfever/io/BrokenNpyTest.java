package org.deepfever.io;

import static org.deepfever.io.BrokenFiles.assertLoadsOrRefused;
import static org.deepfever.io.BrokenFiles.assertRefused;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken .npy files, made at run time from the golden input.npy and from small headers: each is
 * refused with one ModelFormatException naming the file and the fault, and nothing of the file is
 * left open or mapped.
 */
class BrokenNpyTest {
    @TempDir Path tmp;

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void everyTruncationOfTheGoldenInputIsRefused() throws IOException {
        BrokenFiles.assertEveryTruncationRefused(TestFiles.mini("input.npy"), tmp.resolve("cut.npy"), Npy::open);
    }

    @Test
    void bitFlipsInTheHeaderLoadOrAreRefused() throws IOException {
        byte[] all = Files.readAllBytes(TestFiles.mini("input.npy"));
        Random r = new Random(7);
        for (int i = 0; i < 300; i++) {
            assertLoadsOrRefused(write("flip.npy", BrokenFiles.flipBits(all, r, 1 + i % 3, 0, 128)), Npy::open);
        }
    }

    @Test
    void emptyFileAndWrongMagic() throws IOException {
        assertRefused(write("empty.npy", new byte[0]), Npy::open, "not a .npy file");
        byte[] good = FuzzSeeds.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", FuzzSeeds.le(4, 2));
        byte[] bad = good.clone();
        bad[1] = 'X';
        assertRefused(write("magic.npy", bad), Npy::open, "not a .npy file");
        bad = good.clone();
        bad[6] = 9;
        assertRefused(write("version.npy", bad), Npy::open, "unsupported .npy format version 9");
    }

    @Test
    void headerLengthPastTheEndOfTheFile() throws IOException {
        byte[] v1 = FuzzSeeds.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", FuzzSeeds.le(4, 2));
        v1[8] = (byte) 0xff;
        v1[9] = (byte) 0xff;
        assertRefused(write("hlen1.npy", v1), Npy::open, "header of 65535 bytes exceeds the file");
        byte[] v2 = FuzzSeeds.npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", FuzzSeeds.le(4, 2));
        for (int i = 8; i < 12; i++) v2[i] = (byte) 0xff;
        assertRefused(write("hlen2.npy", v2), Npy::open, "header of 4294967295 bytes exceeds the file");
    }

    @Test
    void shapesDisagreeingWithTheDataOrOverflowing() throws IOException {
        assertRefused(write("short.npy", FuzzSeeds.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", FuzzSeeds.le(4, 5))),
                Npy::open, "shape [2, 3] <f4 needs 24 data bytes, file has 20 (truncated?)");
        assertRefused(write("long.npy", FuzzSeeds.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", FuzzSeeds.le(4, 7))),
                Npy::open, "needs 24 data bytes, file has 28");
        assertRefused(write("huge.npy", FuzzSeeds.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }", FuzzSeeds.le(4, 1))),
                Npy::open, "is too large");
        assertRefused(write("negative.npy", FuzzSeeds.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }", FuzzSeeds.le(4, 2))),
                Npy::open, "bad .npy header");
        assertRefused(write("bigdim.npy", FuzzSeeds.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296,), }", FuzzSeeds.le(4, 1))),
                Npy::open, "bad shape");
    }

    @Test
    void unsupportedDtypesAndLayouts() throws IOException {
        for (String d : new String[] {"<i4", ">f4", "|b1", "<c8", "<u2", "|O"}) {
            assertRefused(write("dtype.npy", FuzzSeeds.npy(1, "{'descr': '" + d + "', 'fortran_order': False, 'shape': (2,), }", FuzzSeeds.le(4, 2))),
                    Npy::open, "unsupported dtype '" + d + "'");
        }
        assertRefused(write("fortran.npy", FuzzSeeds.npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", FuzzSeeds.le(4, 4))),
                Npy::open, "fortran_order=True arrays are not supported");
    }

    @Test
    void duplicateAndMissingHeaderKeys() throws IOException {
        assertRefused(write("dup.npy", FuzzSeeds.npy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", FuzzSeeds.le(4, 2))),
                Npy::open, "duplicate key 'descr'");
        assertRefused(write("noshape.npy", FuzzSeeds.npy(1, "{'descr': '<f4', 'fortran_order': False, }", FuzzSeeds.le(4, 2))),
                Npy::open, "no 'shape'");
    }
}
