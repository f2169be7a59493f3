package org.deepfever.kernels.simd.conv;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.Conv2d;
import org.deepfever.kernels.TestSupport;
import org.deepfever.kernels.reference.ReferenceBackend;
import org.deepfever.kernels.simd.KernelConfig;
import org.deepfever.kernels.simd.Simd;
import org.deepfever.kernels.simd.SimdBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SIMD convolution against the reference backend, each case in both orientations (pixel-vector
 * and channel-vector, the latter with narrow and wide channel panels, forced) and as the backend
 * would choose, on 1, 2 and 3 threads.
 *
 * <p>Tolerance: |simd - ref| <= 1e-4 + 1e-4 * M, where M = sum over the window of |w * x| (+ |bias|
 * + |residual|) for that output element, computed by the reference conv on absolute values. This
 * bounds float32 accumulation error regardless of cancellation.
 */
public class SimdConvTest {
    static final float ABS = 1e-4f, REL = 1e-4f;
    static final ReferenceBackend REF = new ReferenceBackend();
    static final SimdBackend SIMD = new SimdBackend();
    static final ThreadPool POOL3 = new ThreadPool(3);
    static final ThreadPool POOL1 = new ThreadPool(1);
    /** This JVM's config, every call split over the threads however small. */
    static final KernelConfig SPLIT = KernelConfig.current().with("parallelMinMacs=0");
    /** This JVM's config, Winograd on every map size. */
    static final KernelConfig WINOGRAD_ANY = KernelConfig.current().with("winogradMinPixels=0");

    /** The direct conv with an orientation forced: 0 pixel-vector, 1 channel-vector, 2 wide panels, 3 five-vector panels. */
    static ConvKernel forced(Conv2d c, int orientation) {
        ConvPlan.Forced f = switch (orientation) {
            case 0 -> ConvPlan.Forced.PIXEL_VECTOR;
            case 1 -> ConvPlan.Forced.CHANNEL_VECTOR;
            case 2 -> ConvPlan.Forced.CHANNEL_VECTOR_WIDE;
            case 3 -> ConvPlan.Forced.CHANNEL_VECTOR_FIVE;
            default -> throw new IllegalArgumentException("orientation " + orientation);
        };
        return new ConvKernel(c, SPLIT, f, false);
    }

    /**
     * The wide panels with the other 5-pixel tile rule than this CPU's ({@link KernelConfig#fivePixelTiles()}),
     * so that both rules run on every machine.
     */
    static ConvKernel wideOtherPixelRule(Conv2d c) {
        return new ConvKernel(c, SPLIT.with("fivePixelTiles=" + (1 - SPLIT.fivePixelTiles())), ConvPlan.Forced.CHANNEL_VECTOR_WIDE, false);
    }

    /** Winograd with {@code nv}-vector panels on every map size. */
    static WinogradConv winograd(Conv2d c, int nv) { return new WinogradConv(c, WINOGRAD_ANY, nv, false); }

    @AfterAll
    static void close() {
        POOL3.close();
        POOL1.close();
    }

    /** One test case: input [n,cin,h,w], kernel, strides, pads (t,l,b,r), dilation, epilogue, slicing. */
    record Case(String name, int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw,
                int pt, int pl, int pb, int pr, int dh, int dw, boolean bias, Activation act, boolean residual, boolean sliced) {
        @Override public String toString() { return name; }
    }

