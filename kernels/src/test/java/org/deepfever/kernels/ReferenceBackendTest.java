package org.deepfever.kernels;

import static org.deepfever.kernels.TestSupport.assertValues;
import static org.deepfever.kernels.TestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Backend;
import org.deepfever.core.backend.Backends;
import org.deepfever.core.op.*;
import org.deepfever.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** The reference backend against hand-computed values, so that it can be trusted as the oracle. */
class ReferenceBackendTest {
    private static final float TOL = 1e-6f;
    private final Backend ref = new ReferenceBackend();

    private Tensor run1(Op op, Tensor... in) {
        Tensor out = Tensor.zeros(op.outputShape(java.util.Arrays.stream(in).map(Tensor::shape).toArray(org.deepfever.core.Shape[]::new)).dims());
        assertTrue(ref.supports(op));
        run(ref.prepare(op), in, out);
        return out;
    }

    private static Tensor seq(int... dims) {
        Tensor t = Tensor.zeros(dims);
        for (int i = 0; i < t.size(); i++) t.array()[i] = i + 1;
        return t;
    }

    private static Tensor filled(float v, int... dims) {
        Tensor t = Tensor.zeros(dims);
        java.util.Arrays.fill(t.array(), v);
        return t;
    }

    @Test
    void discoveredByServiceLoader() {
        List<String> names = Backends.all().stream().map(Backend::name).toList();
        assertTrue(names.contains("reference"), names.toString());
        assertEquals("reference", Backends.reference().name());
    }

    @Test
    void conv3x3Pad1() {
        Tensor x = seq(1, 1, 3, 3);               // 1..9
        Tensor w = filled(1f, 1, 1, 3, 3);
        Tensor out = run1(Conv2d.of(w, null, 1, 1, 1, Activation.NONE), x);
        assertValues(new float[] {12, 21, 16, 27, 45, 33, 24, 39, 28}, out, TOL);
        Tensor s2 = run1(Conv2d.of(w, null, 2, 1, 1, Activation.NONE), x);
        assertValues(new float[] {12, 16, 24, 28}, s2, TOL);
    }

    @Test
    void convBiasResidualReluAsymmetricPadding() {
        Tensor x = seq(1, 1, 3, 3);
        Tensor w = filled(1f, 1, 1, 2, 2);
        // pad top 1 only: rows -1..2, output 3x2: windows over (row-1,row) x (col, col+1)
        Conv2d c = new Conv2d(w, Tensor.of(new float[] {-10f}, 1), 1, 1, 1, 0, 0, 0, 1, 1, 1, Activation.RELU, true);
        Tensor res = Tensor.of(new float[] {1, 1, 1, 1, 1, 1}, 1, 1, 3, 2);
        Tensor out = run1(c, x, res);
        // sums: row0: 1+2=3, 2+3=5; row1: 1+2+4+5=12, 16; row2: 4+5+7+8=24, 28 ; then -10 +1, relu
        assertValues(new float[] {0, 0, 3, 7, 15, 19}, out, TOL);
    }

    @Test
    void convGroupsAndDilation() {
        // two groups, one input channel each: channel 0 weights 1, channel 1 weights 2; dilation 2
        Tensor x = seq(1, 2, 3, 3);               // ch0: 1..9, ch1: 10..18
        Tensor w = Tensor.of(new float[] {1, 1, 1, 1, 2, 2, 2, 2}, 2, 1, 2, 2);
        Conv2d c = new Conv2d(w, null, 1, 1, 0, 0, 0, 0, 2, 2, 2, Activation.NONE, false);
        Tensor out = run1(c, x);
        // corners: ch0 1+3+7+9 = 20; ch1 2*(10+12+16+18) = 112
        assertValues(new float[] {20, 112}, out, TOL);
    }

    @Test
    void maxPoolPaddingNeverWins() {
        Tensor x = Tensor.of(new float[] {-1, -2, -3, -4}, 1, 1, 2, 2);
        Tensor out = run1(new MaxPool2d(3, 3, 1, 1, 1, 1, 1, 1, false), x);
        assertValues(new float[] {-1, -1, -1, -1}, out, TOL);
    }

    @Test
    void maxPoolCeilMode() {
        Tensor x = seq(1, 1, 1, 5);
        assertValues(new float[] {2, 4, 5}, run1(new MaxPool2d(1, 2, 1, 2, 0, 0, 0, 0, true), x), TOL);
        assertValues(new float[] {2, 4}, run1(new MaxPool2d(1, 2, 1, 2, 0, 0, 0, 0, false), x), TOL);
        // 3x3 stride 2 on 4x4 (ceil): outputs 2x2, last window partly outside
        Tensor y = seq(1, 1, 4, 4);
        assertValues(new float[] {11, 12, 15, 16}, run1(new MaxPool2d(3, 3, 2, 2, 0, 0, 0, 0, true), y), TOL);
    }

