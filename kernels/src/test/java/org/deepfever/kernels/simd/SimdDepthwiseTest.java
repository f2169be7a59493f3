package org.deepfever.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import org.deepfever.core.op.DepthwiseConv2d;
import org.deepfever.kernels.TestSupport;
import org.deepfever.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SIMD depthwise convolution against the reference backend on awkward shapes (odd channel counts,
 * partial vectors, stride 2, asymmetric padding, maps smaller than the kernel's reach, batch-strided
 * views), in every layout pairing the executor can hand it (input NCHW, NCHW channel slice or
 * channels-last with a wider pixel stride; output NCHW or channels-last), on 1, 2 and 3 threads.
 *
 * <p>Tolerance: |simd - ref| <= 1e-5 + 1e-5 * M, M = |bias| + sum over the window of |w * x| for
 * that output (the reference kernel on absolute values): float32 accumulation error of a sum of at
 * most 25 products, whatever the cancellation.
 */
class SimdDepthwiseTest {
    static final float ABS = 1e-5f, REL = 1e-5f;
    static final ReferenceBackend REF = new ReferenceBackend();
    static final SimdBackend SIMD = new SimdBackend();
    static final ThreadPool POOL1 = new ThreadPool(1), POOL3 = new ThreadPool(3);

    @AfterAll
    static void close() {
        POOL1.close();
        POOL3.close();
    }

    record Case(String name, int n, int c, int h, int w, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr,
                boolean bias, boolean reluIn, Activation act) {
        @Override public String toString() { return name; }
    }

    static Stream<Case> cases() {
        Activation N = Activation.NONE, R = Activation.RELU;
        List<Case> c = new ArrayList<>();
        c.add(new Case("3x3 same c32 56x56 (face-api dense0)", 1, 32, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, false, true, N));
        c.add(new Case("3x3 s2 same(0,1) c32 56x56 b2 relu-in", 2, 32, 56, 56, 3, 3, 2, 2, 0, 0, 1, 1, false, true, N));
        c.add(new Case("3x3 same c7 9x11 bias relu", 1, 7, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, true, false, R));
        c.add(new Case("3x3 s2 same c19 13x13 b3 (odd map, odd channels)", 3, 19, 13, 13, 3, 3, 2, 2, 1, 1, 1, 1, true, true, R));
        c.add(new Case("3x3 s2 c37 14x15 asym pads t0 l1 b1 r0", 1, 37, 14, 15, 3, 3, 2, 2, 0, 1, 1, 0, true, false, N));
        c.add(new Case("3x3 same c5 1x1 (tiny: only the centre tap)", 2, 5, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, true, true, N));
        c.add(new Case("3x3 same c17 2x3 (tiny)", 1, 17, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, true, true, R));
        c.add(new Case("3x3 s2 same c3 2x2 -> 1x1", 2, 3, 2, 2, 3, 3, 2, 2, 0, 0, 1, 1, false, false, N));
        c.add(new Case("5x3 stride(1,3) pads(2,0,1,4) c9 12x13", 2, 9, 12, 13, 5, 3, 1, 3, 2, 0, 1, 4, true, true, R));
        c.add(new Case("1x1 c33 5x4 (no window)", 1, 33, 5, 4, 1, 1, 1, 1, 0, 0, 0, 0, true, true, N));
        c.add(new Case("3x3 valid c16 7x7 (exact vectors)", 2, 16, 7, 7, 3, 3, 1, 1, 0, 0, 0, 0, true, false, N));
        c.add(new Case("3x3 same c256 7x7 b2 (face-api dense3)", 2, 256, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, false, true, N));
        c.add(new Case("3x3 s2 same(0,1) c128 14x14 (face-api dense3 first)", 1, 128, 14, 14, 3, 3, 2, 2, 0, 0, 1, 1, false, true, N));
        c.add(new Case("3x3 same c1 17x33 (one channel, long rows)", 1, 1, 17, 33, 3, 3, 1, 1, 1, 1, 1, 1, true, true, R));
        c.add(new Case("3x3 s2 input rows/cols unused c6 10x10 valid", 1, 6, 10, 10, 3, 3, 2, 2, 0, 0, 0, 0, true, false, N));
        return c.stream();
    }

