package org.deepfever.kernels.simd.conv;

import java.util.function.IntConsumer;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.op.Conv2d;
import org.deepfever.kernels.simd.Simd;

/**
 * The channel-vector orientation (implicit GEMM): vectors along output channels, so no lanes idle on
 * a ragged pixel count. Weights packed as {@code [Cout/(C*L)][K][C*L]}, K tap-major, C channel vectors
 * per panel (the plan's panelVectors); a tile computes a few pixels x C channel vectors, broadcasting
 * input values straight from the input or a zero-padded copy of it ({@link SourceGeometry}: per K an
 * offset table entry, no im2col), over the one contiguous range of K holding every tap some pixel of
 * the tile reads inside the input. Tiles along one output row of a channels-last source slide when
 * the windows are 3 wide with stride 1 across (each input value broadcast once for the taps that read
 * it); into a channels-last output a whole tile stores directly, others go through the tile buffer and
 * an epilogue ({@link Epilogues}). Batches on small maps are tiled across image boundaries.
 *
 * <p>Threads: per image the (panel, tile) units are cut into equal runs, so that small maps at batch
 * 1 keep every thread busy. A call's loop (task count and body) is kept while the same geometry,
 * scratch and plan come back, as a plan's do: a steady-state inference allocates no task lambda.
 */
final class ChannelVectorConv {
    private static final int L = Simd.LANES;
    private static final int NR = ConvPlan.NR, MT = ConvPlan.MT;

    private final Conv2d op;
    private final ConvSpec s;
    /** Channel vectors per panel, floats per panel row. */
    private final int cvec, nrl;
    /** Whether row tiles may slide (see {@link ConvPlan#slides}). */
    private final boolean slide3;
    /** Whether ragged maps may take 5-pixel tiles (the config's, as the plan has it). */
    private final boolean fivePixelTiles;
    /** Bias zero-padded to whole panels: the accumulators start from it. */
    private final float[] biasT;
    private final Epilogues epilogues;
    /** The register tiles, with this conv's sizes. */
    private final ChannelTiles tiles;
    private final int tile;
    /** K-blocked panels ({@link #blockedPanel}): one "tap" of KOFF0 spans a block's channels; zeros start the later blocks. */
    private static final int[] KOFF0 = {0};
    private final float[] zeroBias;
    /** Tap tiles whose one "tap" is a whole K block ({@link ConvPlan#K_BLOCK} channels), and the last, shorter block. */
    private final ChannelTiles blockTiles, tailTiles;
    /** The packed weights, made on first need (immutable once published). */
    private volatile float[] packed;
    /** Source geometry of the last input size seen, NCHW and channels-last input (immutable once published). */
    private volatile SourceGeometry nchwSource, channelsLastSource;

    /** One call's parallel loop, kept for the next call with the same plan, geometry and scratch. */
    private record Loop(ConvPlan plan, CallGeometry g, float[] scratch, int tasks, IntConsumer body) {}
    private volatile Loop lastLoop;

    ChannelVectorConv(Conv2d op, ConvSpec s, float[] bias, int panelVectors, boolean slide3, boolean fivePixelTiles) {
        this.op = op;
        this.s = s;
        this.cvec = panelVectors;
        this.nrl = panelVectors * L;
        this.slide3 = slide3;
        this.fivePixelTiles = fivePixelTiles;
        this.biasT = java.util.Arrays.copyOf(bias, s.panels(nrl) * nrl);
        this.epilogues = new Epilogues(s, bias, panelVectors);
        this.tiles = new ChannelTiles(s.cin(), s.kh(), s.dh());
        this.tile = ConvPlan.tileBufferFloats(L);
        this.zeroBias = new float[nrl];
        this.blockTiles = new ChannelTiles(ConvPlan.K_BLOCK, 1, 1);
        this.tailTiles = new ChannelTiles(s.cin() % ConvPlan.K_BLOCK == 0 ? ConvPlan.K_BLOCK : s.cin() % ConvPlan.K_BLOCK, 1, 1);
    }

