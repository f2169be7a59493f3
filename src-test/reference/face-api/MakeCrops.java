import java.awt.image.BufferedImage;
import java.io.File;
import javax.imageio.ImageIO;

/**
 * Makes the face crops the goldens are computed on, from images already in the repository (run
 * from this folder: {@code java MakeCrops.java}). The crops are committed: they, not this program,
 * are the test inputs (a JPEG decoder may differ between JDKs; the PNG crops do not).
 * Each crop: name, source image, x, y, width, height.
 */
public class MakeCrops {
    static final Object[][] CROPS = {
        // samples/*-crop.png as they are: 140x140, so resized 140 -> 112
        {"astronaut-crop", "../../../samples/astronaut-crop.png", 0, 0, 140, 140},
        {"messi-crop", "../../../samples/messi-crop.png", 0, 0, 140, 140},
        // exactly 112x112: no resize at all
        {"astronaut-112", "../../../faces/src/test/resources/images/astronaut.png", 170, 60, 112, 112},
        // taller than wide, odd difference (19): padded 9 left, 10 right, then resized 190 -> 112
        {"astronaut-tall", "../../../faces/src/test/resources/images/astronaut.png", 140, 30, 171, 190},
        // wider than tall (90): padded 45 above and below, then resized 240 -> 112
        {"astronaut-wide", "../../../faces/src/test/resources/images/astronaut.png", 120, 50, 240, 150},
        // small and not square (13): padded, then enlarged 77 -> 112
        {"two-faces-left", "../../../faces/src/test/resources/images/two_faces.png", 42, 58, 64, 77},
        {"two-faces-right", "../../../faces/src/test/resources/images/two_faces.png", 265, 40, 110, 130},
        // a small face in a photo (JPEG source): 72x66, enlarged
        {"messi5-face", "../../../samples/messi5.jpg", 200, 58, 72, 66},
    };

    public static void main(String[] args) throws Exception {
        new File("crops").mkdirs();
        for (Object[] c : CROPS) {
            BufferedImage src = ImageIO.read(new File((String) c[1]));
            int x = (int) c[2], y = (int) c[3], w = (int) c[4], h = (int) c[5];
            BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int j = 0; j < h; j++) {
                for (int i = 0; i < w; i++) out.setRGB(i, j, src.getRGB(x + i, y + j) & 0xffffff);
            }
            ImageIO.write(out, "png", new File("crops/" + c[0] + ".png"));
            System.out.println(c[0] + ": " + w + "x" + h);
        }
    }
}
