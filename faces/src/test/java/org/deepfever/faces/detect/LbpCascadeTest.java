package org.deepfever.faces.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LbpCascadeTest {

    private static LbpCascade parse(String xml) throws IOException {
        return LbpCascade.parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)), "test.xml");
    }

    /** A one-stage, one-stump cascade over feature {@code rect}, going left for LBP code {@code code}. */
    private static String tiny(String featureType, String rect, int code, String extraProlog) {
        int[] subset = new int[8];
        subset[code >> 5] |= 1 << (code & 31);
        StringBuilder s = new StringBuilder();
        for (int v : subset) s.append(v).append(' ');
        return "<?xml version=\"1.0\"?>\n" + extraProlog + "<opencv_storage><cascade type_id=\"opencv-cascade-classifier\">"
                + "<stageType>BOOST</stageType><featureType>" + featureType + "</featureType>"
                + "<height>3</height><width>3</width><featureParams><maxCatCount>256</maxCatCount></featureParams>"
                + "<stageNum>1</stageNum><stages><_><maxWeakCount>1</maxWeakCount><stageThreshold>0.5</stageThreshold>"
                + "<weakClassifiers><_><internalNodes>0 -1 0 " + s + "</internalNodes>"
                + "<leafValues>1.0 -1.0</leafValues></_></weakClassifiers></_></stages>"
                + "<features><_><rect>" + rect + "</rect></_></features></cascade></opencv_storage>";
    }

    @Test
    void bundledCascadeParses() {
        LbpCascade c = LbpCascade.frontalFace();
        assertEquals(24, c.windowWidth());
        assertEquals(24, c.windowHeight());
        assertEquals(20, c.stageCount());
        assertEquals(136, c.featureCount());
        assertSame(c, LbpCascade.frontalFace(), "parsed once");
    }

    @Test
    void bundledNoticeNamesSourceAndLicence() throws IOException {
        try (InputStream in = LbpCascade.class.getResourceAsStream("NOTICE")) {
            String n = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(n.contains("opencv-data") && n.contains("BSD-3-Clause") && n.contains("Intel"), n);
        }
    }

    /**
     * The LBP code's bit order, OpenCV's LBPEvaluator: blocks 0..8 row-major, bit 7 = block 0,
     * 6 = 1, 5 = 2, 4 = 5, 3 = 8, 2 = 7, 1 = 6, 0 = 3; a bit is set when the block sum is at least
     * the centre's.
     */
    @Test
    void lbpCodeBitOrderIsOpenCvs() throws IOException {
        int[] blockOfBit = {3, 6, 7, 8, 5, 2, 1, 0}; // bit 0 .. bit 7
        for (int bit = 0; bit < 8; bit++) {
            byte[] img = new byte[9];
            java.util.Arrays.fill(img, (byte) 10);
            img[4] = 50; // centre brighter than everything ...
            img[blockOfBit[bit]] = 50; // ... except this one block, which equals it
            LbpCascade c = parse(tiny("LBP", "0 0 1 1", 1 << bit, ""));
            int[] sum = FaceDetector.integral(img, 3, 3);
            int[] ofs = c.offsets(4);
            assertEquals(1 << bit, LbpCascade.lbp(sum, 0, ofs, 0), "block " + blockOfBit[bit]);
            assertEquals(1, c.evaluate(sum, 0, ofs), "code in subset: left leaf 1.0 >= 0.5 passes");
            LbpCascade other = parse(tiny("LBP", "0 0 1 1", (1 << bit) ^ 0xFF, ""));
            assertEquals(0, other.evaluate(sum, 0, ofs), "code not in subset: right leaf -1.0 fails stage 0");
        }
    }

    @Test
    void refusesDoctypesAndExternalEntities() {
        String xxe = tiny("LBP", "0 0 1 1", 0, "<!DOCTYPE opencv_storage [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n")
                .replace("<stageType>BOOST", "<stageType>BOOST&x;");
        IOException e = assertThrows(IOException.class, () -> parse(xxe));
        assertTrue(e.getMessage().contains("not well-formed") || e.getMessage().contains("DOCTYPE"), e.getMessage());
    }

    @Test
    void refusesOtherCascadeKinds() {
        IOException haar = assertThrows(IOException.class, () -> parse(tiny("HAAR", "0 0 1 1", 0, "")));
        assertTrue(haar.getMessage().contains("HAAR"), haar.getMessage());
        IOException big = assertThrows(IOException.class, () -> parse(tiny("LBP", "0 0 2 1", 0, "")));
        assertTrue(big.getMessage().contains("does not fit"), big.getMessage());
        assertThrows(IOException.class, () -> parse("<opencv_storage><x/></opencv_storage>"));
        assertThrows(IOException.class, () -> parse("not xml"));
        assertThrows(IOException.class, () -> parse(tiny("LBP", "0 0 1 1", 0, "").replace("0 -1 0", "0 -1 7")));
    }
}
