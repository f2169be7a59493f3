package org.deepfever.faces.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.deepfever.faces.detect.FaceBox;
import org.deepfever.faces.detect.FaceExtractor;
import org.junit.jupiter.api.Test;

/**
 * The crop must reproduce the reference pipeline's Pillow output. References:
 *
 * <ul>
 *   <li>the golden set's {@code faces/00.png} (astronaut, box r=66 c=174 size=96) and
 *       {@code faces/01.png} (messi5.jpg, box r=64 c=247 size=77), made by src-test/reference/faces.py;
 *   <li>{@code pil/*.png}, made by {@code src/test/resources/pil/make_expected.py} with Pillow 9.4.0
 *       from {@code images/astronaut.png} (= skimage.data.astronaut(), a public-domain NASA photo):
 * </ul>
 *
 * <pre>
 * def square_crop(img, r, c, size, margin=1.4, out=140):  # the same arithmetic as src-test/reference/faces.py
 *     cy, cx = r + size / 2, c + size / 2
 *     half = size * margin / 2
 *     box = (int(round(cx - half)), int(round(cy - half)), int(round(cx + half)), int(round(cy + half)))
 *     return img.crop(box).resize((out, out), Image.BILINEAR)
 *
 * src = Image.open("images/astronaut.png").convert("RGB")
 * square_crop(src, -10, -20, 60).save("pil/edge_crop.png")      # box partly outside: black padding
 * square_crop(src, 100, 100, 300).save("pil/big_crop.png")      # 420 px box, 3x down
 * square_crop(src, 200, 300, 20).save("pil/small_crop.png")     # 28 px box, 5x up
 * square_crop(src, 480, 470, 50).save("pil/corner_crop.png")    # bottom-right corner, padded
 * src.crop((5, 7, 42, 30)).resize((61, 17), Image.BILINEAR).save("pil/mixed_61x17.png")
 * src.resize((97, 131), Image.BILINEAR).save("pil/down_97x131.png")
 * src.crop((200, 100, 201, 160)).resize((1, 140), Image.BILINEAR).save("pil/column_1x140.png")
 * </pre>
 *
 * Tolerance: at most 1 level per channel (measured: 0, bit-exact, on every reference).
 */
class FaceCropperTest {

    private static void assertClose(RgbImage want, RgbImage got, String what) {
        assertEquals(want.width(), got.width(), what + " width");
        assertEquals(want.height(), got.height(), what + " height");
        int d = TestData.maxDiff(want, got);
        assertTrue(d <= 1, what + ": max diff " + d + " (" + TestData.diffCount(want, got) + " values differ)");
    }

    @Test
    void astronautCropMatchesFixtureFace00() throws IOException {
        RgbImage src = TestData.resourceImage("/images/astronaut.png");
        RgbImage want = ImageDecoder.decode(TestData.fixture("deepfever-mini/faces/00.png"));
        RgbImage got = FaceCropper.crop(src, 174, 66, 96);
        assertClose(want, got, "astronaut");
        assertEquals(0, TestData.maxDiff(want, got), "bit-exact");
    }

    @Test
    void messiCropMatchesFixtureFace01() throws IOException {
        RgbImage src = TestData.resourceImage("/images/messi5.jpg");
        RgbImage want = ImageDecoder.decode(TestData.fixture("deepfever-mini/faces/01.png"));
        RgbImage got = FaceCropper.crop(src, new FaceBox(247, 64, 77));
        assertClose(want, got, "messi");
        assertEquals(0, TestData.maxDiff(want, got), "bit-exact (ImageIO decodes this JPEG as libjpeg-turbo does)");
    }