    /** Panels {@code [panels][K][cvec*L]}, K tap-major, packed on first need. */
    float[] packed() {
        float[] t = packed;
        if (t != null) return t;
        synchronized (this) {
            if (packed == null) packed = WeightPacking.panels(op, s, nrl, s.kh() * s.kw() > 1);
            return packed;
        }
    }

    /**
     * Runs a call as {@code plan} says.
     *
     * @throws IllegalStateException when the executor's scratch is smaller than the plan's
     */
    void run(ConvPlan plan, CallGeometry g, ExecContext ctx) {
        float[] scratch = ctx.scratch();
        Loop loop = lastLoop;
        if (loop == null || loop.plan() != plan || loop.g() != g || loop.scratch() != scratch) {
            loop = newLoop(plan, g, scratch);
            lastLoop = loop;
        }
        ctx.pool().parallelFor(loop.tasks(), loop.body());
    }

    /** The source geometry for an input of this size and layout ({@code xPix}: 0 for NCHW), the last one while it fits. */
    private SourceGeometry source(int h, int w, int oh, int ow, int xPix) {
        boolean copyCl = ConvPlan.transposingCopy(xPix != 0, cvec), inPlace = ConvPlan.inPlace(s, xPix != 0, h, w, oh, ow, cvec);
        int pix = copyCl ? s.cin() : xPix == 0 ? 0 : inPlace ? xPix : s.cin();
        SourceGeometry sg = xPix == 0 ? nchwSource : channelsLastSource;
        if (sg != null && sg.fits(h, w, oh, ow, pix, inPlace)) return sg;
        sg = SourceGeometry.of(s, h, w, oh, ow, pix, inPlace, ConvPlan.columnMajor(s, inPlace), ConvPlan.tilePixels(cvec, slide3, oh * ow, ow, fivePixelTiles));
        if (xPix == 0) nchwSource = sg; else channelsLastSource = sg;
        return sg;
    }

    private Loop newLoop(ConvPlan plan, CallGeometry g, float[] scratch) {
        int n = g.x().dim(0), h = g.h(), w = g.w(), oh = g.oh(), ow = g.ow();
        int xPix = CallGeometry.pixelStrideOf(g.x());
        SourceGeometry sg = source(h, w, oh, ow, xPix);
        int perTask = plan.split().perTaskFloats();
        if (plan.scratchFloats() > scratch.length) {
            throw new IllegalStateException("conv scratch too small: " + scratch.length + " < " + plan.scratchFloats());
        }
        float[] wt = packed();
        boolean resInPlace = g.residualInPlace();
        if (plan.acrossImages()) return acrossImagesLoop(plan, n, sg, wt, perTask, g, scratch, resInPlace);
        int mt = plan.tilePixels(), tiles = (oh * ow + mt - 1) / mt, units = s.panels(nrl) * tiles, chunks = plan.split().chunks();
        IntConsumer body = t -> {
            int img = t / chunks, ch = t % chunks;
            int u0 = (int) ((long) units * ch / chunks), u1 = (int) ((long) units * (ch + 1) / chunks);
            if (u0 >= u1) return;
            int sOff = t * perTask;
            int xImg = g.xOff() + img * g.xBatch();
            float[] src;
            int base;
            if (sg.inPlace()) {
                src = g.xa();
                base = xImg;
            } else {
                src = scratch;
                base = sOff + tile;
                InputStaging.copy(s, g.xa(), xImg, xPix, h, w, sg, scratch, base);
            }
            int oImg = g.oOff() + img * g.oBatch();
            int rImg = g.rOff() + img * g.rBatch();
            for (int c = u0 / tiles, cEnd = (u1 - 1) / tiles; c <= cEnd; c++) {
                int q0 = Math.max(u0 - c * tiles, 0), q1 = Math.min(u1 - c * tiles, tiles);
                if (plan.kBlock() > 0) {
                    blockedPanel(plan.epilogue(), plan.kBlock(), src, base, sg, wt, c, q0, q1, mt, scratch, sOff, g, oImg, rImg, resInPlace);
                    continue;
                }
                for (int q = q0; q < q1; q++) {
                    channelTile(plan.epilogue(), src, base, sg, wt, c, q * mt, mt, scratch, sOff, g, oImg, rImg, resInPlace);
                }
            }
        };
        return new Loop(plan, g, scratch, plan.tasks(), body);
    }

