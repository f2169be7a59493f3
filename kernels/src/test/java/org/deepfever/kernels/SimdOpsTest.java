package org.deepfever.kernels;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.*;
import org.deepfever.kernels.reference.ReferenceBackend;
import org.deepfever.kernels.simd.SimdBackend;
import org.junit.jupiter.api.Test;

/**
 * The non-convolution SIMD kernels against the reference backend, on shapes that leave vector
 * tails, batch > 1, and channel-sliced inputs/outputs (batch stride larger than the item).
 * Tolerances are stated per op.
 */
class SimdOpsTest {
    /** Exact ops (copies, max, ReLU, clip): bit-identical. */
    static final float EXACT = 0f;
    /** One or two roundings (fma vs mul+add, x*(1/n) vs x/n): relative 1e-6 of the value, plus 1e-7. */
    static final float ABS_EW = 1e-7f, REL_EW = 1e-6f;
    /** Reductions (sums, dots) of up to a few hundred terms: abs 1e-5 + rel 1e-5. */
    static final float ABS_RED = 1e-5f, REL_RED = 1e-5f;

    final ReferenceBackend ref = new ReferenceBackend();
    final SimdBackend simd = new SimdBackend();
    final Random rnd = new Random(42);

    /**
     * Runs {@code op} on both backends: the reference on contiguous inputs, SIMD on contiguous
     * inputs and again on channel-sliced ones (where rank >= 2) writing into a sliced output.
     */
    private void check(Op op, float abs, float rel, Tensor... in) {
        assertTrue(simd.supports(op), op.kind());
        Shape[] shapes = new Shape[in.length];
        for (int i = 0; i < in.length; i++) shapes[i] = in[i].shape();
        Shape outShape = op.outputShape(shapes);
        Tensor expected = Tensor.zeros(outShape.dims());
        TestSupport.run(ref.prepare(op), in, expected);

        Tensor out = Tensor.zeros(outShape.dims());
        TestSupport.run(simd.prepare(op), in, out);
        org.deepfever.kernels.simd.conv.SimdConvTest.assertClose(op + " contiguous", expected, out, null, abs, rel);

        boolean canSlice = outShape.rank() >= 2;
        for (Tensor t : in) canSlice &= t.rank() >= 2;
        if (canSlice) {
            Tensor[] sin = new Tensor[in.length];
            for (int i = 0; i < in.length; i++) sin[i] = in[i].dim(0) > 0 && in[i].size() > 1 ? TestSupport.slicedCopy(in[i], 2, 1, Float.NaN) : in[i];
            Tensor sout = TestSupport.sliced(outShape.dims(), 1, 3, -5f);
            TestSupport.run(simd.prepare(op), sin, sout);
            org.deepfever.kernels.simd.conv.SimdConvTest.assertClose(op + " sliced", expected, sout, null, abs, rel);
            TestSupport.assertOutsideUntouched(sout, -5f);
        }
        // channels-last input and/or output, where the kernel declares it handles them
        Kernel k = simd.prepare(op);
        if (outShape.rank() == 4 && in.length == 1 && in[0].rank() == 4 && k.acceptsChannelsLast(0, shapes, outShape)) {
            for (int layout = 0; layout < 3; layout++) {
                boolean xCl = layout != 2, oCl = layout != 1;
                Tensor[] sin = {xCl ? TestSupport.channelsLastCopy(in[0], 2, 3, Float.NaN) : in[0]};
                Tensor sout = oCl ? TestSupport.channelsLast(outShape.dims(), 1, 2, -5f) : TestSupport.sliced(outShape.dims(), 1, 3, -5f);
                TestSupport.run(k, sin, sout);
                org.deepfever.kernels.simd.conv.SimdConvTest.assertClose(op + " channels-last x=" + xCl + " out=" + oCl, expected, sout, null, abs, rel);
                TestSupport.assertOutsideUntouched(sout, -5f);
            }
        }
    }

    private Tensor r(int... dims) { return TestSupport.random(rnd, dims); }

