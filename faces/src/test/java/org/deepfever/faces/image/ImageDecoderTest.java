package org.deepfever.faces.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDecoderTest {

    @TempDir
    Path tmp;

    private static byte[] encode(BufferedImage bi, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(bi, format, out)) {
            throw new IOException("no ImageIO writer for " + format + " / type " + bi.getType());
        }
        return out.toByteArray();
    }

    private static int[] px(RgbImage img, int x, int y) {
        return new int[] {img.get(x, y, 0), img.get(x, y, 1), img.get(x, y, 2)};
    }

    // ------------------------------------------------------------------ formats and conversions

    @Test
    void jpegDecodesLikePillow() throws IOException {
        RgbImage img = TestData.resourceImage("/images/messi5.jpg");
        assertEquals(548, img.width());
        assertEquals(342, img.height());
        // Pillow 9.4 (libjpeg-turbo): np.asarray(Image.open(f).convert("RGB"))[0, :4]
        assertArrayEquals(new int[] {44, 43, 39}, px(img, 0, 0));
        assertArrayEquals(new int[] {47, 46, 42}, px(img, 1, 0));
        assertArrayEquals(new int[] {52, 47, 44}, px(img, 2, 0));
        assertArrayEquals(new int[] {54, 49, 46}, px(img, 3, 0));
    }

    @Test
    void pngRgbIsLossless() throws IOException {
        RgbImage img = TestData.resourceImage("/images/astronaut.png");
        assertEquals(512, img.width());
        assertEquals(512, img.height());
    }

    @Test
    void rgbPngBmpRoundTripExactly() throws IOException {
        BufferedImage bi = new BufferedImage(7, 5, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(3);
        for (int y = 0; y < 5; y++) for (int x = 0; x < 7; x++) bi.setRGB(x, y, r.nextInt(1 << 24));
        for (String fmt : new String[] {"png", "bmp"}) {
            RgbImage img = ImageDecoder.decode(encode(bi, fmt), "t." + fmt);
            for (int y = 0; y < 5; y++) {
                for (int x = 0; x < 7; x++) {
                    assertEquals(bi.getRGB(x, y) & 0xFFFFFF, img.rgbAt(x, y), fmt + " at " + x + "," + y);
                }
            }
        }
    }

    @Test
    void greyscaleIsReplicatedWithoutGammaConversion() throws IOException {
        BufferedImage g = new BufferedImage(4, 1, BufferedImage.TYPE_BYTE_GRAY);
        int[] v = {0, 37, 128, 255};
        for (int x = 0; x < 4; x++) g.getRaster().setSample(x, 0, 0, v[x]);
        for (String fmt : new String[] {"png", "bmp"}) {
            RgbImage img = ImageDecoder.decode(encode(g, fmt), "g." + fmt);
            for (int x = 0; x < 4; x++) {
                assertArrayEquals(new int[] {v[x], v[x], v[x]}, px(img, x, 0), fmt + " x=" + x);
            }
        }
        // greyscale JPEG: flat 8x8 blocks survive quality-0.75 compression almost exactly
        BufferedImage gj = new BufferedImage(16, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 16; x++) gj.getRaster().setSample(x, y, 0, x < 8 ? 60 : 200);
        RgbImage j = ImageDecoder.decode(encode(gj, "jpeg"), "g.jpg");
        assertTrue(Math.abs(j.get(3, 3, 0) - 60) <= 2 && j.get(3, 3, 0) == j.get(3, 3, 2), Arrays.toString(px(j, 3, 3)));
        assertTrue(Math.abs(j.get(12, 3, 1) - 200) <= 2, Arrays.toString(px(j, 12, 3)));
    }

    /**
     * A BMP wrapping a JPEG or PNG stream whose header claims more bytes than the file has (a fuzzing
     * find: 62 bytes claiming 1.3 GB, which ImageIO's BMP reader allocated up front) is refused with
     * its name and the sizes, and nothing near the claimed size is allocated; a well-formed header
     * of either kind still reaches the embedded reader.
     */
    @Test
    void bmpClaimingMoreEmbeddedDataThanItHasIsRefused() throws IOException {
        byte[] crash = Base64.getDecoder().decode("Qk1iAAAAAAAAAEIAAAAoAAAAAKIAAAQAAAAAAAAABAAAAAEANVADAAAAIAAAAAEAAAAAHgAAAAACKAVQB3g=");
        for (int compression : new int[] {4, 5}) {
            byte[] d = crash.clone();
            d[30] = (byte) compression;
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = mx.getCurrentThreadAllocatedBytes();
            IOException e = assertThrows(IOException.class, () -> ImageDecoder.decode(d, "huge.bmp"));
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            assertEquals("huge.bmp: corrupt BMP image (it claims 1345650689 bytes of embedded " + (compression == 4 ? "JPEG" : "PNG")
                    + " data, the file has 62)", e.getMessage());
            assertTrue(allocated < 64L << 20, "allocated " + allocated + " bytes");
            // the same header claiming what the file holds goes on to the embedded reader (which fails on these bytes)
            d[34] = 20;
            d[35] = d[36] = d[37] = 0;
            IOException inner = assertThrows(IOException.class, () -> ImageDecoder.decode(d, "small.bmp"));
            assertTrue(inner.getMessage().startsWith("small.bmp: ") && !inner.getMessage().contains("claims"), inner.getMessage());
        }
    }

    @Test
    void sixteenBitPngIsRescaledWithRounding() throws IOException {
        BufferedImage g16 = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
        int[] v = {0x0000, 0x1234, 0xFFFF};
        for (int x = 0; x < 3; x++) g16.getRaster().setSample(x, 0, 0, v[x]);
        RgbImage g = ImageDecoder.decode(encode(g16, "png"), "g16.png");
        assertArrayEquals(new int[] {0, 0, 0}, px(g, 0, 0));
        assertArrayEquals(new int[] {18, 18, 18}, px(g, 1, 0)); // round(0x1234 * 255 / 65535) = 18
        assertArrayEquals(new int[] {255, 255, 255}, px(g, 2, 0));

        ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), new int[] {16, 16, 16},
                false, false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        WritableRaster wr = cm.createCompatibleWritableRaster(2, 1);
        wr.setPixel(0, 0, new int[] {0x8000, 0x0101 * 77, 0xFFFF});
        wr.setPixel(1, 0, new int[] {0x00FF, 0xFF00, 0x7F80});
        RgbImage c = ImageDecoder.decode(encode(new BufferedImage(cm, wr, false, null), "png"), "rgb16.png");
        assertArrayEquals(new int[] {128, 77, 255}, px(c, 0, 0));
        assertArrayEquals(new int[] {1, 254, 127}, px(c, 1, 0));
    }

    @Test
    void alphaIsDroppedNotComposited() throws IOException {
        BufferedImage a = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        a.setRGB(0, 0, 0x0AC86432); // alpha 10, colour (200, 100, 50)
        a.setRGB(1, 0, 0x00FFFFFF); // fully transparent white
        RgbImage img = ImageDecoder.decode(encode(a, "png"), "a.png");
        assertArrayEquals(new int[] {200, 100, 50}, px(img, 0, 0));
        assertArrayEquals(new int[] {255, 255, 255}, px(img, 1, 0));
    }

    @Test
    void paletteImagesTakeTheirPaletteColour() throws IOException {
        byte[] r = {0, (byte) 255, 10, 0}, g = {0, 0, 20, (byte) 200}, b = {0, 0, 30, 100};
        IndexColorModel icm = new IndexColorModel(2, 4, r, g, b, 3); // index 3 transparent: colour kept
        BufferedImage p = new BufferedImage(4, 1, BufferedImage.TYPE_BYTE_INDEXED, icm);
        for (int x = 0; x < 4; x++) p.getRaster().setSample(x, 0, 0, x);
        for (String fmt : new String[] {"png", "gif"}) {
            RgbImage img = ImageDecoder.decode(encode(p, fmt), "p." + fmt);
            assertArrayEquals(new int[] {0, 0, 0}, px(img, 0, 0), fmt);
            assertArrayEquals(new int[] {255, 0, 0}, px(img, 1, 0), fmt);
            assertArrayEquals(new int[] {10, 20, 30}, px(img, 2, 0), fmt);
            assertArrayEquals(new int[] {0, 200, 100}, px(img, 3, 0), fmt);
        }
        BufferedImage bin = new BufferedImage(9, 1, BufferedImage.TYPE_BYTE_BINARY);
        bin.setRGB(3, 0, 0xFFFFFF);
        RgbImage bw = ImageDecoder.decode(encode(bin, "png"), "bw.png");
        assertArrayEquals(new int[] {255, 255, 255}, px(bw, 3, 0));
        assertArrayEquals(new int[] {0, 0, 0}, px(bw, 4, 0));
    }

    @Test
    void bmp565IsRescaled() throws IOException {
        BufferedImage b = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_565_RGB);
        b.getRaster().setPixel(0, 0, new int[] {31, 63, 0});
        b.getRaster().setPixel(1, 0, new int[] {16, 32, 1});
        byte[] enc;
        try {
            enc = encode(b, "bmp");
        } catch (IOException e) {
            return; // no 16-bit BMP writer in this JDK
        }
        RgbImage img = ImageDecoder.decode(enc, "565.bmp");
        assertArrayEquals(new int[] {255, 255, 0}, px(img, 0, 0));
        assertArrayEquals(new int[] {132, 130, 8}, px(img, 1, 0)); // round(16*255/31), round(32*255/63), round(255/31)
    }

    /**
     * CMYK JPEGs, against Pillow's {@code convert("RGB")} of the same files (see
     * {@code pil/make_expected.py}): an Adobe-inverted CMYK file written by Pillow, and a YCCK
     * (Adobe transform 2) file written by the JDK. ImageIO alone refuses the first or decodes it
     * without Adobe's inversion.
     */
    @Test
    void cmykAndYcckJpegsMatchPillow() throws IOException {
        for (String name : new String[] {"cmyk_adobe", "ycck_adobe"}) {
            RgbImage got = TestData.resourceImage("/pil/" + name + ".jpg");
            RgbImage want = TestData.resourceImage("/pil/" + name + "_rgb.png");
            assertTrue(TestData.maxDiff(got, want) <= 1, name + ": max diff " + TestData.maxDiff(got, want));
        }
        // the first patch of the CMYK file: stored C,M,Y,K = 20,40,10,255, i.e. inverted ink 235,215,245,0
        RgbImage cmyk = TestData.resourceImage("/pil/cmyk_adobe.jpg");
        assertTrue(cmyk.get(8, 8, 0) < 30 && cmyk.get(8, 8, 1) < 50 && cmyk.get(8, 8, 2) < 20, Arrays.toString(px(cmyk, 8, 8)));
    }

    // ------------------------------------------------------------------ errors

    private static IOException failure(byte[] data, String name) {
        return assertThrows(IOException.class, () -> ImageDecoder.decode(data, name));
    }

    @Test
    void emptyFileIsRefused() throws IOException {
        Path f = tmp.resolve("empty.jpg");
        Files.write(f, new byte[0]);
        IOException e = assertThrows(IOException.class, () -> ImageDecoder.decode(f));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        assertTrue(e.getMessage().contains("empty.jpg"), e.getMessage());
    }

    @Test
    void missingFileIsRefused() {
        IOException e = assertThrows(IOException.class, () -> ImageDecoder.decode(tmp.resolve("nope.png")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void nonImageIsRefused() {
        IOException e = failure("name,value\nx,1\n".getBytes(StandardCharsets.UTF_8), "data.csv");
        assertTrue(e.getMessage().contains("not an image ImageIO can read"), e.getMessage());
        assertTrue(e.getMessage().contains("looks like text"), e.getMessage());
        IOException z = failure(new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0}, "a.zip");
        assertTrue(z.getMessage().contains("not an image"), z.getMessage());
    }

    @Test
    void truncatedJpegIsRefused() throws IOException {
        byte[] jpg = TestData.resource("/images/messi5.jpg");
        IOException e = failure(Arrays.copyOf(jpg, 30000), "cut.jpg");
        assertTrue(e.getMessage().contains("truncated JPEG"), e.getMessage());
        IOException h = failure(Arrays.copyOf(jpg, 300), "head.jpg"); // cut inside the headers
        assertTrue(h.getMessage().startsWith("head.jpg: truncated JPEG"), h.getMessage());
    }

    @Test
    void truncatedAndCorruptPngAreRefused() {
        byte[] png = TestData.resource("/images/astronaut.png");
        IOException t = failure(Arrays.copyOf(png, png.length / 2), "cut.png");
        assertTrue(t.getMessage().startsWith("cut.png: truncated PNG"), t.getMessage());
        byte[] bad = png.clone();
        for (int i = 2000; i < 2400; i++) bad[i] ^= 0x5A; // scramble compressed data
        IOException c = failure(bad, "bad.png");
        assertTrue(c.getMessage().contains("corrupt PNG") || c.getMessage().contains("truncated PNG"), c.getMessage());
    }

    @Test
    void truncatedGifAndBmpAreRefused() throws IOException {
        BufferedImage bi = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (String fmt : new String[] {"gif", "bmp"}) {
            byte[] enc = encode(bi, fmt);
            IOException e = failure(Arrays.copyOf(enc, enc.length - 10), "cut." + fmt);
            assertTrue(e.getMessage().startsWith("cut." + fmt + ": truncated " + fmt.toUpperCase()), e.getMessage());
        }
    }

    @Test
    void oversizedImageIsRefusedBeforeDecoding() throws IOException {
        byte[] png = encode(new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB), "png");
        IOException e = assertThrows(IOException.class, () -> ImageDecoder.decode(png, "big.png", 1000));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
    }

    /** Mutated files of every format end in an image or an IOException, never another exception. */
    @Test
    void mutatedFilesNeverEscapeAsRuntimeExceptions() throws IOException {
        BufferedImage bi = new BufferedImage(24, 16, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(11);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 24; x++) bi.setRGB(x, y, r.nextInt(1 << 24));
        byte[][] samples = {encode(bi, "jpeg"), encode(bi, "png"), encode(bi, "gif"), encode(bi, "bmp"),
            TestData.resource("/pil/cmyk_adobe.jpg")};
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            Random rnd = new Random(42);
            int images = 0, errors = 0;
            for (byte[] s : samples) {
                for (int it = 0; it < 150; it++) {
                    byte[] m = s.clone();
                    switch (it % 3) {
                        case 0 -> {
                            for (int k = 0, n = 1 + rnd.nextInt(8); k < n; k++) m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256);
                        }
                        case 1 -> m = Arrays.copyOf(m, 1 + rnd.nextInt(m.length - 1));
                        default -> {
                            int at = rnd.nextInt(Math.min(m.length, 64));
                            m[at] = (byte) rnd.nextInt(256); // header damage
                            m[rnd.nextInt(m.length)] ^= (byte) (1 << rnd.nextInt(8));
                        }
                    }
                    try {
                        RgbImage img = ImageDecoder.decode(m, "fuzz", 1 << 20);
                        assertEquals((long) img.width() * img.height() * 3, img.rgb().length);
                        images++;
                    } catch (IOException e) {
                        assertTrue(e.getMessage() != null && e.getMessage().startsWith("fuzz: "), e.getMessage());
                        errors++;
                    } catch (RuntimeException e) {
                        fail("raw " + e + " from a mutated sample", e);
                    }
                }
            }
            assertTrue(images > 0 && errors > 0, images + " decoded, " + errors + " refused");
        });
    }
}