    /**
     * The loop over a batch whose convs read their input in place (1x1 and unpadded convs) on small
     * maps: the pixels of all images form one sequence, cut into tiles that may straddle two images,
     * panel-major over the whole batch. At 7x7 and 3x3 a tile of 6 then wastes no slots, and a panel's
     * weights serve every image while they are in cache. Threads take contiguous runs of tiles (at
     * batch 8 on two threads, about four images each), each run panel-major.
     */
    private Loop acrossImagesLoop(ConvPlan plan, int n, SourceGeometry sg, float[] wt, int perTask, CallGeometry g, float[] scratch,
                                  boolean resInPlace) {
        int p = g.p(), total = n * p, mt = plan.tilePixels(), tiles = (total + mt - 1) / mt;
        int panels = s.panels(nrl), k = s.k(), cout = s.cout();
        boolean relu = s.relu(), residual = s.residual(), clSource = sg.pix() != 0;
        ConvPlan.Epilogue epilogue = plan.epilogue();
        float[] xa = g.xa();
        // no more tasks than the plan's scratch has slots for (it was sized for the per-image split)
        int tasks = Math.max(1, Math.min(plan.tasks(), scratch.length / perTask));
        int[] poff = sg.poff(), koff = sg.koff();
        IntConsumer body = t -> {
            int t0 = (int) ((long) tiles * t / tasks), t1 = (int) ((long) tiles * (t + 1) / tasks);
            int sOff = t * perTask;
            for (int u = 0, units = panels * (t1 - t0); u < units; u++) {
                int c = u / (t1 - t0), q0 = (t0 + u - c * (t1 - t0)) * mt, co0 = c * nrl;
                // absolute input offsets of the tile's pixels (past the end: pixel 0, computed, never stored)
                int o0 = pixelOffset(q0, total, p, poff, g), o1 = pixelOffset(q0 + 1, total, p, poff, g);
                int o2 = pixelOffset(q0 + 2, total, p, poff, g), o3 = pixelOffset(q0 + 3, total, p, poff, g);
                int o4 = pixelOffset(q0 + 4, total, p, poff, g), o5 = pixelOffset(q0 + 5, total, p, poff, g);
                int img0 = q0 / p;
                boolean whole = q0 + mt <= (img0 + 1) * p; // a whole tile inside one image
                boolean toOutput = ConvPlan.storesToOutput(epilogue, whole, co0 + nrl <= cout, residual,
                        ConvPlan.accumulates(residual, resInPlace, true, cvec));
                runTile(xa, 0, koff, 0, k, mt, o0, o1, o2, o3, o4, o5, wt, c * k * nrl, co0, toOutput ? g.oa() : scratch,
                        toOutput ? g.oOff() + img0 * g.oBatch() + (q0 - img0 * p) * g.oPix() + co0 : sOff, toOutput ? g.oPix() : nrl,
                        toOutput && relu, toOutput && residual, clSource);
                if (toOutput) continue;
                int channels = Math.min(nrl, cout - co0), valid = Math.min(mt, total - q0);
                for (int i = 0; i < valid; ) { // one epilogue per image the tile touches
                    int q = q0 + i, img = q / p, p0 = q - img * p, len = Math.min(valid - i, p - p0);
                    epilogues.channelTile(epilogue, scratch, sOff + i * nrl, co0, channels, p0, len, null, g,
                            g.oOff() + img * g.oBatch(), g.rOff() + img * g.rBatch());
                    i += len;
                }
            }
        };
        return new Loop(plan, g, scratch, tasks, body);
    }