    static Stream<Case> cases() {
        List<Case> c = new ArrayList<>();
        Activation N = Activation.NONE, R = Activation.RELU;
        c.add(new Case("1x1 cin7 5x5 cout3", 1, 7, 5, 5, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, false, N, false, false));
        c.add(new Case("1x1 cin33 9x13 cout13 bias relu b2 sliced", 2, 33, 9, 13, 13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, R, false, true));
        c.add(new Case("1x1 cin16 8x8 cout16 (no pixel tail) b2", 2, 16, 8, 8, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, N, false, false));
        c.add(new Case("1x1 cin96 7x7 cout64 bias relu", 1, 96, 7, 7, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, R, false, true));
        c.add(new Case("1x1 cin40 3x3 cout35 residual relu b3 sliced", 3, 40, 3, 3, 35, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, R, true, true));
        c.add(new Case("1x1 stride2 cin9 11x11 cout10", 1, 9, 11, 11, 10, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, true, N, false, false));
        c.add(new Case("1x1 pad1 cin5 4x6 cout7", 1, 5, 4, 6, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, N, false, false));
        c.add(new Case("3x3 pad1 cin3 11x11 cout7 relu", 1, 3, 11, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, R, false, false));
        c.add(new Case("3x3 s2 cin5 15x15 cout33", 1, 5, 15, 15, 33, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, true, N, false, false));
        c.add(new Case("3x3 s2 pad1 cin6 16x16 cout12 b2 sliced", 2, 6, 16, 16, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, R, false, true));
        c.add(new Case("1x7 cin8 7x7 cout12 pad(0,3)", 1, 8, 7, 7, 12, 1, 7, 1, 1, 0, 3, 0, 3, 1, 1, true, R, false, false));
        c.add(new Case("7x1 cin12 7x7 cout9 pad(3,0) b2 sliced", 2, 12, 7, 7, 9, 7, 1, 1, 1, 3, 0, 3, 0, 1, 1, true, R, false, true));
        c.add(new Case("1x3 cin10 3x3 cout14 pad(0,1)", 1, 10, 3, 3, 14, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1, true, R, false, false));
        c.add(new Case("3x1 cin14 3x3 cout10 pad(1,0) residual", 1, 14, 3, 3, 10, 3, 1, 1, 1, 1, 0, 1, 0, 1, 1, true, N, true, false));
        c.add(new Case("3x2 asym pad t0 l1 b2 r0 stride(2,1)", 1, 4, 9, 10, 8, 3, 2, 2, 1, 0, 1, 2, 0, 1, 1, true, N, false, false));
        c.add(new Case("5x5 stride(1,3) pad(2,0,1,4) cin3 cout5", 2, 3, 12, 13, 5, 5, 5, 1, 3, 2, 0, 1, 4, 1, 1, true, R, false, true));
        c.add(new Case("3x3 dilation 2 pad2 cin4 10x9 cout6", 1, 4, 10, 9, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, true, N, false, false));
        c.add(new Case("3x3 pad1 cin32 15x15 cout32 residual relu sliced", 1, 32, 15, 15, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, R, true, true));
        c.add(new Case("3x3 cin64 33x33 cout20 (several im2col blocks)", 1, 64, 33, 33, 20, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, true, R, false, false));
        c.add(new Case("3x3 pad1 cin7 1x1 cout5 (tiny)", 1, 7, 1, 1, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, N, false, false));
        c.add(new Case("3x3 cin32 29x29 cout32 b3 residual relu sliced", 3, 32, 29, 29, 32, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, true, R, true, true));
        c.add(new Case("3x3 pad1 cin5 26x25 cout19 b2 (odd cout)", 2, 5, 26, 25, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, N, false, false));
        c.add(new Case("3x3 s2 cin3 41x44 cout13 b2 sliced (vector stride-2 im2col)", 2, 3, 41, 44, 13, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, true, R, false, true));
        c.add(new Case("3x3 s2 pad1 cin2 37x70 cout7 (stride-2 im2col to the array end)", 1, 2, 37, 70, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, N, false, false));
        c.add(new Case("1x1 cin150 3x3 cout70 residual relu b2 sliced (tile pairs, 3 k-blocks)", 2, 150, 3, 3, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, R, true, true));
        c.add(new Case("3x3 pad1 cin20 3x3 cout66 (tile pairs, padded, k=180)", 1, 20, 3, 3, 66, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, N, false, false));
        c.add(new Case("3x3 s2 cin7 16x16 cout40 b2 sliced (input read in place, last row/column unused)", 2, 7, 16, 16, 40, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, true, R, false, true));
        c.add(new Case("3x3 dilation 2 cin4 11x12 cout36 (in place, dilated)", 1, 4, 11, 12, 36, 3, 3, 1, 1, 0, 0, 0, 0, 2, 2, true, N, false, false));
        c.add(new Case("3x3 s2 cin3 23x23 cout32 b3 (stem-like)", 3, 3, 23, 23, 32, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, true, R, false, false));
        // tap ranges (padded taps skipped per tile): column-major 1xN tiles with residual and slices,
        // pixels whose window holds padding only, dilated and strided 1xN windows, a 3x3 with rows skipped
        c.add(new Case("1x7 cin20 7x7 cout66 pad(0,3) residual relu b2 sliced (column tiles)", 2, 20, 7, 7, 66, 1, 7, 1, 1, 0, 3, 0, 3, 1, 1, true, R, true, true));
        c.add(new Case("3x3 pad3 cin5 2x3 cout9 (pixels reading padding only)", 1, 5, 2, 3, 9, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1, true, N, false, false));
        c.add(new Case("1x5 stride(1,2) dilation(1,2) pad(0,4) cin6 5x9 cout17 b2", 2, 6, 5, 9, 17, 1, 5, 1, 2, 0, 4, 0, 4, 1, 2, true, R, false, false));
        c.add(new Case("5x1 pad(4,0) cin9 6x4 cout33 residual (rows reading padding only)", 1, 9, 6, 4, 33, 5, 1, 1, 1, 4, 0, 4, 0, 1, 1, true, N, true, false));
        // larger maps with narrow panels: ragged last tile, fused ReLU store, column-major 1xN tiles
        // with residual, padded and in-place inputs, batch > 1
        c.add(new Case("3x3 pad1 cin11 13x14 cout30 relu b2 sliced (ragged tiles)", 2, 11, 13, 14, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, R, false, true));
        c.add(new Case("1x7 cin9 15x17 cout20 pad(0,3) residual relu b2 (column tiles, 15x17)", 2, 9, 15, 17, 20, 1, 7, 1, 1, 0, 3, 0, 3, 1, 1, true, R, true, false));
        c.add(new Case("1x1 cin37 12x12 cout32 relu b3 (whole tiles)", 3, 37, 12, 12, 32, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, R, false, false));
        // K in blocks (1x1, 128 < K <= 256, one image, channels-last): whole and tail blocks, residual, a partial panel
        c.add(new Case("1x1 cin200 6x6 cout128 relu (K blocks)", 1, 200, 6, 6, 128, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, R, false, false));
        c.add(new Case("1x1 cin150 7x7 cout70 residual relu sliced (K blocks, partial panel)", 1, 150, 7, 7, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, R, true, true));
        // batch-wide tiles (maps up to 64 pixels, batch > 1): tiles straddling images, K > 64, residual
        c.add(new Case("1x1 cin200 7x7 cout128 residual relu b3 (batch-wide tiles)", 3, 200, 7, 7, 128, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, R, true, false));
        c.add(new Case("3x3 s2 cin20 7x7 cout64 relu b4 sliced (batch-wide tiles, in place)", 4, 20, 7, 7, 64, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, true, R, false, true));
        // sliding 3-wide tiles (narrow panels, stride 1 across): rows of 15 (5-pixel tiles), rows of 20
        // (6-pixel tiles, some crossing rows: the plain tile), stride 2 down, dilation 2 down, batch > 1
        c.add(new Case("3x3 pad1 cin9 10x15 cout32 relu b2 sliced (sliding, 5-pixel tiles)", 2, 9, 10, 15, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, R, false, true));
        c.add(new Case("3x3 cin7 12x17 cout30 residual b2 (sliding, in place, 5-pixel tiles)", 2, 7, 12, 17, 30, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, true, N, true, false));
        c.add(new Case("3x3 pad1 cin5 9x20 cout20 relu (sliding, 6-pixel tiles, rows of 20)", 1, 5, 9, 20, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, R, false, false));
        c.add(new Case("3x3 stride(2,1) dilation(2,1) pad(2,1) cin6 13x15 cout17 b2 (sliding rows, strided and dilated down)", 2, 6, 13, 15, 17, 3, 3, 2, 1, 2, 1, 2, 1, 2, 1, true, R, false, false));
        c.add(new Case("3x3 pad1 cin65 11x15 cout64 relu b2 sliced (wide sliding tiles)", 2, 65, 11, 15, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, R, false, true));
        // Cout of five vectors at 16 lanes (four-pixel tiles, one panel; conv2d_3b-like), and a ragged one
        c.add(new Case("1x1 cin64 9x11 cout80 relu b2 sliced (five-vector panels, 99 pixels)", 2, 64, 9, 11, 80, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, R, false, true));
        c.add(new Case("1x1 cin13 7x5 cout75 residual b3 (five-vector panels, across images)", 3, 13, 7, 5, 75, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, N, true, false));
        c.add(new Case("3x3 cin70 13x13 cout128 residual (wide sliding, in place, rows of 11: some tiles cross)", 1, 70, 13, 13, 128, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, true, N, true, false));
        // Winograd F(2x2, 3x3) at the stem's shapes (conv2d_4a, conv2d_2b) and with odd edges: ragged
        // last block, odd output sizes (half-used edge tiles), asymmetric padding, Cin and Cout tails
        c.add(new Case("3x3 cin80 23x23 cout192 relu (conv2d_4a-like, winograd)", 1, 80, 23, 23, 192, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, false, R, false, false));
        c.add(new Case("3x3 pad1 cin32 17x18 cout64 relu b2 sliced (conv2d_2b-like, winograd)", 2, 32, 17, 18, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, R, false, true));
        c.add(new Case("3x3 pad1 cin20 7x7 cout130 relu (winograd: 3 blocks; direct on more threads)", 1, 20, 7, 7, 130, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, R, false, false));
        c.add(new Case("3x3 pad(1,0,2,1) cin37 12x11 cout60 b3 (winograd, asymmetric pad, tails)", 3, 37, 12, 11, 60, 3, 3, 1, 1, 1, 0, 2, 1, 1, 1, true, N, false, false));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReference(Case k) {
        Random rnd = new Random(k.name().hashCode());
        Tensor w = TestSupport.random(rnd, k.cout(), k.cin(), k.kh(), k.kw());
        Tensor b = k.bias() ? TestSupport.random(rnd, k.cout()) : null;
        Conv2d conv = new Conv2d(w, b, k.sh(), k.sw(), k.pt(), k.pl(), k.pb(), k.pr(), k.dh(), k.dw(), 1, k.act(), k.residual());
        assertTrue(SIMD.supports(conv));
        Tensor x = TestSupport.random(rnd, k.n(), k.cin(), k.h(), k.w());
        Shape outShape = conv.withResidual(false).outputShape(x.shape());
        Tensor res = k.residual() ? TestSupport.random(rnd, outShape.dims()) : null;
        Tensor[] in = res == null ? new Tensor[] {x} : new Tensor[] {x, res};

        Tensor expected = Tensor.zeros(outShape.dims());
        TestSupport.run(REF.prepare(conv), in, expected);
        Tensor magnitude = magnitude(conv, x, res, outShape);

        // the backend's own choice, then each orientation forced, always split over the threads
        List<Kernel> kernelList = new ArrayList<>(List.of(SIMD.prepare(conv), forced(conv, 0), forced(conv, 1),
                forced(conv, 2), forced(conv, 3), wideOtherPixelRule(conv)));
        List<String> kindList = new ArrayList<>(List.of("chosen", "pixel-vector", "channel-vector", "channel-vector wide", "channel-vector five",
                "channel-vector wide, other 5-pixel rule"));
        if (!Simd.SCALAR && ConvPlan.winogradShape(ConvSpec.of(conv)) && !conv.residual()) { // on every map size, whatever Cout
            kernelList.add(winograd(conv, ConvPlan.NRW));
            kindList.add("winograd 4-vector panels");
            kernelList.add(winograd(conv, ConvPlan.NR));
            kindList.add("winograd 2-vector panels");
        }
        Kernel[] kernels = kernelList.toArray(Kernel[]::new);
        String[] kinds = kindList.toArray(String[]::new);
        for (int ki = 0; ki < kernels.length; ki++)
        for (ThreadPool pool : new ThreadPool[] {POOL1, TestSupport.POOL, POOL3}) {
            Kernel simd = kernels[ki];
            Tensor[] sin = in;
            Tensor out;
            if (k.sliced()) {
                sin = new Tensor[in.length];
                sin[0] = TestSupport.slicedCopy(x, 3, 2, Float.NaN);
                if (res != null) sin[1] = TestSupport.slicedCopy(res, 1, 4, Float.NaN);
                out = TestSupport.sliced(outShape.dims(), 5, 3, -7f);
            } else {
                out = Tensor.zeros(outShape.dims());
            }
            runOn(pool, simd, sin, out);
            assertClose(k.name() + " " + kinds[ki] + " threads=" + pool.threads(), expected, out, magnitude, ABS, REL);
            if (k.sliced()) TestSupport.assertOutsideUntouched(out, -7f);
        }
        // Channels-last tensors, where the kernel declares it takes them: all channels-last, then the
        // mixed layouts the executor avoids but the kernel must still get right.
        for (int ki = 0; ki < kernels.length; ki++) {
            Shape[] inShapes = res == null ? new Shape[] {x.shape()} : new Shape[] {x.shape(), res.shape()};
            if (!kernels[ki].acceptsChannelsLast(0, inShapes, outShape)) continue;
            assertTrue(kernels[ki].writesChannelsLast(inShapes, outShape), "accepts channels-last input but cannot write it");
            for (int layout = 0; layout < 4; layout++) {
                boolean xCl = layout != 1, oCl = layout != 2, rCl = layout == 0 || layout == 2;
                Tensor[] sin = new Tensor[in.length];
                sin[0] = xCl ? TestSupport.channelsLastCopy(x, 3, layout, Float.NaN) : x;
                if (res != null) sin[1] = rCl ? TestSupport.channelsLastCopy(res, 1, 2, Float.NaN) : res;
                Tensor out = oCl ? TestSupport.channelsLast(outShape.dims(), 2, 5, -7f) : TestSupport.sliced(outShape.dims(), 1, 1, -7f);
                runOn(POOL3, kernels[ki], sin, out);
                String what = k.name() + " " + kinds[ki] + " channels-last x=" + xCl + " out=" + oCl + (res == null ? "" : " res=" + rCl);
                assertClose(what, expected, out, magnitude, ABS, REL);
                TestSupport.assertOutsideUntouched(out, -7f);
            }
        }
        // Written in place over the residual (the executor's in-place residual layout: output and
        // residual are one view): NCHW for every kernel, channels-last where the kernel takes it;
        // the wide tiles then start from the residual (t6x4Acc, t5x4Acc).
        if (res != null) {
            for (int ki = 0; ki < kernels.length; ki++) {
                Shape[] inShapes = {x.shape(), res.shape()};
                boolean cl = kernels[ki].acceptsChannelsLast(0, inShapes, outShape);
                for (int layout = 0; layout < (cl ? 2 : 1); layout++) {
                    Tensor both = layout == 0 ? TestSupport.slicedCopy(res, 1, 2, Float.NaN) : TestSupport.channelsLastCopy(res, 1, 2, Float.NaN);
                    Tensor xin = layout == 0 ? x : TestSupport.channelsLastCopy(x, 3, 0, Float.NaN);
                    runOn(POOL3, kernels[ki], new Tensor[] {xin, both}, both);
                    assertClose(k.name() + " " + kinds[ki] + " in place over the residual" + (layout == 1 ? ", channels-last" : ""),
                            expected, both, magnitude, ABS, REL);
                }
            }
        }
        // The reference itself must also honour slices.
        if (k.sliced()) {
            Tensor out = TestSupport.sliced(outShape.dims(), 2, 1, -7f);
            Tensor[] sin = {TestSupport.slicedCopy(x, 1, 1, Float.NaN)};
            if (res != null) sin = new Tensor[] {sin[0], TestSupport.slicedCopy(res, 2, 0, Float.NaN)};
            TestSupport.run(REF.prepare(conv), sin, out);
            assertClose(k.name() + " reference on slices", expected, out, magnitude, 0f, 1e-6f);
            TestSupport.assertOutsideUntouched(out, -7f);
        }
    }

    /**
     * A conv's output scale (a folded BatchNorm or residual scale, kept apart from mapped weights)
     * must act exactly as weights multiplied by it: every orientation of the SIMD kernel and the
     * reference, bit for bit against the same conv built from pre-multiplied weights.
     */
    @Test
    void outputScaleActsAsScaledWeights() {
        Random rnd = new Random(21);
        int cout = 40, cin = 24;
        Tensor w = TestSupport.random(rnd, cout, cin, 3, 3), b = TestSupport.random(rnd, cout);
        float[] scale = new float[cout], ws = w.toFloatArray();
        int per = cin * 9;
        for (int co = 0; co < cout; co++) {
            scale[co] = 0.25f + 0.07f * co;
            for (int i = 0; i < per; i++) ws[co * per + i] *= scale[co];
        }
        Conv2d premultiplied = new Conv2d(Tensor.of(ws, cout, cin, 3, 3), b, 1, 1, 1, 1, 1, 1, 1, 1, 1, Activation.RELU, false);
        Conv2d viaScale = new Conv2d(w, null, 1, 1, 1, 1, 1, 1, 1, 1, 1, Activation.RELU, false).withOutputScale(scale, b);
        Tensor x = TestSupport.random(rnd, 2, cin, 9, 11);
        Shape outShape = premultiplied.outputShape(x.shape());
        for (int orientation = -1; orientation <= 5; orientation++) { // 4, 5: Winograd, 4- and 2-vector panels
            if (orientation >= 4 && Simd.SCALAR) continue;
            int nv = orientation == 4 ? ConvPlan.NRW : ConvPlan.NR;
            Kernel want = orientation < 0 ? REF.prepare(premultiplied)
                    : orientation >= 4 ? winograd(premultiplied, nv) : forced(premultiplied, orientation);
            Kernel got = orientation < 0 ? REF.prepare(viaScale)
                    : orientation >= 4 ? winograd(viaScale, nv) : forced(viaScale, orientation);
            Tensor a = Tensor.zeros(outShape.dims()), c = Tensor.zeros(outShape.dims());
            TestSupport.run(want, new Tensor[] {x}, a);
            TestSupport.run(got, new Tensor[] {x}, c);
            for (int i = 0; i < a.size(); i++) {
                if (Float.floatToIntBits(a.getFlat(i)) != Float.floatToIntBits(c.getFlat(i))) {
                    fail("orientation " + orientation + ", element " + i + ": " + a.getFlat(i) + " with pre-multiplied weights, " + c.getFlat(i) + " with the output scale");
                }
            }
        }
    }

    /**
     * One prepared kernel run from several threads at once, each with its own scratch, input and
     * output (the executor's contract), starting before any weights were packed (the lazy packing
     * races): every result must match the reference.
     */
    @Test
    void oneKernelManyThreads() throws Exception {
        Random rnd = new Random(9);
        for (int orientation = 0; orientation <= 4; orientation++) { // 3, 4: Winograd, 4- and 2-vector panels
            if (orientation >= 3 && Simd.SCALAR) continue;
            Conv2d conv = new Conv2d(TestSupport.random(rnd, 40, 24, 3, 3), TestSupport.random(rnd, 40), 1, 1, 1, 1, 1, 1, 1, 1, 1,
                    Activation.RELU, false);
            int o = orientation;
            java.util.function.Supplier<Kernel> make = () -> o >= 3 ? winograd(conv, o == 3 ? ConvPlan.NRW : ConvPlan.NR) : forced(conv, o);
            Kernel shared = make.get();
            // scratch size from a twin, so that the shared kernel's weights are not packed yet
            Shape in = Shape.of(1, 24, 9, 11);
            Shape outShape = conv.outputShape(in);
            long scratch = make.get().scratchFloats(new Shape[] {in}, outShape, 2);
            int threads = 4;
            Tensor[] xs = new Tensor[threads], want = new Tensor[threads], got = new Tensor[threads];
            for (int t = 0; t < threads; t++) {
                xs[t] = TestSupport.random(rnd, in.dims());
                want[t] = Tensor.zeros(outShape.dims());
                TestSupport.run(REF.prepare(conv), new Tensor[] {xs[t]}, want[t]);
                got[t] = Tensor.zeros(outShape.dims());
            }
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            java.util.List<java.util.concurrent.Future<?>> fs = new java.util.ArrayList<>();
            java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newFixedThreadPool(threads);
            try (ThreadPool p1 = new ThreadPool(2); ThreadPool p2 = new ThreadPool(2)) {
                for (int t = 0; t < threads; t++) {
                    final int i = t;
                    ThreadPool pool = t % 2 == 0 ? p1 : p2;
                    fs.add(ex.submit(() -> {
                        start.await();
                        for (int rep = 0; rep < 20; rep++) {
                            shared.run(new Tensor[] {xs[i]}, got[i], new TestSupport.Ctx(pool, new float[(int) scratch]));
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (var f : fs) f.get();
            } finally {
                ex.shutdownNow();
            }
            Tensor mag = magnitude(conv, xs[0], null, outShape);
            for (int t = 0; t < threads; t++) {
                assertClose("concurrent run " + t + " orientation " + orientation, want[t], got[t],
                        t == 0 ? mag : magnitude(conv, xs[t], null, outShape), ABS, REL);
            }
        }
    }

    static void runOn(ThreadPool pool, Kernel k, Tensor[] in, Tensor out) {
        Shape[] shapes = new Shape[in.length];
        for (int i = 0; i < in.length; i++) shapes[i] = in[i].shape();
        long scratch = k.scratchFloats(shapes, out.shape(), pool.threads());
        k.run(in, out, new TestSupport.Ctx(pool, new float[Math.toIntExact(scratch)]));
    }

    /** sum |w*x| + |b| + |residual| per output element, by the reference conv on absolute values. */
    static Tensor magnitude(Conv2d conv, Tensor x, Tensor res, Shape outShape) {
        Conv2d abs = conv.withWeights(absOf(conv.weight()), conv.bias() == null ? null : absOf(conv.bias())).withActivation(Activation.NONE);
        Tensor m = Tensor.zeros(outShape.dims());
        Tensor[] in = res == null ? new Tensor[] {absOf(x)} : new Tensor[] {absOf(x), absOf(res)};
        TestSupport.run(REF.prepare(abs), in, m);
        return m;
    }

    static Tensor absOf(Tensor t) {
        float[] a = t.toFloatArray();
        for (int i = 0; i < a.length; i++) a[i] = Math.abs(a[i]);
        return Tensor.of(a, t.shape().dims());
    }

    public static void assertClose(String what, Tensor expected, Tensor actual, Tensor magnitude, float abs, float rel) {
        if (!expected.shape().equals(actual.shape())) fail(what + ": shape " + actual.shape() + " != " + expected.shape());
        for (long i = 0; i < expected.size(); i++) {
            float e = expected.getFlat(i), a = actual.getFlat(i);
            if (Float.isNaN(e) && Float.isNaN(a)) continue; // NaN propagated as the reference does
            float tol = abs + rel * (magnitude == null ? Math.abs(e) : magnitude.getFlat(i));
            if (!(Math.abs(e - a) <= tol)) {
                fail(what + " [" + Simd.describe() + "]: element " + i + " of " + expected.shape() + ": expected " + e + " got " + a + " (tol " + tol + ")");
            }
        }
    }
}