    enum InLayout { NCHW, SLICED, CHANNELS_LAST }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReference(Case k) {
        Random rnd = new Random(k.name().hashCode());
        Tensor w = TestSupport.random(rnd, k.c, 1, k.kh, k.kw);
        Tensor b = k.bias ? TestSupport.random(rnd, k.c) : null;
        DepthwiseConv2d op = new DepthwiseConv2d(w, b, k.sh, k.sw, k.pt, k.pl, k.pb, k.pr, k.reluIn, k.act);
        Tensor x = TestSupport.random(rnd, k.n, k.c, k.h, k.w);
        Shape outShape = op.outputShape(x.shape());
        Tensor expected = Tensor.zeros(outShape.dims());
        TestSupport.run(REF.prepare(op), new Tensor[] {x}, expected);
        float[] bound = magnitude(op, x, outShape);
        Kernel kernel = SIMD.prepare(op);
        for (ThreadPool pool : new ThreadPool[] {POOL1, TestSupport.POOL, POOL3}) {
            for (InLayout in : InLayout.values()) {
                for (boolean outCl : new boolean[] {false, true}) {
                    Tensor xi = switch (in) {
                        case NCHW -> x;
                        case SLICED -> TestSupport.slicedCopy(x, 2, 3, 99f);
                        case CHANNELS_LAST -> TestSupport.channelsLastCopy(x, 1, 2, 99f);
                    };
                    Tensor out = outCl ? TestSupport.channelsLast(outShape.dims(), 3, 1, -7f) : TestSupport.sliced(outShape.dims(), 1, 2, -7f);
                    String what = k + " in " + in + " out " + (outCl ? "channels-last" : "NCHW") + " threads " + pool.threads();
                    run(kernel, xi, out, pool);
                    check(what, expected, out, bound);
                    TestSupport.assertOutsideUntouched(out, -7f);
                }
            }
        }
    }

    private static void run(Kernel k, Tensor x, Tensor out, ThreadPool pool) {
        long scratch = k.scratchFloats(new Shape[] {x.shape()}, out.shape(), pool.threads());
        k.run(new Tensor[] {x}, out, new TestSupport.Ctx(pool, new float[Math.toIntExact(scratch)]));
    }

    /** Per output, |bias| + sum |w * x| over the window (the reference on absolute values). */
    private static float[] magnitude(DepthwiseConv2d op, Tensor x, Shape outShape) {
        Tensor aw = abs(op.weight()), ax = abs(x);
        Tensor ab = op.bias() == null ? null : abs(op.bias());
        DepthwiseConv2d absOp = new DepthwiseConv2d(aw, ab, op.strideH(), op.strideW(), op.padTop(), op.padLeft(), op.padBottom(), op.padRight(), false, Activation.NONE);
        Tensor m = Tensor.zeros(outShape.dims());
        TestSupport.run(REF.prepare(absOp), new Tensor[] {ax}, m);
        return m.toFloatArray();
    }

    private static Tensor abs(Tensor t) {
        float[] a = t.toFloatArray();
        for (int i = 0; i < a.length; i++) a[i] = Math.abs(a[i]);
        return Tensor.of(a, t.shape().dims());
    }

    private static void check(String what, Tensor expected, Tensor actual, float[] bound) {
        for (int i = 0; i < bound.length; i++) {
            float e = expected.getFlat(i), a = actual.getFlat(i);
            float tol = ABS + REL * bound[i];
            if (!(Math.abs(a - e) <= tol)) fail(what + ": element " + i + " expected " + e + " got " + a + " (tol " + tol + ")");
        }
    }

    @Test
    void reluInputZeroesNegativesBeforeTheWindowAndKeepsPaddingZero() {
        // one channel, 1x3 input [-2, 3, -4], 3-wide all-ones window, same padding: outputs 3, 3, 3
        Tensor w = Tensor.of(new float[] {1, 1, 1}, 1, 1, 1, 3);
        DepthwiseConv2d op = new DepthwiseConv2d(w, null, 1, 1, 0, 1, 0, 1, true, Activation.NONE);
        Tensor x = Tensor.of(new float[] {-2, 3, -4}, 1, 1, 1, 3);
        for (Kernel k : new Kernel[] {REF.prepare(op), SIMD.prepare(op)}) {
            Tensor out = Tensor.zeros(1, 1, 1, 3);
            TestSupport.run(k, new Tensor[] {x}, out);
            TestSupport.assertValues(new float[] {3, 3, 3}, out, 0f);
        }
    }

    @Test
    void opChecksItsParameters() {
        Tensor w = Tensor.zeros(4, 1, 3, 3);
        DepthwiseConv2d op = new DepthwiseConv2d(w, null, 2, 2, 0, 0, 1, 1, false, Activation.NONE);
        assertEquals(Shape.of(2, 4, 56, 56), op.outputShape(Shape.of(2, 4, 112, 112)));
        assertEquals(4L * 56 * 56 * 9, op.macs(Shape.of(1, 4, 112, 112)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> op.outputShape(Shape.of(1, 3, 8, 8)));
        assertTrue(e.getMessage().contains("expects 4 input channels"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DepthwiseConv2d(Tensor.zeros(4, 2, 3, 3), null, 1, 1, 1, 1, 1, 1, false, Activation.NONE));
        assertThrows(IllegalArgumentException.class, () -> new DepthwiseConv2d(w, Tensor.zeros(3), 1, 1, 1, 1, 1, 1, false, Activation.NONE));
        assertThrows(IllegalArgumentException.class, () -> new DepthwiseConv2d(w, null, 0, 1, 1, 1, 1, 1, false, Activation.NONE));
        assertThrows(IllegalArgumentException.class, () -> op.outputShape(Shape.of(1, 4, 1, 1)));
    }
}