    /**
     * Tiles [q0, q1) of panel {@code c} of one image, K in blocks of {@code kb} input channels
     * ({@link ConvPlan#kBlock}: a 1x1 conv read in place from a channels-last source, 6x4 tap tiles).
     * Tiles that go through the tile buffer run the whole K first; then, block by block, each whole
     * tile runs that block's channels against the partial sums it left in the channels-last output
     * (the first block from the bias, or bias and residual), ReLU after the last. Each sum takes its
     * terms in the same order as in one pass, so the results keep their bits.
     */
    private void blockedPanel(ConvPlan.Epilogue epilogue, int kb, float[] src, int base, SourceGeometry sg, float[] wt, int c, int q0, int q1,
                              int mt, float[] scratch, int sOff, CallGeometry g, int oImg, int rImg, boolean resInPlace) {
        int cin = s.cin(), co0 = c * nrl;
        boolean residual = s.residual(), acc = ConvPlan.accumulates(residual, resInPlace, true, cvec);
        boolean fullPanel = co0 + nrl <= s.cout();
        for (int q = q0; q < q1; q++) {
            if (!ConvPlan.storesToOutput(epilogue, (q + 1) * mt <= g.p(), fullPanel, residual, acc)) {
                channelTile(epilogue, src, base, sg, wt, c, q * mt, mt, scratch, sOff, g, oImg, rImg, resInPlace);
            }
        }
        int[] poff = sg.poff();
        float[] dst = g.oa();
        int dStride = g.oPix();
        for (int k0 = 0; k0 < cin; k0 += kb) {
            ChannelTiles t = cin - k0 >= kb ? blockTiles : tailTiles;
            int wOff = (c * cin + k0) * nrl, b = base + k0; // a 1x1 conv: K is the input channels, a pixel's at b + its offset
            boolean first = k0 == 0, last = k0 + kb >= cin;
            for (int q = q0; q < q1; q++) {
                int p0 = q * mt;
                if (!ConvPlan.storesToOutput(epilogue, p0 + mt <= g.p(), fullPanel, residual, acc)) continue;
                int dOff = oImg + p0 * dStride + co0;
                if (first && !residual) {
                    t.t6x4Taps(src, b, KOFF0, 0, 1, poff[p0], poff[p0 + 1], poff[p0 + 2], poff[p0 + 3], poff[p0 + 4], poff[p0 + 5],
                            wt, wOff, biasT, co0, dst, dOff, dStride);
                } else { // from bias and residual (first block), else from the partial sums alone
                    t.t6x4AccTaps(src, b, KOFF0, 0, 1, poff[p0], poff[p0 + 1], poff[p0 + 2], poff[p0 + 3], poff[p0 + 4], poff[p0 + 5],
                            wt, wOff, first ? biasT : zeroBias, first ? co0 : 0, dst, dOff, dStride);
                }
                if (last && s.relu()) epilogues.reluTile(dst, dOff, dStride, mt);
            }
        }
    }

    /** Input offset of pixel {@code q} of the batch's pixel sequence ({@code total} pixels, {@code p} per image). */
    private static int pixelOffset(int q, int total, int p, int[] poff, CallGeometry g) {
        if (q >= total) return g.xOff() + poff[0];
        int img = q / p;
        return g.xOff() + img * g.xBatch() + poff[q - img * p];
    }

