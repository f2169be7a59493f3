package org.deepfever.faces.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

/**
 * Decodes an image file into 8-bit {@link RgbImage} with the JDK's ImageIO (JPEG, PNG, BMP, GIF,
 * WBMP and whatever other readers are installed).
 *
 * <p>Conversions, chosen to agree with Pillow's {@code Image.open(f).convert("RGB")}, which made the
 * reference fixtures: no colour management (an embedded ICC profile is ignored and the samples are
 * taken as they are); greyscale is replicated into R, G and B; alpha is dropped, not composited;
 * palette images take their palette colour; samples of other bit depths (16-bit PNG, 5-6-5 BMP) are
 * rescaled to 0..255 with rounding; the first frame of an animated GIF is used. CMYK and YCCK JPEGs,
 * which ImageIO's JPEG reader either rejects or decodes without Adobe's inversion, are read as raw
 * rasters and converted here: YCCK to CMYK as libjpeg does, Adobe-inverted CMYK (an APP14 "Adobe"
 * marker is present) inverted back, then CMYK to RGB with Pillow's formula
 * {@code R = (255 - K) - (255 - K) * C / 255}.
 *
 * <p>Every failure is an {@link IOException} whose message names the file and the reason: an empty
 * file, a file that is not an image ImageIO can read, a truncated or corrupt image, an image too
 * large to decode. A JPEG that ends early (libjpeg warns and pads with grey) is refused as
 * truncated rather than decoded half-grey.
 */
public final class ImageDecoder {

    /** Images above this many pixels are refused (100 M pixels: a 12000 x 8000 photo is 96 M). */
    public static final long DEFAULT_MAX_PIXELS = 100_000_000L;

    /** Files above this many bytes are refused without being read. */
    public static final long MAX_FILE_BYTES = 1L << 30;

    private ImageDecoder() {}

