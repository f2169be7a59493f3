package org.deepfever.faces.fuzz;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.deepfever.faces.image.ImageDecoder;
import org.deepfever.faces.image.RgbImage;
import org.deepfever.faces.image.TestData;

/**
 * Small valid inputs that start the image fuzzers off inside each format, made here deterministically
 * and committed under {@code src/test/resources/org/deepfever/faces/fuzz/<Target>Inputs/<method>/};
 * {@link ImageFuzzSeedsTest} checks the committed files are what this class makes.
 */
final class ImageFuzzSeeds {
    private ImageFuzzSeeds() {}

    static Map<String, Map<String, byte[]>> all() throws IOException {
        Map<String, Map<String, byte[]>> out = new LinkedHashMap<>();
        out.put("ImageDecoderFuzzTestInputs/decode", images());
        out.put("FaceDetectorFuzzTestInputs/detect", Map.of("seed-two-faces", detector()));
        return out;
    }

    /** One small image per reader and pixel layout ImageDecoder converts, plus the CMYK/YCCK JPEGs of the tests. */
    static Map<String, byte[]> images() throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("seed-rgb.png", encode(pattern(8, 8, BufferedImage.TYPE_3BYTE_BGR), "png"));
        m.put("seed-rgba.png", encode(pattern(5, 5, BufferedImage.TYPE_4BYTE_ABGR), "png"));
        m.put("seed-gray16.png", encode(pattern(6, 5, BufferedImage.TYPE_USHORT_GRAY), "png"));
        m.put("seed-palette.png", encode(pattern(7, 7, BufferedImage.TYPE_BYTE_INDEXED), "png"));
        m.put("seed-rgb.jpg", encode(pattern(16, 16, BufferedImage.TYPE_3BYTE_BGR), "jpeg"));
        m.put("seed-gray.jpg", encode(pattern(8, 8, BufferedImage.TYPE_BYTE_GRAY), "jpeg"));
        m.put("seed-rgb.bmp", encode(pattern(8, 8, BufferedImage.TYPE_3BYTE_BGR), "bmp"));
        m.put("seed-565.bmp", encode(pattern(4, 4, BufferedImage.TYPE_USHORT_565_RGB), "bmp"));
        m.put("seed-palette.gif", encode(pattern(8, 8, BufferedImage.TYPE_BYTE_INDEXED), "gif"));
        m.put("seed-binary.wbmp", encode(pattern(8, 8, BufferedImage.TYPE_BYTE_BINARY), "wbmp"));
        m.put("seed-cmyk.jpg", TestData.resource("/pil/cmyk_adobe.jpg"));
        m.put("seed-ycck.jpg", TestData.resource("/pil/ycck_adobe.jpg"));
        return m;
    }

    private static BufferedImage pattern(int w, int h, int type) {
        BufferedImage bi = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) bi.setRGB(x, y, ((x * 40) & 0xff) << 16 | ((y * 50) & 0xff) << 8 | ((x + y) * 20 & 0xff));
        }
        return bi;
    }

    private static byte[] encode(BufferedImage bi, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(bi, format, out)) throw new IOException("no ImageIO writer for " + format);
        return out.toByteArray();
    }

    /**
     * The detector's input format (see {@link FaceDetectorFuzzTest}): settings scale 1.1, 3
     * neighbours, no minimum or maximum size, then the test photo with two faces shrunk to 143 px
     * wide, as greyscale.
     */
    static byte[] detector() throws IOException {
        RgbImage src = ImageDecoder.decode(TestData.resource("/images/two_faces.png"), "two_faces.png");
        int w = 143, h = Math.min(143, Math.max(16, (int) Math.round((double) src.height() * w / src.width())));
        byte[] gray = src.toGray();
        byte[] out = new byte[FaceDetectorFuzzTest.HEADER + w * h];
        out[0] = (byte) (w - 16);
        out[1] = (byte) (h - 16);
        out[2] = 25; // 1.05 + 25/500 = 1.1
        out[3] = 3;
        out[4] = 0;
        out[5] = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                // box-average the source pixels that map onto (x, y)
                int x0 = x * src.width() / w, x1 = Math.max(x0 + 1, (x + 1) * src.width() / w);
                int y0 = y * src.height() / h, y1 = Math.max(y0 + 1, (y + 1) * src.height() / h);
                long sum = 0;
                for (int yy = y0; yy < y1; yy++) for (int xx = x0; xx < x1; xx++) sum += gray[yy * src.width() + xx] & 0xff;
                out[FaceDetectorFuzzTest.HEADER + y * w + x] = (byte) (sum / ((long) (x1 - x0) * (y1 - y0)));
            }
        }
        return out;
    }
}
