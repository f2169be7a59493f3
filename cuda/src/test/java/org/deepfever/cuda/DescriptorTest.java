package org.deepfever.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deepfever.core.Shape;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.BatchNorm;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.Gemm;
import org.deepfever.core.op.Relu;
import org.junit.jupiter.api.Test;

/** The dims, strides and parameters cuDNN and cuBLAS are given, computed on the host. */
class DescriptorTest {
    @Test
    void ranksTwoToFourBecomeNchw() {
        assertArrayEquals(new int[] {5, 7, 1, 1}, TensorLayout.dims4(Shape.of(5, 7)));
        assertArrayEquals(new int[] {5, 7, 3, 1}, TensorLayout.dims4(Shape.of(5, 7, 3)));
        assertArrayEquals(new int[] {5, 7, 3, 2}, TensorLayout.dims4(Shape.of(5, 7, 3, 2)));
        assertThrows(IllegalArgumentException.class, () -> TensorLayout.dims4(Shape.of(5)));
        TensorLayout p = TensorLayout.packed(Shape.of(2, 3, 4, 5), 10);
        assertEquals(new TensorLayout(2, 3, 4, 5, 60, 20, 5, 1, 10), p);
        assertTrue(p.isPacked());
        assertEquals(60 * 4, p.rowBytes());
        assertEquals(10 * 4 + 1000, p.address(1000));
        assertEquals(new TensorLayout(1, 9, 1, 1, 9, 1, 1, 1, 0), TensorLayout.channels(9, 0));
    }

    @Test
    void convolutionGeometryForGroupedAndAsymmetricKernels() {
        Conv2d depthwise = new Conv2d(Graphs.random(1, 16, 1, 3, 3), null, 2, 2, 1, 1, 1, 1, 1, 1, 16, Activation.RELU, false);
        ConvGeometry g = ConvGeometry.of(depthwise);
        assertEquals(new ConvGeometry(1, 1, 2, 2, 1, 1, 16, 16, 1, 3, 3), g);
        Conv2d oneBySeven = new Conv2d(Graphs.random(2, 8, 4, 1, 7), null, 1, 1, 0, 3, 0, 3, 1, 1, 1, Activation.RELU, false);
        assertEquals(new ConvGeometry(0, 3, 1, 1, 1, 1, 1, 8, 4, 1, 7), ConvGeometry.of(oneBySeven));
        Conv2d dilated = new Conv2d(Graphs.random(3, 8, 4, 3, 3), null, 1, 1, 2, 2, 2, 2, 2, 2, 1, Activation.NONE, false);
        assertEquals(new ConvGeometry(2, 2, 1, 1, 2, 2, 1, 8, 4, 3, 3), ConvGeometry.of(dilated));
        Conv2d asym = new Conv2d(Graphs.random(4, 8, 4, 3, 3), null, 2, 2, 0, 0, 1, 1, 1, 1, 1, Activation.NONE, false);
        assertThrows(IllegalArgumentException.class, () -> ConvGeometry.of(asym));
    }

    @Test
    void gemmLeadingDimensionsFollowTheRowStrides() {
        TensorLayout x = new TensorLayout(4, 128, 1, 1, 256, 1, 1, 1, 0); // a channel slice of [4,256]
        TensorLayout y = TensorLayout.packed(Shape.of(4, 32), 0);
        assertArrayEquals(new int[] {128, 256, 32}, GemmStep.leadingDims(128, x, y));
    }

    @Test
    void weightsAreEffectiveWeightsAndABiasAlways() {
        Conv2d conv = Graphs.conv(3, 8, 3, 1, 1, Activation.RELU).withOutputScale(new float[] {2, 2, 2, 2, 2, 2, 2, 2}, null);
        assertArrayEquals(new long[] {8 * 3 * 9, 8}, DeviceWeights.sizes(conv));
        float[][] v = DeviceWeights.values(conv);
        float[] raw = conv.weight().toFloatArray();
        for (int i = 0; i < raw.length; i++) assertEquals(raw[i] * 2, v[0][i], 0f);
        assertArrayEquals(new float[8], v[1], "no bias: zeros, since the fused call always adds one");
        assertArrayEquals(new long[] {4, 4, 4, 4}, DeviceWeights.sizes(new BatchNorm(Graphs.random(1, 4), Graphs.random(2, 4), Graphs.random(3, 4), Graphs.random(4, 4), 1e-5f)));
        assertArrayEquals(new long[] {6 * 5}, DeviceWeights.sizes(new Gemm(Graphs.random(1, 6, 5), null)));
        assertArrayEquals(new long[0], DeviceWeights.sizes(new Relu()));
    }

    @Test
    void concatCopiesOnlyInputsNotAlreadyInTheirSlice() {
        TensorLayout out = TensorLayout.packed(Shape.of(2, 10, 3, 3), 1000);
        TensorLayout homedA = new TensorLayout(2, 4, 3, 3, 90, 9, 3, 1, 1000);
        TensorLayout elsewhereB = TensorLayout.packed(Shape.of(2, 6, 3, 3), 0);
        CopyStep s = CudaPlan.concatCopiesOf("cat", List.of(homedA, elsewhereB), out);
        assertEquals(1, s.parts().size());
        CopyStep.Part p = s.parts().get(0);
        assertEquals(new TensorLayout(2, 6, 3, 3, 90, 9, 3, 1, 1000 + 4 * 9), p.dst());
        assertEquals(elsewhereB, p.src());
        TensorLayout homedB = new TensorLayout(2, 6, 3, 3, 90, 9, 3, 1, 1036);
        assertNull(CudaPlan.concatCopiesOf("cat", List.of(homedA, homedB), out));
    }

    @Test
    void copiesAreImageByImageOrOneBlock() {
        TensorLayout slice = new TensorLayout(2, 6, 3, 3, 90, 9, 3, 1, 0);
        TensorLayout packed = TensorLayout.packed(Shape.of(2, 6, 3, 3), 0);
        assertTrue(Step.copyable(slice, packed));
        assertTrue(Step.copyable(TensorLayout.packed(Shape.of(2, 54), 0), packed), "flatten");
        assertTrue(Step.copyable(TensorLayout.packed(Shape.of(108, 1), 0), packed), "reshape across the batch, both packed");
        assertFalse(Step.copyable(TensorLayout.packed(Shape.of(108, 1), 0), slice), "reshape across the batch from a slice");
    }
}