    /** One tile: panel {@code c}, pixels [p0, p0 + mt) of one image, then its epilogue unless it stored to the output. */
    private void channelTile(ConvPlan.Epilogue epilogue, float[] src, int base, SourceGeometry sg, float[] wt, int c, int p0, int mt,
                             float[] scratch, int sOff, CallGeometry g, int oImg, int rImg, boolean resInPlace) {
        int co0 = c * nrl, k = s.k(), cout = s.cout();
        int[] poff = sg.poff(), koff = sg.koff();
        int tile = p0 / mt, k0 = sg.kRange()[2 * tile], k1 = sg.kRange()[2 * tile + 1], wOff = (c * k + k0) * nrl;
        boolean columns = sg.opix() != null, residual = s.residual();
        boolean slideable = ConvPlan.slideable(slide3, sg.pix() != 0, columns, p0, mt, g.ow());
        boolean accumulates = ConvPlan.accumulates(residual, resInPlace, !slideable, cvec);
        // (the plain narrow tile always computes 6 pixels: a 5-pixel tile of it goes through the tile buffer)
        boolean toOutput = ConvPlan.storesToOutput(epilogue, p0 + mt <= g.p(), co0 + nrl <= cout, residual, accumulates)
                && !columns && (slideable || cvec != NR || mt == MT);
        float[] dst = toOutput ? g.oa() : scratch;
        int dOff = toOutput ? oImg + p0 * g.oPix() + co0 : sOff, dStride = toOutput ? g.oPix() : nrl;
        if (slideable) {
            // pixels along one output row, source channels-last: each input value serves up to three taps
            int o = base + poff[p0], pix = sg.pix(), rowStride = sg.wp() * pix, w0 = c * k * nrl;
            switch (ConvPlan.slideTile(cvec, mt)) {
                case T5X4_SLIDE3 -> tiles.t5x4Slide3(src, o, pix, rowStride, wt, w0, biasT, co0, dst, dOff, dStride);
                case T6X2_SLIDE3 -> tiles.t6x2Slide3(src, o, pix, rowStride, wt, w0, biasT, co0, dst, dOff, dStride);
                default -> tiles.t5x2Slide3(src, o, pix, rowStride, wt, w0, biasT, co0, dst, dOff, dStride);
            }
            if (toOutput && s.relu()) epilogues.reluTile(dst, dOff, dStride, mt);
        } else {
            runTile(src, base, koff, k0, k1, mt, poff[p0], poff[p0 + 1], poff[p0 + 2], poff[p0 + 3], poff[p0 + 4], poff[p0 + 5], wt, wOff, co0,
                    dst, dOff, dStride, toOutput && s.relu(), toOutput && residual, sg.pix() != 0);
        }
        if (!toOutput) {
            epilogues.channelTile(epilogue, scratch, sOff, co0, Math.min(nrl, cout - co0), p0, Math.min(mt, g.p() - p0), sg.opix(), g, oImg, rImg);
        }
    }

    /**
     * A plain (not sliding) tile of {@code mt} pixels at {@code base + o0 ..} over K range [k0, k1) of
     * panel row {@code wOff}, stored to {@code dst[dOff + pixel * dStride + channel]}: the tile buffer,
     * or the channels-last output itself (then {@code relu} is applied there, in place). One pass over
     * the whole K: blocking K so that a block of weights stays in L1 (accumulators parked in the tile
     * buffer between blocks) measured 5-8% slower on Zen 4; the panel streams from L2.
     */
    private void runTile(float[] src, int base, int[] koff, int k0, int k1, int mt, int o0, int o1, int o2, int o3, int o4, int o5,
                         float[] wt, int wOff, int co0, float[] dst, int dOff, int dStride, boolean relu, boolean acc, boolean channelsLastSource) {
        int cin = s.cin();
        switch (ConvPlan.plainTile(cvec, mt, acc, channelsLastSource)) {
            case T5X4_ACC -> tiles.t5x4Acc(src, base, koff, k0, k1, o0, o1, o2, o3, o4, wt, wOff, biasT, co0, dst, dOff, dStride);
            case T6X4_ACC -> tiles.t6x4Acc(src, base, koff, k0, k1, o0, o1, o2, o3, o4, o5, wt, wOff, biasT, co0, dst, dOff, dStride);
            case T6X4_ACC_TAPS -> tiles.t6x4AccTaps(src, base, koff, k0 / cin, k1 / cin, o0, o1, o2, o3, o4, o5, wt, wOff, biasT, co0, dst, dOff, dStride);
            case T4X5 -> tiles.t4x5(src, base, koff, k0, k1, o0, o1, o2, o3, wt, wOff, biasT, co0, dst, dOff, dStride);
            case T5X4 -> tiles.t5x4(src, base, koff, k0, k1, o0, o1, o2, o3, o4, wt, wOff, biasT, co0, dst, dOff, dStride);
            case T6X4_TAPS -> tiles.t6x4Taps(src, base, koff, k0 / cin, k1 / cin, o0, o1, o2, o3, o4, o5, wt, wOff, biasT, co0, dst, dOff, dStride);
            case T6X2_TAPS -> tiles.t6x2Taps(src, base, koff, k0 / cin, k1 / cin, o0, o1, o2, o3, o4, o5, wt, wOff, biasT, co0, dst, dOff, dStride);
            default -> tiles.t6x2(src, base, koff, k0, k1, o0, o1, o2, o3, o4, o5, wt, wOff, biasT, co0, dst, dOff, dStride);
        }
        if (relu) epilogues.reluTile(dst, dOff, dStride, mt);
    }
}
