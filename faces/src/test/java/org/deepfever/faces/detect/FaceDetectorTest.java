package org.deepfever.faces.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.deepfever.faces.image.FaceCropper;
import org.deepfever.faces.image.RgbImage;
import org.deepfever.faces.image.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The detector against OpenCV 4.6 itself: {@code opencv/detections.txt} holds
 * {@code cv2.CascadeClassifier.detectMultiScale} results (minSize 30, scale 1.1 and 1.2,
 * minNeighbors 0 = raw windows, 3 and 5), made by {@code src/test/resources/opencv/make_reference.py}:
 *
 * <pre>
 * cascade = cv2.CascadeClassifier(".../org/deepfever/faces/detect/lbpcascade_frontalface.xml")
 * gray = cv2.cvtColor(np.asarray(Image.open(path).convert("RGB")), cv2.COLOR_RGB2GRAY)
 * for sf in (1.1, 1.2):
 *     for mn in (0, 3, 5):
 *         rects = cascade.detectMultiScale(gray, scaleFactor=sf, minNeighbors=mn, minSize=(30, 30))
 *         print(name, sf, mn, " ".join("%d,%d,%d,%d" % r for r in sorted(map(tuple, rects))))
 * </pre>
 *
 * Images: {@code images/messi5.jpg} (OpenCV's sample), {@code images/astronaut.png}
 * (skimage.data.astronaut(), a public-domain NASA photo) and {@code images/two_faces.png}, composed
 * with Pillow for end-to-end tests: a 445 x 240 canvas of grey (128, 128, 128) with messi5.jpg's
 * box (180, 20, 360, 190) pasted at (20, 20) and astronaut's box (120, 20, 330, 220) pasted at
 * (220, 20). {@code images/chelsea.png} (scikit-image's "chelsea", a cat, CC0) has no human face:
 * OpenCV finds raw windows in it but no group of 3 or more. Sources and licences:
 * {@code images/NOTICE}.
 */
class FaceDetectorTest {

    private static RgbImage messi, astronaut, twoFaces, chelsea;

    @BeforeAll
    static void load() throws IOException {
        messi = TestData.resourceImage("/images/messi5.jpg");
        astronaut = TestData.resourceImage("/images/astronaut.png");
        twoFaces = TestData.resourceImage("/images/two_faces.png");
        chelsea = TestData.resourceImage("/images/chelsea.png");
    }

    private static RgbImage image(String name) {
        return switch (name) {
            case "messi5.jpg" -> messi;
            case "astronaut.png" -> astronaut;
            case "two_faces.png" -> twoFaces;
            case "chelsea.png" -> chelsea;
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static String key(int x, int y, int w, int h) {
        return x + "," + y + "," + w + "," + h;
    }

    private static List<String> sorted(List<String> l) {
        List<String> s = new ArrayList<>(l);
        s.sort((a, b) -> Arrays.compare(Arrays.stream(a.split(",")).mapToInt(Integer::parseInt).toArray(),
                Arrays.stream(b.split(",")).mapToInt(Integer::parseInt).toArray()));
        return s;
    }

    @Test
    void rawWindowsAndGroupsAreOpenCvs() {
        String ref = new String(TestData.resource("/opencv/detections.txt"), StandardCharsets.UTF_8);
        int lines = 0;
        for (String line : ref.split("\n")) {
            if (line.isBlank()) continue;
            String[] f = line.trim().split(" ");
            RgbImage img = image(f[0]);
            double sf = Double.parseDouble(f[1]);
            int mn = Integer.parseInt(f[2]);
            List<String> want = sorted(Arrays.asList(f).subList(3, f.length));
            FaceDetector d = FaceDetector.frontalFace().withOptions(new FaceDetector.Options(sf, mn, 30, 0));
            List<String> got = new ArrayList<>();
            if (mn == 0) {
                for (int[] r : d.candidates(img.toGray(), img.width(), img.height())) got.add(key(r[0], r[1], r[2], r[3]));
            } else {
                for (FaceBox b : d.detect(img)) got.add(key(b.x(), b.y(), b.size(), b.size()));
            }
            assertEquals(want, sorted(got), line.substring(0, Math.min(line.length(), 40)));
            lines++;
        }
        assertEquals(24, lines);
    }

    private static void assertNear(FaceBox want, FaceBox got) {
        assertNotNull(got);
        assertTrue(want.iou(got) >= 0.5, got + " vs expected " + want + ": IoU " + want.iou(got));
    }

    @Test
    void messiHasExactlyOneFace() {
        List<FaceBox> faces = FaceDetector.frontalFace().detect(messi);
        assertEquals(1, faces.size(), faces.toString());
        assertNear(new FaceBox(247, 64, 77), faces.get(0)); // the golden crop's box (src-test/reference/faces.py): row 64, column 247
    }

    @Test
    void astronautHasExactlyOneFace() {
        List<FaceBox> faces = FaceDetector.frontalFace().detect(astronaut);
        assertEquals(1, faces.size(), faces.toString());
        assertNear(new FaceBox(174, 66, 96), faces.get(0)); // the golden crop's box (src-test/reference/faces.py): row 66, column 174
    }

    @Test
    void composedPhotoHasTwoFacesLeftToRight() {
        List<FaceBox> faces = FaceDetector.frontalFace().detect(twoFaces);
        assertEquals(2, faces.size(), faces.toString());
        assertNear(new FaceBox(247 - 180 + 20, 64 - 20 + 20, 77), faces.get(0));
        assertNear(new FaceBox(174 - 120 + 220 + 0, 66 - 20 + 20, 96), faces.get(1));
        List<FaceExtractor.Face> crops = FaceExtractor.frontalFace().faces(twoFaces);
        assertEquals(2, crops.size());
        for (FaceExtractor.Face f : crops) {
            assertNotNull(f.box());
            assertEquals(FaceCropper.INPUT_SIZE, f.crop().width());
            assertEquals(FaceCropper.INPUT_SIZE, f.crop().height());
        }
    }

    @Test
    void photoWithoutAFaceHasNoFaces() {
        assertEquals(List.of(), FaceDetector.frontalFace().detect(chelsea));
        assertEquals(List.of(), FaceExtractor.frontalFace().faces(chelsea));
    }

    @Test
    void blankAndNoiseImagesHaveNoFaces() {
        FaceDetector d = FaceDetector.frontalFace();
        for (int grey : new int[] {0, 128, 255}) {
            byte[] px = new byte[320 * 240 * 3];
            Arrays.fill(px, (byte) grey);
            assertEquals(List.of(), d.detect(new RgbImage(320, 240, px)), "blank " + grey);
        }
        Random r = new Random(5);
        for (int i = 0; i < 2; i++) {
            byte[] px = new byte[320 * 240 * 3];
            r.nextBytes(px);
            assertEquals(List.of(), d.detect(new RgbImage(320, 240, px)), "noise " + i);
            assertEquals(List.of(), d.withOptions(FaceDetector.Options.DEFAULT.withMinNeighbors(3))
                    .detect(new RgbImage(320, 240, px)), "noise " + i + " with OpenCV's 3 neighbours");
        }
    }

    @Test
    void imagesSmallerThanTheMinimumSizeHaveNoFaces() {
        FaceDetector d = FaceDetector.frontalFace();
        assertEquals(List.of(), d.detect(RgbImage.black(29, 200)));
        assertEquals(List.of(), d.detect(RgbImage.black(1, 1)));
        assertEquals(List.of(), d.withOptions(FaceDetector.Options.DEFAULT.withMinSize(0)).detect(RgbImage.black(23, 23)));
    }

    @Test
    void exactHalvingIsTheTwoByTwoMean() {
        Random r = new Random(1);
        byte[] src = new byte[10 * 6];
        r.nextBytes(src);
        byte[] half = FaceDetector.resizeLinearExact(src, 10, 6, 5, 3);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 5; x++) {
                int s = (src[2 * y * 10 + 2 * x] & 0xFF) + (src[2 * y * 10 + 2 * x + 1] & 0xFF)
                        + (src[(2 * y + 1) * 10 + 2 * x] & 0xFF) + (src[(2 * y + 1) * 10 + 2 * x + 1] & 0xFF);
                assertEquals((s + 2) >> 2, half[y * 5 + x] & 0xFF, x + "," + y);
            }
        }
    }

    @Test
    void groupingFollowsOpenCv() {
        List<int[]> rects = new ArrayList<>();
        for (int i = 0; i < 4; i++) rects.add(new int[] {100 + i, 50, 40, 40}); // 4 similar: kept
        for (int i = 0; i < 3; i++) rects.add(new int[] {300, 10 + i, 30, 30}); // 3 similar: dropped at 3
        rects.add(new int[] {105, 55, 20, 20}); // lone small window
        List<FaceBox> g = FaceDetector.groupRectangles(rects, 3, 0.2);
        assertEquals(List.of(new FaceBox(102, 50, 40, 4)), g); // mean of 100..103 = 101.5 -> 102 (half to even)
        assertEquals(8, FaceDetector.groupRectangles(rects, 0, 0.2).size(), "threshold 0 keeps every window");
        // a smaller, weaker group inside a bigger one is dropped
        List<int[]> nested = new ArrayList<>();
        for (int i = 0; i < 6; i++) nested.add(new int[] {100, 100 + i, 100, 100});
        for (int i = 0; i < 4; i++) nested.add(new int[] {130 + i, 130, 30, 30});
        assertEquals(1, FaceDetector.groupRectangles(nested, 3, 0.2).size());
        assertTrue(FaceDetector.similar(new int[] {0, 0, 50, 50}, new int[] {10, 10, 50, 50}, 0.2));
        assertTrue(!FaceDetector.similar(new int[] {0, 0, 50, 50}, new int[] {11, 0, 50, 50}, 0.2));
    }

    @Test
    void boxesReachingPastTheEdgeAreMovedInside() {
        // a window rounded from a pyramid level can end a pixel past the image (a fuzzing finding:
        // x=103, size=41 in a 143-pixel-wide image; the input is kept as finding-box-past-right-edge)
        assertEquals(new FaceBox(102, 17, 41, 1), FaceDetector.insideImage(new FaceBox(103, 17, 41, 1), 143, 77));
        assertEquals(new FaceBox(0, 0, 77, 2), FaceDetector.insideImage(new FaceBox(-3, 5, 90, 2), 143, 77));
        FaceBox inside = new FaceBox(10, 10, 20, 1);
        assertSame(inside, FaceDetector.insideImage(inside, 143, 77));
    }
}
