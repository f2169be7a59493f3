package org.deepfever.kernels.simd.conv;

import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.op.Conv2d;
import org.deepfever.kernels.simd.Simd;

/**
 * The pixel-vector orientation: per image {@code C[Cout][P] = W[Cout][K] * B[K][P]}, vectors along
 * output pixels. W packed into panels {@code [Cout/MR][K][MR]} (the last panel zero-padded), so the
 * tile reads MR consecutive weights per K index; B the input image itself for a 1x1 stride-1
 * unpadded conv (only a final partial vector of pixels is copied out), else im2col blocks of pixels
 * sized to stay in L2. The tile ({@link PixelTiles}) holds MR x NR vectors of C over the whole K;
 * the epilogue then adds bias and residual, applies ReLU and writes the output rows.
 */
final class PixelVectorConv {
    private static final int L = Simd.LANES;
    private static final int MR = ConvPlan.MR, NR = ConvPlan.NR;

    private final Conv2d op;
    private final ConvSpec s;
    private final Epilogues epilogues;
    /** The register tiles, with this conv's K. */
    private final PixelTiles tiles;
    private final int tile;
    /** The packed weights, made on first need (immutable once published). */
    private volatile float[] packed;

    PixelVectorConv(Conv2d op, ConvSpec s, float[] bias) {
        this.op = op;
        this.s = s;
        this.epilogues = new Epilogues(s, bias, ConvPlan.NR);
        this.tiles = new PixelTiles(s.k());
        this.tile = ConvPlan.tileBufferFloats(L);
    }

    /** Panels {@code [Cout/MR][K][MR]}, packed on first need (the plan's scratchFloats call). */
    float[] packed() {
        float[] a = packed;
        if (a != null) return a;
        synchronized (this) {
            if (packed == null) packed = WeightPacking.panels(op, s, MR, false);
            return packed;
        }
    }

    /**
     * Runs a call as {@code plan} says (NCHW tensors only).
     *
     * @throws IllegalStateException when the executor's scratch is smaller than the plan's
     */
    void run(ConvPlan plan, CallGeometry g, ExecContext ctx) {
        ConvPlan.Split sp = plan.split();
        float[] scratch = ctx.scratch();
        if (plan.scratchFloats() > scratch.length) {
            throw new IllegalStateException("conv scratch too small: " + scratch.length + " < " + plan.scratchFloats());
        }
        int p = g.p(), nv = (p + L - 1) / L, pixelTiles = (nv + NR - 1) / NR, panels = s.panels(MR);
        int pcs = sp.pixelChunks(), ccs = sp.coutChunks(), perTask = sp.perTaskFloats(), blockVectors = sp.blockVectors();
        ctx.pool().parallelFor(plan.tasks(), t -> {
            int img = t / (pcs * ccs);
            int rem = t % (pcs * ccs);
            int pc = rem / ccs, cc = rem % ccs;
            int v0 = (int) ((long) pixelTiles * pc / pcs) * NR;
            int v1 = Math.min(nv, (int) ((long) pixelTiles * (pc + 1) / pcs) * NR);
            int t0 = (int) ((long) panels * cc / ccs);
            int t1 = (int) ((long) panels * (cc + 1) / ccs);
            runTask(g, img, v0, v1, t0, t1, scratch, t * perTask, blockVectors);
        });
    }

    /** Pixel vectors [v0, v1) x panels [t0, t1) of one image, im2col block by block (ConvPlan.pixelTiles mirrors the blocks). */
    private void runTask(CallGeometry g, int img, int v0, int v1, int t0, int t1, float[] scratch, int sOff, int blockVectors) {
        if (v0 >= v1 || t0 >= t1) return;
        int p = g.p();
        int xImg = g.xOff() + img * g.xBatch();
        int oImg = g.oOff() + img * g.oBatch();
        int rImg = g.rOff() + img * g.rBatch();
        if (s.direct()) {
            int fullVectors = p / L;
            int d1 = Math.min(v1, fullVectors);
            if (v0 < d1) gemmBlock(g, g.xa(), xImg + v0 * L, p, v0 * L, d1 - v0, t0, t1, oImg, rImg, scratch, sOff);
            if (v1 > fullVectors) { // the final partial vector, copied out zero-padded
                int p0 = fullVectors * L;
                InputStaging.im2col(s, g, xImg, p0, 1, scratch, sOff + tile);
                gemmBlock(g, scratch, sOff + tile, L, p0, 1, t0, t1, oImg, rImg, scratch, sOff);
            }
            return;
        }
        for (int vb = v0; vb < v1; vb += blockVectors) {
            int nvb = Math.min(blockVectors, v1 - vb);
            InputStaging.im2col(s, g, xImg, vb * L, nvb, scratch, sOff + tile);
            gemmBlock(g, scratch, sOff + tile, nvb * L, vb * L, nvb, t0, t1, oImg, rImg, scratch, sOff);
        }
    }

    /** All (panel, pixel tile) pairs of one B block: panels [t0, t1), vectors [0, nvb) of B starting at pixel p0. */
    private void gemmBlock(CallGeometry g, float[] b, int bOff, int bStride, int p0, int nvb, int t0, int t1, int oImg, int rImg,
                           float[] tile, int tOff) {
        int p = g.p(), k = s.k(), cout = s.cout();
        float[] wp = packed();
        for (int t = t0; t < t1; t++) {
            int co0 = t * MR;
            int rows = Math.min(MR, cout - co0);
            int wOff = t * k * MR;
            for (int j = 0; j < nvb; j += NR) {
                int q = p0 + j * L;
                int valid = Math.min(p - q, Math.min(NR, nvb - j) * L);
                int oOff = oImg + co0 * p + q;
                int rOff = rImg + co0 * p + q;
                if (Simd.SCALAR) {
                    tileScalar(wp, Math.min(NR, nvb - j), b, bOff + j * L, bStride, wOff, tile, tOff);
                } else if (nvb - j >= 2) {
                    tiles.p6x2(wp, b, bOff + j * L, bStride, wOff, tile, tOff);
                } else {
                    tiles.p6x1(wp, b, bOff + j * L, bStride, wOff, tile, tOff);
                }
                epilogues.pixelTile(tile, tOff, co0, rows, valid, g, oOff, rOff);
            }
        }
    }

    /** Scalar path (LANES == 1): the same tile, plain loops, into the same tile buffer layout ({@link PixelTiles#s6x2}). */
    private void tileScalar(float[] packed, int nr, float[] b, int bOff, int bStride, int wOff, float[] tile, int tOff) {
        if (nr == NR) {
            tiles.s6x2(packed, b, bOff, bStride, wOff, tile, tOff);
            return;
        }
        int k = s.k();
        for (int r = 0; r < MR; r++) {
            for (int j = 0; j < nr; j++) {
                float acc = 0f;
                for (int kk = 0; kk < k; kk++) acc = Math.fma(packed[wOff + kk * MR + r], b[bOff + kk * bStride + j], acc);
                tile[tOff + r * NR + j] = acc;
            }
        }
    }
}