    @Test
    void squareCropsMatchPillow() throws IOException {
        RgbImage src = TestData.resourceImage("/images/astronaut.png");
        assertClose(TestData.resourceImage("/pil/edge_crop.png"), FaceCropper.crop(src, -20, -10, 60), "edge");
        assertClose(TestData.resourceImage("/pil/big_crop.png"), FaceCropper.crop(src, 100, 100, 300), "big");
        assertClose(TestData.resourceImage("/pil/small_crop.png"), FaceCropper.crop(src, 300, 200, 20), "small");
        assertClose(TestData.resourceImage("/pil/corner_crop.png"), FaceCropper.crop(src, 470, 480, 50), "corner");
    }

    @Test
    void resizesMatchPillow() throws IOException {
        RgbImage src = TestData.resourceImage("/images/astronaut.png");
        assertClose(TestData.resourceImage("/pil/mixed_61x17.png"),
                FaceCropper.resizeBilinear(FaceCropper.cropPadded(src, 5, 7, 42, 30), 61, 17), "mixed");
        assertClose(TestData.resourceImage("/pil/down_97x131.png"), FaceCropper.resizeBilinear(src, 97, 131), "down");
        assertClose(TestData.resourceImage("/pil/column_1x140.png"),
                FaceCropper.resizeBilinear(FaceCropper.cropPadded(src, 200, 100, 201, 160), 1, 140), "column");
    }

    @Test
    void squareBoxRoundsLikePython() {
        // printed by pil/make_expected.py: c r size -> box
        assertArrayEquals(new int[] {155, 47, 289, 181}, FaceCropper.squareBox(174, 66, 96, 1.4));
        assertArrayEquals(new int[] {232, 49, 339, 156}, FaceCropper.squareBox(247, 64, 77, 1.4));
        assertArrayEquals(new int[] {-32, -22, 52, 62}, FaceCropper.squareBox(-20, -10, 60, 1.4));
        assertArrayEquals(new int[] {0, 0, 1, 1}, FaceCropper.squareBox(0, 0, 1, 1.4));
        assertArrayEquals(new int[] {0, -4, 47, 43}, FaceCropper.squareBox(7, 3, 33, 1.4));
        assertArrayEquals(new int[] {-14, -15, 159, 158}, FaceCropper.squareBox(11, 10, 123, 1.4));
        // half-way cases round to even, as Python's round()
        assertArrayEquals(new int[] {0, 0, 2, 2}, FaceCropper.squareBox(0, 0, 1, 2.0)); // -0.5 -> 0, 1.5 -> 2
    }

    @Test
    void cropOutsideTheImageIsBlack() {
        RgbImage img = new RgbImage(2, 2, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        RgbImage c = FaceCropper.cropPadded(img, -1, 1, 2, 3);
        assertEquals(3, c.width());
        assertEquals(2, c.height());
        assertEquals(0, c.rgbAt(0, 0));
        assertEquals(0x0A0B0C, c.rgbAt(2, 0));
        assertEquals(0x070809, c.rgbAt(1, 0));
        assertEquals(0, c.rgbAt(1, 1));
        RgbImage far = FaceCropper.cropPadded(img, 10, 10, 14, 13);
        assertEquals(0, TestData.maxDiff(far, RgbImage.black(4, 3)));
        assertThrows(IllegalArgumentException.class, () -> FaceCropper.cropPadded(img, 1, 1, 1, 2));
    }

    @Test
    void sameSizeResizeIsACopy() {
        RgbImage img = new RgbImage(1, 1, new byte[] {9, 8, 7});
        RgbImage r = FaceCropper.resizeBilinear(img, 1, 1);
        assertNotSame(img.rgb(), r.rgb());
        assertEquals(img, r);
    }

    @Test
    void inputSizedImagesAreUsedAsTheyAre() throws IOException {
        RgbImage face = ImageDecoder.decode(TestData.fixture("deepfever-mini/faces/03.png"));
        assertTrue(FaceCropper.isInputSized(face));
        List<FaceExtractor.Face> faces = FaceExtractor.frontalFace().faces(face);
        assertEquals(1, faces.size());
        assertNull(faces.get(0).box(), "no detection for a 140x140 input");
        assertSame(face, faces.get(0).crop());
    }
}