    @Test
    void relu() {
        check(new Relu(), EXACT, 0, r(2, 7, 5, 3));
        check(new Relu(), EXACT, 0, r(3, 33));
        check(new Relu(), EXACT, 0, r(2, 32, 33, 33)); // large enough to run multi-threaded
        Tensor nan = r(2, 40); // NaN stays NaN, in the vector part and the tail
        nan.array()[3] = Float.NaN;
        nan.array()[79] = Float.NaN;
        check(new Relu(), EXACT, 0, nan);
        Tensor nan4 = r(2, 37, 3, 3); // 4-D: also channels-last (vector part and tail along the channels)
        nan4.array()[5] = Float.NaN;
        nan4.array()[300] = Float.NaN;
        check(new Relu(), EXACT, 0, nan4);
    }

    @Test
    void clip() {
        check(new Clip(-0.3f, 0.5f), EXACT, 0, r(2, 7, 5, 3));
    }

    @Test
    void batchNorm() {
        for (int[] dims : new int[][] {{2, 7, 5, 3}, {3, 33}, {1, 19, 1, 1}, {2, 48, 31, 31}, {8, 70, 3, 3}}) {
            int c = dims[1];
            Tensor var = r(c);
            for (int i = 0; i < c; i++) var.array()[i] = Math.abs(var.array()[i]) + 0.1f;
            BatchNorm bn = new BatchNorm(r(c), r(c), r(c), var, 1e-3f);
            // fma(x, scale, shift) vs (x - mean) * scale + beta in double: a few roundings
            check(bn, 1e-6f, 1e-5f, r(dims));
        }
    }

    @Test
    void residualAdd() {
        check(new ResidualAdd(0.17f, Activation.RELU), ABS_EW, REL_EW, r(2, 9, 5, 5), r(2, 9, 5, 5));
        check(new ResidualAdd(1f, Activation.NONE), ABS_EW, REL_EW, r(1, 3, 7, 7), r(1, 3, 7, 7));
    }

    @Test
    void binarySameShapeAndScalar() {
        for (Binary.Fn fn : Binary.Fn.values()) {
            Binary op = new Binary(fn);
            Tensor b = r(2, 7, 5, 3);
            if (fn == Binary.Fn.DIV) for (int i = 0; i < b.size(); i++) b.array()[i] += Math.copySign(0.5f, b.array()[i]);
            check(op, ABS_EW, REL_EW, r(2, 7, 5, 3), b);
            check(op, ABS_EW, REL_EW, r(3, 13), Tensor.of(new float[] {1.7f}, 1, 1));
            check(op, ABS_EW, REL_EW, Tensor.of(new float[] {-0.6f}, 1), r(3, 13));
            // general broadcasting (per-channel) goes through the reference path inside the kernel
            check(op, ABS_EW, REL_EW, r(2, 5, 3, 3), Tensor.of(new float[] {0.5f, 2f, -1f, 4f, 3f}, 1, 5, 1, 1));
        }
    }

