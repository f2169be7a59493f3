package org.deepfever.faces.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.deepfever.faces.image.RgbImage;
import org.deepfever.faces.image.TestData;
import org.junit.jupiter.api.Test;

/**
 * The detector's vector path (VectorStumps, and the even-then-odd column layout of its step-2
 * levels) against its plain twin, the cascade's tree walk (LbpCascade.evaluate on the plain integral
 * image): every window of a photo, noise and a ramp, at widths around the vector length (fewer
 * windows in a row than lanes, exactly as many, one more, odd and even image widths).
 */
class VectorStumpsTest {

    /**
     * Every window of the image: the vector results in the plain layout, and in the split layout
     * (windows at even columns, as a step-2 level searches them, vector and scalar) equal the tree
     * walk's. Returns how many windows pass every stage.
     */
    private static int compareEveryWindow(byte[] g, int w, int h) {
        LbpCascade c = LbpCascade.frontalFace();
        int stride = w + 1, workW = stride - c.windowWidth(), workH = h + 1 - c.windowHeight();
        int[] plain = FaceDetector.integral(g, w, h);
        int[] ofs = c.offsets(stride);
        int lanes = VectorStumps.LANES;
        int[] got = new int[(workW + lanes - 1) / lanes * lanes];

        VectorStumps v = new VectorStumps(c.stumps(stride));
        int[] padded = FaceDetector.integral(g, w, h, lanes);
        int passed = 0;
        for (int y = 0; y < workH; y++) {
            v.evaluate(padded, y * stride, workW, got);
            for (int x = 0; x < workW; x++) {
                int want = c.evaluate(plain, y * stride + x, ofs);
                if (got[x] != want) fail(w + "x" + h + ": window at " + x + "," + y + ": " + got[x] + ", tree walk " + want);
                if (want > 0) passed++;
            }
        }

        int split = (stride + 1) / 2;
        int[] sums = FaceDetector.integralSplit(g, w, h, lanes);
        for (int y = 0; y <= h; y++) {
            for (int col = 0; col <= w; col++) {
                int at = y * stride + ((col & 1) == 0 ? col / 2 : split + col / 2);
                if (sums[at] != plain[y * stride + col]) fail(w + "x" + h + ": split integral, row " + y + " column " + col);
            }
        }
        StumpCascade s = c.stumps(stride, split);
        VectorStumps vs = new VectorStumps(s);
        int n = (workW + 1) / 2;
        for (int y = 0; y < workH; y++) {
            vs.evaluate(sums, y * stride, n, got);
            for (int i = 0; i < n; i++) {
                int want = c.evaluate(plain, y * stride + 2 * i, ofs);
                int scalar = s.evaluate(sums, y * stride + i);
                if (got[i] != want || scalar != want) {
                    fail(w + "x" + h + ": split layout, window at " + 2 * i + "," + y + ": vector " + got[i] + ", scalar " + scalar
                            + ", tree walk " + want);
                }
            }
        }
        return passed;
    }

    @Test
    void everyWindowMatchesTheTreeWalk() throws IOException {
        assumeTrue(VectorSupport.AVAILABLE, "the Vector API (--add-modules jdk.incubator.vector, 256 or 512 bits)");
        RgbImage astronaut = TestData.resourceImage("/images/astronaut.png");
        assertTrue(compareEveryWindow(astronaut.toGray(), astronaut.width(), astronaut.height()) > 0,
                "some windows of a face photo pass every stage");
        Random r = new Random(5);
        int lanes = VectorStumps.LANES;
        // a row of windows is w - 23 long: 1, lanes - 1, lanes, lanes + 1, 2 lanes + 3, ...
        for (int w : new int[] {24, 23 + lanes - 1, 23 + lanes, 23 + lanes + 1, 23 + 2 * lanes + 3, 101}) {
            for (int h : new int[] {24, 31}) {
                byte[] g = new byte[w * h];
                r.nextBytes(g);
                compareEveryWindow(g, w, h);
            }
        }
        byte[] ramp = new byte[80 * 50]; // smooth: many equal block sums (the >= ties)
        for (int i = 0; i < ramp.length; i++) ramp[i] = (byte) ((i % 80) / 8);
        compareEveryWindow(ramp, 80, 50);
    }

    /** The pyramid's resize with its vertical pass on vectors and without: the same bytes, at widths around the vector length. */
    @Test
    void resizeMatchesTheScalarPass() throws IOException {
        assumeTrue(VectorSupport.AVAILABLE, "the Vector API (--add-modules jdk.incubator.vector, 256 or 512 bits)");
        RgbImage messi = TestData.resourceImage("/images/messi5.jpg");
        Random r = new Random(9);
        int lanes = VectorStumps.LANES;
        List<byte[]> images = new ArrayList<>();
        List<int[]> sizes = new ArrayList<>();
        images.add(messi.toGray());
        sizes.add(new int[] {messi.width(), messi.height()});
        for (int[] wh : new int[][] {{lanes - 1, 5}, {lanes + 1, 7}, {2 * lanes + 3, 40}, {97, 61}}) {
            byte[] g = new byte[wh[0] * wh[1]];
            r.nextBytes(g);
            images.add(g);
            sizes.add(wh);
        }
        for (int i = 0; i < images.size(); i++) {
            int sw = sizes.get(i)[0], sh = sizes.get(i)[1];
            for (double f = 1; sw / f >= 1 && sh / f >= 1; f *= 1.1) {
                int dw = (int) Math.rint(sw / f), dh = (int) Math.rint(sh / f);
                byte[] want = FaceDetector.resizeLinearExact(images.get(i), sw, sh, dw, dh, false);
                byte[] got = FaceDetector.resizeLinearExact(images.get(i), sw, sh, dw, dh, true);
                for (int k = 0; k < want.length; k++) {
                    if (got[k] != want[k]) fail(sw + "x" + sh + " -> " + dw + "x" + dh + ": pixel " + k + ": " + got[k] + ", scalar " + want[k]);
                }
            }
        }
    }

    /**
     * A library user's JVM without the incubator module: the detector takes its scalar path (no
     * NoClassDefFoundError) and finds the same windows.
     */
    @Test
    void withoutTheVectorModuleTheScalarPathGivesTheSameWindows() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        List<String> flags = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (int i = 0; i < flags.size(); i++) {
            String a = flags.get(i);
            if (a.equals("--add-modules") && i + 1 < flags.size() && flags.get(i + 1).equals("jdk.incubator.vector")) {
                i++;
            } else if (!a.startsWith("--add-modules=jdk.incubator.vector") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Windows.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the child JVM did not end");
        assertEquals(0, p.exitValue(), said);
        RgbImage img = TestData.resourceImage("/images/messi5.jpg");
        FaceDetector d = FaceDetector.frontalFace();
        assertEquals("vectors false\n" + Windows.text(d.candidatesReference(img.toGray(), img.width(), img.height())), said);
    }

    /** Run by the test above in a JVM without the Vector API: prints whether it is used, then messi5.jpg's windows. */
    static final class Windows {
        public static void main(String[] args) throws IOException {
            RgbImage img = TestData.resourceImage("/images/messi5.jpg");
            List<int[]> w = FaceDetector.frontalFace().candidates(img.toGray(), img.width(), img.height());
            System.out.print("vectors " + VectorSupport.AVAILABLE + "\n" + text(w));
        }

        static String text(List<int[]> windows) {
            StringBuilder b = new StringBuilder();
            for (int[] r : windows) b.append(r[0]).append(',').append(r[1]).append(',').append(r[2]).append(',').append(r[3]).append('\n');
            return b.toString();
        }
    }
}