    /** Decodes {@code file}; see the class comment for conversions and errors. */
    public static RgbImage decode(Path file) throws IOException {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new IOException(file + ": file too large to be an image we decode (" + size + " bytes)");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        }
        return decode(bytes, file.toString(), DEFAULT_MAX_PIXELS);
    }

    /** Decodes an encoded image held in memory; {@code name} is used in error messages. */
    public static RgbImage decode(byte[] data, String name) throws IOException {
        return decode(data, name, DEFAULT_MAX_PIXELS);
    }

    /** As {@link #decode(byte[], String)}, refusing images of more than {@code maxPixels} pixels. */
    public static RgbImage decode(byte[] data, String name, long maxPixels) throws IOException {
        if (data.length == 0) {
            throw new IOException(name + ": empty file, not an image");
        }
        try (ImageInputStream iis = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            if (!readers.hasNext()) {
                throw new IOException(name + ": not an image ImageIO can read (" + describeStart(data) + ")");
            }
            ImageReader reader = readers.next();
            try {
                return read(reader, iis, data, name, maxPixels);
            } finally {
                reader.dispose();
            }
        }
    }

    private static RgbImage read(ImageReader reader, ImageInputStream iis, byte[] data, String name, long maxPixels)
            throws IOException {
        String format = formatName(reader);
        List<String> warnings = new ArrayList<>();
        reader.addIIOReadWarningListener((src, msg) -> warnings.add(msg));
        try {
            reader.setInput(iis, false, false);
            int w = reader.getWidth(0), h = reader.getHeight(0);
            if (w <= 0 || h <= 0) {
                throw new IOException(name + ": corrupt " + format + " image (size " + w + "x" + h + ")");
            }
            if ((long) w * h > maxPixels) {
                throw new IOException(name + ": " + format + " image too large to decode (" + w + "x" + h
                        + " is over " + maxPixels + " pixels)");
            }
            if (format.equals("BMP")) {
                checkBmpEmbeddedSize(data, name);
            }
            RgbImage img;
            boolean jpeg = format.equals("JPEG");
            int jpegComponents = jpeg ? jpegComponents(reader) : 0;
            if (jpeg && jpegComponents == 4) {
                img = readJpegRaster(reader, name);
            } else {
                BufferedImage bi;
                try {
                    bi = reader.read(0);
                } catch (IIOException e) {
                    if (jpeg && isUnsupportedType(e)) {
                        bi = null; // e.g. an older JDK refusing CMYK; raw raster below
                    } else {
                        throw e;
                    }
                } catch (IllegalArgumentException | java.awt.color.CMMException e) {
                    // a broken embedded ICC profile: the raw samples are still good
                    if (!jpeg) {
                        throw e;
                    }
                    bi = null;
                }
                img = bi != null ? toRgb(bi) : readJpegRaster(reader, name);
            }
            if (jpeg) {
                checkJpegWarnings(warnings, name);
            }
            return img;
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(name + ": ")) {
                throw e;
            }
            throw new IOException(name + ": " + describeFailure(format, data, e), e);
        } catch (RuntimeException e) {
            // readers throw IndexOutOfBounds, NegativeArraySize, NPE, IllegalState on crafted input
            String what = endsEarly(format, data) ? "truncated " + format + " (the file ends early; " : "corrupt "
                    + format + " image (";
            throw new IOException(name + ": " + what + "the " + format + " reader failed: " + e + ")", e);
        }
    }

    /**
     * A Windows BMP may wrap a JPEG or PNG stream (compression 4 or 5); ImageIO's BMP reader then
     * allocates the header's image size ({@code biSizeImage}) before reading a byte of it, so a
     * 62-byte file claiming 1.3 GB made it allocate 1.3 GB. Such a file is refused when the size it
     * claims is more than the file holds.
     */
    private static void checkBmpEmbeddedSize(byte[] d, String name) throws IOException {
        if (d.length < 38) return; // too short for the fields: the reader reports it
        long header = u32(d, 14), compression = u32(d, 30), size = u32(d, 34);
        boolean windows = header >= 40 && header != 64; // OS/2 2.x headers (64 bytes) use 4 for RLE24
        if (windows && (compression == 4 || compression == 5) && size > d.length) {
            throw new IOException(name + ": corrupt BMP image (it claims " + size + " bytes of embedded "
                    + (compression == 4 ? "JPEG" : "PNG") + " data, the file has " + d.length + ")");
        }
    }

    /** The unsigned little-endian 32-bit field at {@code d[at]} (BMP headers). */
    private static long u32(byte[] d, int at) {
        return (d[at] & 0xFFL) | (d[at + 1] & 0xFFL) << 8 | (d[at + 2] & 0xFFL) << 16 | (d[at + 3] & 0xFFL) << 24;
    }

    private static String formatName(ImageReader reader) {
        try {
            String f = reader.getFormatName();
            f = f.toUpperCase(Locale.ROOT);
            return f.equals("JPG") ? "JPEG" : f;
        } catch (IOException e) {
            return "image";
        }
    }

    private static boolean isUnsupportedType(IIOException e) {
        String m = e.getMessage();
        return m != null && m.toLowerCase(Locale.ROOT).contains("unsupported image type");
    }

    private static String describeFailure(String format, byte[] data, IOException e) {
        boolean eof = endsEarly(format, data);
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EOFException) {
                eof = true;
            }
        }
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (eof) {
            return "truncated " + format + " (the file ends early: " + msg + ")";
        }
        return "corrupt " + format + " image (" + msg + ")";
    }

    /** Whether the container's own end marker is missing: the file was cut short. */
    static boolean endsEarly(String format, byte[] d) {
        int n = d.length;
        switch (format) {
            case "JPEG" -> {
                int e = n;
                while (e > 2 && d[e - 1] == 0) e--; // some writers pad
                return !(e >= 2 && (d[e - 2] & 0xFF) == 0xFF && (d[e - 1] & 0xFF) == 0xD9);
            }
            case "PNG" -> {
                for (int i = Math.max(0, n - 16); i + 4 <= n; i++) {
                    if (d[i] == 'I' && d[i + 1] == 'E' && d[i + 2] == 'N' && d[i + 3] == 'D') return false;
                }
                return true;
            }
            case "GIF" -> {
                return n == 0 || d[n - 1] != 0x3B;
            }
            case "BMP" -> {
                return n < 6 || u32(d, 2) > n;
            }
            default -> {
                return false;
            }
        }
    }

    /** libjpeg only warns about a file that ends early, and fills the rest grey: refuse those. */
    private static void checkJpegWarnings(List<String> warnings, String name) throws IOException {
        for (String w : warnings) {
            String l = w.toLowerCase(Locale.ROOT);
            if (l.contains("premature end") || l.contains("truncated") || l.contains("missing eoi")) {
                throw new IOException(name + ": truncated JPEG (" + String.join("; ", warnings) + ")");
            }
        }
    }

    private static String describeStart(byte[] data) {
        StringBuilder sb = new StringBuilder("starts ");
        int n = Math.min(8, data.length);
        for (int i = 0; i < n; i++) {
            sb.append(String.format(Locale.ROOT, "%02x", data[i] & 0xFF));
            if (i + 1 < n) sb.append(' ');
        }
        boolean text = true;
        for (int i = 0; i < Math.min(64, data.length); i++) {
            int b = data[i] & 0xFF;
            if (b < 9 || (b > 13 && b < 32) || b == 127) text = false;
        }
        if (text) sb.append(", looks like text");
        return sb.append(", ").append(data.length).append(" bytes").toString();
    }

    // ------------------------------------------------------------------------------------------
    // BufferedImage -> RgbImage

    /** Converts a decoded image to 8-bit RGB, as described in the class comment. */
    public static RgbImage toRgb(BufferedImage bi) {
        int w = bi.getWidth(), h = bi.getHeight();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        ColorModel cm = bi.getColorModel();
        Raster r = bi.getRaster();
        if (bi.getType() == BufferedImage.TYPE_3BYTE_BGR && r.getDataBuffer() instanceof DataBufferByte db
                && r.getSampleModelTranslateX() == 0 && r.getSampleModelTranslateY() == 0
                && db.getNumBanks() == 1 && db.getOffset() == 0 && db.getSize() == w * h * 3) {
            byte[] bgr = db.getData();
            for (int i = 0; i < bgr.length; i += 3) {
                out[i] = bgr[i + 2];
                out[i + 1] = bgr[i + 1];
                out[i + 2] = bgr[i];
            }
            return new RgbImage(w, h, out);
        }
        if (cm instanceof IndexColorModel || cm.isAlphaPremultiplied()
                || !(cm instanceof ComponentColorModel || cm instanceof DirectColorModel)
                || !(cm.getNumColorComponents() == 1 || cm.getNumColorComponents() == 3)) {
            // palette, premultiplied, exotic: let the colour model compute ARGB
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                bi.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0, j = y * w * 3; x < w; x++, j += 3) {
                    int p = row[x];
                    out[j] = (byte) (p >> 16);
                    out[j + 1] = (byte) (p >> 8);
                    out[j + 2] = (byte) p;
                }
            }
            return new RgbImage(w, h, out);
        }
        // Direct / component models: take the raw colour samples (no colour management).
        int nc = cm.getNumColorComponents();
        int bands = r.getNumBands();
        boolean floating = r.getTransferType() == DataBuffer.TYPE_FLOAT || r.getTransferType() == DataBuffer.TYPE_DOUBLE;
        long[] max = new long[nc];
        for (int c = 0; c < nc; c++) {
            max[c] = (1L << cm.getComponentSize(c)) - 1;
        }
        int[] px = new int[bands];
        float[] pf = floating ? new float[bands] : null;
        for (int y = 0; y < h; y++) {
            for (int x = 0, j = y * w * 3; x < w; x++, j += 3) {
                if (floating) {
                    r.getPixel(x, y, pf);
                    for (int c = 0; c < 3; c++) {
                        float v = pf[nc == 1 ? 0 : c];
                        out[j + c] = (byte) Math.max(0, Math.min(255, Math.round(v * 255f)));
                    }
                } else {
                    r.getPixel(x, y, px);
                    for (int c = 0; c < 3; c++) {
                        int b = nc == 1 ? 0 : c;
                        out[j + c] = (byte) scale8(px[b] & 0xFFFFFFFFL, max[b]);
                    }
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    private static int scale8(long v, long max) {
        if (max == 255) return (int) v;
        if (v >= max) return 255;
        return (int) ((v * 255 + max / 2) / max);
    }

    // ------------------------------------------------------------------------------------------
    // JPEG: raw raster path (CMYK, YCCK, and 3-channel files whose colour conversion failed)

    private static final String JPEG_NATIVE = "javax_imageio_jpeg_image_1.0";

    private static int jpegComponents(ImageReader reader) {
        Node sof = findJpegMarker(reader, "sof");
        if (sof == null) return 0;
        try {
            return Integer.parseInt(attr(sof, "numFrameComponents"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static Node findJpegMarker(ImageReader reader, String marker) {
        try {
            IIOMetadata md = reader.getImageMetadata(0);
            if (md == null) return null;
            Node root = md.getAsTree(JPEG_NATIVE);
            return find(root, marker);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Node find(Node n, String name) {
        if (name.equals(n.getNodeName())) return n;
        for (Node c = n.getFirstChild(); c != null; c = c.getNextSibling()) {
            Node f = find(c, name);
            if (f != null) return f;
        }
        return null;
    }

    private static String attr(Node n, String name) {
        NamedNodeMap a = n.getAttributes();
        Node v = a == null ? null : a.getNamedItem(name);
        return v == null ? "" : v.getNodeValue();
    }

    private static RgbImage readJpegRaster(ImageReader reader, String name) throws IOException {
        Node adobe = findJpegMarker(reader, "app14Adobe");
        int transform = -1;
        if (adobe != null) {
            try {
                transform = Integer.parseInt(attr(adobe, "transform"));
            } catch (NumberFormatException e) {
                transform = -1;
            }
        }
        boolean jfif = findJpegMarker(reader, "app0JFIF") != null;
        Raster ras = reader.readRaster(0, null);
        int w = ras.getWidth(), h = ras.getHeight(), bands = ras.getNumBands();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int[] px = new int[bands];
        int x0 = ras.getMinX(), y0 = ras.getMinY();
        if (bands == 4) {
            boolean ycck = transform == 2;
            boolean inverted = adobe != null; // Adobe (Photoshop) stores CMYK inverted
            int[] rgb = new int[3];
            for (int y = 0; y < h; y++) {
                for (int x = 0, j = y * w * 3; x < w; x++, j += 3) {
                    ras.getPixel(x0 + x, y0 + y, px);
                    int c = px[0], m = px[1], ye = px[2], k = px[3];
                    if (ycck) {
                        ycc2rgb(c, m, ye, rgb);
                        c = 255 - rgb[0];
                        m = 255 - rgb[1];
                        ye = 255 - rgb[2];
                    }
                    if (inverted) {
                        c = 255 - c;
                        m = 255 - m;
                        ye = 255 - ye;
                        k = 255 - k;
                    }
                    int nk = 255 - k;
                    out[j] = (byte) clip8(nk - mulDiv255(c, nk));
                    out[j + 1] = (byte) clip8(nk - mulDiv255(m, nk));
                    out[j + 2] = (byte) clip8(nk - mulDiv255(ye, nk));
                }
            }
        } else if (bands == 3 || bands == 1) {
            boolean ycc = bands == 3 && (transform == 1 || (transform == -1 && jfif) || (transform == -1 && !rgbIds(reader)));
            int[] rgb = new int[3];
            for (int y = 0; y < h; y++) {
                for (int x = 0, j = y * w * 3; x < w; x++, j += 3) {
                    ras.getPixel(x0 + x, y0 + y, px);
                    if (bands == 1) {
                        rgb[0] = rgb[1] = rgb[2] = px[0];
                    } else if (ycc) {
                        ycc2rgb(px[0], px[1], px[2], rgb);
                    } else {
                        rgb[0] = px[0];
                        rgb[1] = px[1];
                        rgb[2] = px[2];
                    }
                    out[j] = (byte) rgb[0];
                    out[j + 1] = (byte) rgb[1];
                    out[j + 2] = (byte) rgb[2];
                }
            }
        } else {
            throw new IOException(name + ": unsupported JPEG with " + bands + " colour components");
        }
        return new RgbImage(w, h, out);
    }

    /** libjpeg's convention: component ids 'R','G','B' mark an RGB (untransformed) JPEG. */
    private static boolean rgbIds(ImageReader reader) {
        Node sof = findJpegMarker(reader, "sof");
        if (sof == null) return false;
        StringBuilder ids = new StringBuilder();
        for (Node c = sof.getFirstChild(); c != null; c = c.getNextSibling()) {
            if ("componentSpec".equals(c.getNodeName())) {
                try {
                    ids.append((char) Integer.parseInt(attr(c, "componentId")));
                } catch (NumberFormatException e) {
                    return false;
                }
            }
        }
        return ids.toString().equals("RGB");
    }

    private static final int SCALEBITS = 16;
    private static final int ONE_HALF = 1 << (SCALEBITS - 1);

    private static int fix(double x) {
        return (int) (x * (1L << SCALEBITS) + 0.5);
    }

    /** YCbCr to RGB in libjpeg's fixed point (jdcolor.c). */
    static void ycc2rgb(int y, int cb, int cr, int[] rgb) {
        int x = cr - 128, z = cb - 128;
        int crR = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
        int cbB = (fix(1.77200) * z + ONE_HALF) >> SCALEBITS;
        int g = (-fix(0.34414) * z + -fix(0.71414) * x + ONE_HALF) >> SCALEBITS;
        rgb[0] = clip8(y + crR);
        rgb[1] = clip8(y + g);
        rgb[2] = clip8(y + cbB);
    }

    /** Pillow's MULDIV255: a * b / 255, rounded. */
    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    private static int clip8(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }
}