    @Test
    void maxPool() {
        check(MaxPool2d.of(3, 2), EXACT, 0, r(2, 5, 15, 15));
        check(new MaxPool2d(3, 3, 2, 2, 0, 0, 0, 0, true), EXACT, 0, r(1, 3, 14, 14));
        check(new MaxPool2d(3, 3, 1, 1, 1, 1, 1, 1, false), EXACT, 0, r(2, 4, 11, 19));
        check(new MaxPool2d(3, 3, 2, 2, 1, 1, 1, 1, true), EXACT, 0, r(1, 6, 10, 9));
        check(new MaxPool2d(1, 3, 1, 2, 0, 1, 0, 0, false), EXACT, 0, r(1, 2, 4, 12));
        check(new MaxPool2d(1, 2, 1, 2, 0, 0, 0, 0, false), EXACT, 0, r(1, 3, 1, 1 + 16));
        check(new MaxPool2d(1, 3, 1, 1, 0, 1, 0, 1, false), EXACT, 0, r(1, 3, 2, 2 + 16));
        // narrow planes pooled in registers (a row fits one vector at 256 and 512 bits)
        check(MaxPool2d.of(3, 2), EXACT, 0, r(2, 9, 7, 7));
        check(new MaxPool2d(2, 3, 1, 2, 0, 0, 0, 0, false), EXACT, 0, r(1, 3, 5, 8));
        check(new MaxPool2d(3, 3, 1, 1, 0, 0, 0, 0, false), EXACT, 0, r(3, 2, 6, 5));
        check(MaxPool2d.of(3, 2), EXACT, 0, r(8, 400, 7, 7)); // enough rows to be split over threads
        Tensor nan = r(1, 2, 7, 7);
        nan.array()[10] = Float.NaN;
        check(MaxPool2d.of(3, 2), EXACT, 0, nan);
        // NaN in the four-vector channel blocks (channels-last paths), first, inner and last window positions
        Tensor nanWide = r(2, 70, 9, 9);
        for (int i : new int[] {0, 81 * 3 + 10, 81 * 17 + 40, 81 * 64 + 80, 81 * 69 + 44, 81 * 70 + 81 * 33 + 20}) nanWide.array()[i] = Float.NaN;
        check(MaxPool2d.of(3, 2), EXACT, 0, nanWide);
        check(new MaxPool2d(3, 3, 1, 1, 1, 1, 1, 1, false), EXACT, 0, nanWide);
        // all-negative input with padding: padding must not win
        Tensor neg = r(1, 2, 6, 6);
        for (int i = 0; i < neg.size(); i++) neg.array()[i] = -1 - Math.abs(neg.array()[i]);
        check(new MaxPool2d(3, 3, 1, 1, 1, 1, 1, 1, false), EXACT, 0, neg);
    }

    @Test
    void globalAvgPool() {
        check(new GlobalAvgPool(false), ABS_RED, REL_RED, r(2, 7, 5, 3));
        check(new GlobalAvgPool(true), ABS_RED, REL_RED, r(3, 13, 9, 9));
        check(new GlobalAvgPool(false), ABS_RED, REL_RED, r(1, 5, 15, 15));
    }

    @Test
    void concatAxis1() {
        check(new Concat(1, 3), EXACT, 0, r(2, 3, 5, 5), r(2, 7, 5, 5), r(2, 1, 5, 5));
        check(new Concat(1, 2), EXACT, 0, r(3, 4), r(3, 9));
        assertFalse(simd.supports(new Concat(2, 2)));
    }

    @Test
    void gemm() {
        Tensor w = r(11, 37), b = r(11);
        check(new Gemm(w, b), ABS_RED, REL_RED, r(3, 37));
        check(new Gemm(r(8, 128), null), ABS_RED, REL_RED, r(2, 128));
        check(new Gemm(r(300, 260), r(300)), 1e-4f, 1e-4f, r(2, 260)); // large: multi-threaded
    }

    @Test
    void softmax() {
        check(new Softmax(-1), ABS_EW, 1e-5f, r(3, 8));
        check(new Softmax(1), ABS_EW, 1e-5f, r(2, 19));
        check(new Softmax(1), ABS_EW, 1e-5f, r(2, 5, 3, 3));
        check(new Softmax(0), ABS_EW, 1e-5f, r(4, 6));
    }

    @Test
    void l2Normalize() {
        check(L2Normalize.of(), ABS_EW, 1e-5f, r(3, 32));
        check(L2Normalize.of(), ABS_EW, 1e-5f, r(2, 5, 3, 3));
        check(new L2Normalize(-1, 1e-12f), ABS_EW, 1e-5f, r(2, 3, 37));
        check(L2Normalize.of(), ABS_EW, 1e-5f, r(2, 130)); // long lines: the vector path
        check(L2Normalize.of(), 0f, 0f, Tensor.zeros(2, 9)); // zero vector stays zero (eps)
    }

    @Test
    void unsupportedOpsAreDeclined() {
        assertFalse(simd.supports(new Sigmoid()));
        assertFalse(simd.supports(new Transpose(new int[] {1, 0})));
        assertFalse(simd.supports(new Conv2d(r(4, 1, 3, 3), null, 1, 1, 1, 1, 1, 1, 1, 1, 4, Activation.NONE, false)));
    }
}
