package org.deepfever.kernels.simd.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Random;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.Conv2d;
import org.deepfever.kernels.TestSupport;
import org.deepfever.kernels.simd.KernelConfig;
import org.junit.jupiter.api.Test;

/**
 * The plan's choices for DeepFEVER's shapes on both machine kinds (the presets: no kernel runs, so
 * these hold on any machine), and the description {@code fever info --kernels} prints.
 */
class ConvPlanTest {
    static final KernelConfig AVX512 = KernelConfig.avx512(), AVX2 = KernelConfig.avx2();

    static Conv2d conv(int cin, int cout, int kh, int kw, int stride, int pad, boolean residual) {
        Tensor w = TestSupport.random(new Random(1), cout, cin, kh, kw);
        return new Conv2d(w, null, stride, stride, pad, pad, pad, pad, 1, 1, 1, Activation.RELU, residual);
    }

    static ConvPlan plan(Conv2d c, KernelConfig cfg, int n, int h, int w, boolean channelsLast) {
        ConvSpec s = ConvSpec.of(c);
        int oh = c.outH(h), ow = c.outW(w);
        return ConvPlan.direct(s, cfg, ConvPlan.Forced.AUTO,
                new ConvPlan.Call(n, h, w, oh, ow, channelsLast, channelsLast, s.residual(), channelsLast, false, 2));
    }

    @Test
    void fiveVectorPanelsForCout80OnlyWithThirtyTwoRegisters() {
        Conv2d conv2d3b = conv(64, 80, 1, 1, 1, 0, false); // 33x33 after maxpool_3a
        ConvPlan a = plan(conv2d3b, AVX512, 1, 33, 33, true);
        assertEquals(ConvPlan.Algorithm.CHANNEL_VECTOR, a.algorithm());
        assertEquals(5, a.panelVectors());
        assertEquals(EnumSet.of(ConvPlan.Tile.T4X5), a.tiles());
        assertEquals(ConvPlan.Staging.IN_PLACE, a.staging());
        ConvPlan b = plan(conv2d3b, AVX2, 1, 33, 33, true);
        assertEquals(2, b.panelVectors());
        assertEquals(EnumSet.of(ConvPlan.Tile.T6X2_TAPS), b.tiles());
    }

    @Test
    void largeOneByOneMapsRunPixelVectorOnlyWithThirtyTwoRegisters() {
        Conv2d c = conv(64, 64, 1, 1, 1, 0, false);
        ConvPlan a = plan(c, AVX512, 1, 40, 40, false); // 1600 pixels > directSmallP
        assertEquals(ConvPlan.Algorithm.PIXEL_VECTOR, a.algorithm());
        assertEquals(ConvPlan.Staging.INPUT_AS_B, a.staging());
        assertEquals(ConvPlan.Algorithm.CHANNEL_VECTOR, plan(c, AVX512.with("directSmallP=1600"), 1, 40, 40, false).algorithm());
        assertEquals(ConvPlan.Algorithm.CHANNEL_VECTOR, plan(c, AVX2, 1, 40, 40, false).algorithm());
        // few output channels idle too many lanes of channel vectors, on either machine
        assertEquals(ConvPlan.Algorithm.PIXEL_VECTOR, plan(conv(16, 10, 3, 3, 1, 1, false), AVX2, 1, 20, 20, false).algorithm());
    }

    @Test
    void wideTilesSlideAndStartFromTheResidual() {
        Conv2d c = conv(70, 128, 3, 3, 1, 1, true); // residual: never Winograd
        ConvPlan a = plan(c, AVX512, 1, 15, 15, true);
        assertEquals(4, a.panelVectors());
        assertEquals(5, a.tilePixels());
        assertTrue(a.tiles().contains(ConvPlan.Tile.T5X4_SLIDE3), a.tiles().toString());
        assertEquals(ConvPlan.Staging.CHANNELS_LAST_COPY, a.staging());
        // written over its residual, a 1x1 wide conv's whole tiles start from it
        ConvSpec s = ConvSpec.of(conv(128, 64, 1, 1, 1, 0, true));
        ConvPlan inPlace = ConvPlan.direct(s, AVX512, ConvPlan.Forced.AUTO, new ConvPlan.Call(1, 7, 7, 7, 7, true, true, true, true, true, 1));
        assertTrue(inPlace.tiles().contains(ConvPlan.Tile.T5X4_ACC), inPlace.tiles().toString());
        // without 5-pixel tiles (Zen 5) the same conv takes the 6-pixel tap tile
        ConvPlan six = ConvPlan.direct(s, AVX512.with("fivePixelTiles=0"), ConvPlan.Forced.AUTO, new ConvPlan.Call(1, 7, 7, 7, 7, true, true, true, true, true, 1));
        assertEquals(6, six.tilePixels());
        assertTrue(six.tiles().contains(ConvPlan.Tile.T6X4_ACC_TAPS), six.tiles().toString());
        // K = 128 fits L1: one pass; K = 256 (Block17's up-projection) runs in blocks of 128 at batch 1, not across images
        assertEquals(0, six.kBlock());
        ConvSpec up = ConvSpec.of(conv(256, 896, 1, 1, 1, 0, true));
        KernelConfig sixPixels = AVX512.with("fivePixelTiles=0");
        ConvPlan blocked = ConvPlan.direct(up, sixPixels, ConvPlan.Forced.AUTO, new ConvPlan.Call(1, 7, 7, 7, 7, true, true, true, true, true, 1));
        assertEquals(ConvPlan.K_BLOCK, blocked.kBlock());
        assertTrue(blocked.describe().contains("K in blocks of 128"), blocked.describe());
        assertEquals(0, ConvPlan.direct(up, sixPixels, ConvPlan.Forced.AUTO, new ConvPlan.Call(8, 7, 7, 7, 7, true, true, true, true, true, 1)).kBlock());
        assertEquals(0, ConvPlan.direct(ConvSpec.of(conv(896, 256, 1, 1, 1, 0, false)), sixPixels, ConvPlan.Forced.AUTO,
                new ConvPlan.Call(1, 7, 7, 7, 7, true, true, false, false, false, 1)).kBlock());
        assertEquals(ConvPlan.Epilogue.CHANNELS_LAST, inPlace.epilogue());
        // at batch 8 the 7x7 map is tiled across images
        assertTrue(ConvPlan.direct(s, AVX512, ConvPlan.Forced.AUTO, new ConvPlan.Call(8, 7, 7, 7, 7, true, true, true, true, true, 2)).acrossImages());
    }