    @Test
    void softmax() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 0, 0, 0}, 2, 3);
        assertValues(new float[] {0.09003057f, 0.24472847f, 0.66524096f, 1 / 3f, 1 / 3f, 1 / 3f}, run1(new Softmax(1), x), 1e-7f);
        // along axis 0
        assertValues(new float[] {0.7310586f, 0.8807971f, 0.95257413f, 0.26894143f, 0.11920292f, 0.047425874f},
                run1(new Softmax(0), x), 1e-7f);
    }

    @Test
    void l2Normalize() {
        Tensor x = Tensor.of(new float[] {3, 4, 0, 0}, 2, 2);
        assertValues(new float[] {0.6f, 0.8f, 0, 0}, run1(L2Normalize.of(), x), 1e-7f);
        Tensor tiny = Tensor.of(new float[] {1e-13f, 0}, 1, 2);
        // norm below eps: divide by eps
        assertValues(new float[] {0.1f, 0}, run1(L2Normalize.of(), tiny), 1e-7f);
    }

    @Test
    void broadcastingDiv() {
        Tensor a = Tensor.of(new float[] {2, 4, 6, 8, 10, 12}, 2, 3);
        assertValues(new float[] {2, 2, 2, 8, 5, 4}, run1(new Binary(Binary.Fn.DIV), a, Tensor.of(new float[] {1, 2, 3}, 3)), TOL);
        assertValues(new float[] {1, 2, 3, 2, 2.5f, 3}, run1(new Binary(Binary.Fn.DIV), a, Tensor.of(new float[] {2, 4}, 2, 1)), TOL);
        // both sides broadcast: [2,1] - [1,3] -> [2,3]
        assertValues(new float[] {0, -1, -2, 9, 8, 7},
                run1(new Binary(Binary.Fn.SUB), Tensor.of(new float[] {1, 10}, 2, 1), Tensor.of(new float[] {1, 2, 3}, 1, 3)), TOL);
        assertValues(new float[] {6, 12, 18, 24, 30, 36}, run1(Binary.mul(), a, Tensor.of(new float[] {3}, 1)), TOL);
    }

    @Test
    void gemm() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor w = Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
        Tensor out = run1(new Gemm(w, Tensor.of(new float[] {0, 0, 1}, 3)), x);
        assertValues(new float[] {1, 2, 4, 3, 4, 8}, out, TOL);
    }

    @Test
    void batchNormAndActivations() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 2, 1, 2);
        BatchNorm bn = new BatchNorm(Tensor.of(new float[] {2, 1}, 2), Tensor.of(new float[] {1, 0}, 2),
                Tensor.of(new float[] {1, 2}, 2), Tensor.of(new float[] {4, 1}, 2), 0f);
        // ch0: (x-1)/2*2+1 = x; ch1: (x-2)/1
        assertValues(new float[] {1, 2, 1, 2}, run1(bn, x), TOL);
        Tensor y = Tensor.of(new float[] {-2, -0.5f, 0, 3}, 4);
        assertValues(new float[] {0, 0, 0, 3}, run1(new Relu(), y), TOL);
        assertValues(new float[] {-1, -0.5f, 0, 1}, run1(new Clip(-1, 1), y), TOL);
        assertValues(new float[] {0.11920292f, 0.37754068f, 0.5f, 0.95257413f}, run1(new Sigmoid(), y), 1e-7f);
        assertValues(new float[] {-2, -0.5f, 0, 3}, run1(new Identity(), y), TOL);
        assertValues(new float[] {0, 0.5f, 2, 6}, run1(new ResidualAdd(0.5f, Activation.RELU), y, Tensor.of(new float[] {2, 2, 4, 6}, 4)), TOL);
    }

    @Test
    void reductionsAndPooling() {
        Tensor x = seq(1, 2, 2, 2);
        assertValues(new float[] {2.5f, 6.5f}, run1(new GlobalAvgPool(false), x), TOL);
        assertEquals(4, run1(new GlobalAvgPool(true), x).rank());
        Tensor v = Tensor.of(new float[] {3, 4, 6, 8}, 2, 2);
        assertValues(new float[] {5, 10}, run1(new ReduceL2(new int[] {1}, false), v), 1e-6f);
        assertValues(new float[] {Math.round(Math.sqrt(45) * 1e6) / 1e6f, Math.round(Math.sqrt(80) * 1e6) / 1e6f},
                run1(new ReduceL2(new int[] {0}, true), v), 1e-5f);
    }

    @Test
    void dataMovement() {
        Tensor x = seq(2, 3);
        assertValues(new float[] {1, 4, 2, 5, 3, 6}, run1(new Transpose(new int[] {1, 0}), x), TOL);
        Tensor r = run1(new Reshape(new int[] {3, -1}), x);
        assertEquals(org.deepfever.core.Shape.of(3, 2), r.shape());
        assertValues(new float[] {1, 2, 3, 4, 5, 6}, r, TOL);
        assertValues(new float[] {1, 2, 3, 4, 5, 6}, run1(new Flatten(1), seq(2, 3, 1)), TOL);
        assertValues(new float[] {1, 2, 3, 1, 2, 4, 5, 6, 3, 4}, run1(new Concat(1, 2), x, seq(2, 2)), TOL);
        assertValues(new float[] {1, 2, 3, 4, 5, 6, 1, 2, 3}, run1(new Concat(0, 2), x, seq(1, 3)), TOL);
    }
}