    @Test
    void winogradPanelsFollowTheRegisterFile() {
        Conv2d conv2d4a = conv(80, 192, 3, 3, 1, 0, false);
        Kernel a = Convs.planner(conv2d4a, AVX512), b = Convs.planner(conv2d4a, AVX2);
        Tensor x = Tensor.zeros(1, 80, 33, 33), out = Tensor.zeros(1, 192, 31, 31);
        String da = a.describe(new Tensor[] {x}, out, 2), db = b.describe(new Tensor[] {x}, out, 2);
        assertTrue(da.startsWith("3x3 80->192 | Winograd F(2x2,3x3) | 64 (4 vectors) | 6x4 taps | input transform | output transform | 2 tasks"), da);
        assertTrue(db.startsWith("3x3 80->192 | Winograd F(2x2,3x3) | 16 (2 vectors) | 6x2 taps"), db);
        // below winogradMinPixels the same kernel plans the direct conv
        String small = a.describe(new Tensor[] {Tensor.zeros(1, 80, 7, 7)}, Tensor.zeros(1, 192, 5, 5), 2);
        assertTrue(small.startsWith("3x3 80->192 | channel-vector implicit GEMM"), small);
    }

    @Test
    void theWinogradThresholdSplitsTheSevenBySevenFromTheFifteenByFifteenMaps() {
        Conv2d mixed7a = conv(256, 288, 3, 3, 1, 1, false); // Mixed_7a branch 2's 3x3, padded
        Tensor[] x7 = {Tensor.zeros(1, 256, 7, 7)}, x15 = {Tensor.zeros(1, 256, 15, 15)};
        Tensor o7 = Tensor.zeros(1, 288, 7, 7), o15 = Tensor.zeros(1, 288, 15, 15);
        KernelConfig intel = AVX512.with("winogradMinPixels=50"); // Intel's AVX-512 threshold (KernelConfig.winogradMinPixels)
        assertTrue(Convs.planner(mixed7a, AVX512).describe(x7, o7, 1).contains("Winograd"));
        assertTrue(Convs.planner(mixed7a, intel).describe(x7, o7, 1).contains("channel-vector"));
        assertTrue(Convs.planner(mixed7a, intel).describe(x15, o15, 1).contains("Winograd"));
    }

    @Test
    void winogradRunsWhereItsThreadsShareItsBlocks() {
        Conv2d mixed7a = conv(256, 288, 3, 3, 1, 1, false);
        Tensor[] x1 = {Tensor.zeros(1, 256, 7, 7)}, x8 = {Tensor.zeros(8, 256, 7, 7)};
        Tensor o1 = Tensor.zeros(1, 288, 7, 7), o8 = Tensor.zeros(8, 288, 7, 7);
        Kernel k = Convs.planner(mixed7a, AVX512);
        // one image at 7x7: three blocks of tiles, two threads could only split the panels
        assertTrue(k.describe(x1, o1, 1).contains("Winograd"), k.describe(x1, o1, 1));
        String two = k.describe(x1, o1, 2);
        assertTrue(two.contains("channel-vector"), two);
        // eight images: 24 blocks, shared by the threads
        String batch = k.describe(x8, o8, 2);
        assertTrue(batch.contains("Winograd") && batch.contains("2 tasks (3 blocks per image)"), batch);
        // the scratch follows the same choice
        Shape[] in1 = {x1[0].shape()};
        assertEquals(Convs.planner(mixed7a, AVX512.with("winogradMinPixels=1000000")).scratchFloats(in1, o1.shape(), 2),
                k.scratchFloats(in1, o1.shape(), 2));
    }

    @Test
    void planOnlyKernelsPackNothingAndRefuseToRun() {
        Kernel k = Convs.planner(conv(32, 32, 3, 3, 2, 0, false), AVX2);
        Shape in = Shape.of(1, 32, 15, 15), out = Shape.of(1, 32, 7, 7);
        assertTrue(k.scratchFloats(new Shape[] {in}, out, 1) > 0);
        assertTrue(k.acceptsChannelsLast(0, new Shape[] {in}, out));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> k.run(new Tensor[] {Tensor.zeros(1, 32, 15, 15)}, Tensor.zeros(1, 32, 7, 7), null));
        assertTrue(e.getMessage().contains("plans for AVX2"), e.getMessage());
    }
}
