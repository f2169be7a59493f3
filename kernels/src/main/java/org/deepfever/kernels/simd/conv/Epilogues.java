package org.deepfever.kernels.simd.conv;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.kernels.simd.Simd;

/**
 * A conv's epilogues: from a tile's raw sums in the per-task tile buffer to the output, with the
 * residual added and ReLU applied (the channel-vector tiles started from the bias already; the
 * pixel-vector ones add it here). One instance per conv: its activation, residual and panel width.
 * Separate methods from the tiles on purpose: data-dependent branches (the residual, ReLU, a ragged
 * tail) stay out of the FMA loops, and C2 compiles each with a whole inlining budget (ReLU inside the
 * tile methods took C2 past it, and the Vector API fell back to boxed code, 10x slower).
 */
final class Epilogues {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;

    private final boolean relu, residual;
    /** Floats per channel-vector panel (the tile buffer's row stride there), and its channel vectors. */
    private final int nrl, cvec;
    /** The bias (pixel-vector tiles start from zero). */
    private final float[] bias;

    Epilogues(ConvSpec s, float[] bias, int panelVectors) {
        this.relu = s.relu();
        this.residual = s.residual();
        this.cvec = panelVectors;
        this.nrl = panelVectors * L;
        this.bias = bias;
    }

    // ------------------------------------------------------------------ channel-vector

    /**
     * Epilogue of one channel-vector tile ({@code valid} pixels from {@code p0} of one image, in tile
     * order {@code opix} or row-major when null) by the output's and residual's layouts.
     */
    void channelTile(ConvPlan.Epilogue e, float[] scratch, int tOff, int co0, int channels, int p0, int valid, int[] opix,
                     CallGeometry g, int oImg, int rImg) {
        if (e == ConvPlan.Epilogue.TRANSPOSE) transpose(scratch, tOff, co0, channels, p0, valid, opix, g, oImg, rImg);
        else if (e == ConvPlan.Epilogue.CHANNELS_LAST) channelsLast(scratch, tOff, co0, channels, p0, valid, opix, g, oImg, rImg);
        else mixed(scratch, tOff, co0, channels, p0, valid, opix, g, oImg, rImg);
    }

    /**
     * Transposing epilogue: tile[pixel][channel] (bias already in) -> out[channel][pixel], with
     * residual and ReLU; full tiles (6 or 5 pixels) unrolled (this runs once per output element, scalar).
     */
    private void transpose(float[] tile, int tOff, int co0, int channels, int p0, int valid, int[] opix, CallGeometry g, int oImg, int rImg) {
        int p = g.p();
        float[] oa = g.oa(), ra = g.ra();
        int nrl = this.nrl;
        if (opix != null) { // column-major tile order
            for (int i = 0; i < valid; i++) {
                int q = opix[p0 + i];
                for (int c = 0; c < channels; c++) {
                    float v = tile[tOff + i * nrl + c];
                    if (residual) v += ra[rImg + (co0 + c) * p + q];
                    if (relu) v = Math.max(v, 0f);
                    oa[oImg + (co0 + c) * p + q] = v;
                }
            }
            return;
        }
        if (valid == ConvPlan.MT) {
            for (int c = 0; c < channels; c++) {
                int t = tOff + c, o = oImg + (co0 + c) * p + p0;
                float v0 = tile[t], v1 = tile[t + nrl], v2 = tile[t + 2 * nrl];
                float v3 = tile[t + 3 * nrl], v4 = tile[t + 4 * nrl], v5 = tile[t + 5 * nrl];
                if (residual) {
                    int r = rImg + (co0 + c) * p + p0;
                    v0 += ra[r];
                    v1 += ra[r + 1];
                    v2 += ra[r + 2];
                    v3 += ra[r + 3];
                    v4 += ra[r + 4];
                    v5 += ra[r + 5];
                }
                if (relu) {
                    v0 = Math.max(v0, 0f);
                    v1 = Math.max(v1, 0f);
                    v2 = Math.max(v2, 0f);
                    v3 = Math.max(v3, 0f);
                    v4 = Math.max(v4, 0f);
                    v5 = Math.max(v5, 0f);
                }
                oa[o] = v0;
                oa[o + 1] = v1;
                oa[o + 2] = v2;
                oa[o + 3] = v3;
                oa[o + 4] = v4;
                oa[o + 5] = v5;
            }
            return;
        }
        if (valid == 5) { // full tiles of the 5-pixel kernel
            for (int c = 0; c < channels; c++) {
                int t = tOff + c, o = oImg + (co0 + c) * p + p0;
                float v0 = tile[t], v1 = tile[t + nrl], v2 = tile[t + 2 * nrl];
                float v3 = tile[t + 3 * nrl], v4 = tile[t + 4 * nrl];
                if (residual) {
                    int r = rImg + (co0 + c) * p + p0;
                    v0 += ra[r];
                    v1 += ra[r + 1];
                    v2 += ra[r + 2];
                    v3 += ra[r + 3];
                    v4 += ra[r + 4];
                }
                if (relu) {
                    v0 = Math.max(v0, 0f);
                    v1 = Math.max(v1, 0f);
                    v2 = Math.max(v2, 0f);
                    v3 = Math.max(v3, 0f);
                    v4 = Math.max(v4, 0f);
                }
                oa[o] = v0;
                oa[o + 1] = v1;
                oa[o + 2] = v2;
                oa[o + 3] = v3;
                oa[o + 4] = v4;
            }
            return;
        }
        for (int c = 0; c < channels; c++) {
            int o = oImg + (co0 + c) * p + p0, r = rImg + (co0 + c) * p + p0;
            for (int i = 0; i < valid; i++) {
                float v = tile[tOff + i * nrl + c];
                if (residual) v += ra[r + i];
                if (relu) v = Math.max(v, 0f);
                oa[o + i] = v;
            }
        }
    }

    /**
     * Channels-last epilogue: tile[pixel][channel] (bias already in) -> out[pixel][channel], residual
     * (channels-last too) and ReLU, whole vectors and a scalar tail of channels.
     */
    private void channelsLast(float[] tile, int tOff, int co0, int channels, int p0, int valid, int[] opix, CallGeometry g, int oImg, int rImg) {
        float[] oa = g.oa(), ra = g.ra();
        int nrl = this.nrl, oPix = g.oPix(), rPix = g.rPix();
        int full = Simd.loopBound(channels);
        for (int i = 0; i < valid; i++) {
            int q = opix == null ? p0 + i : opix[p0 + i];
            int t = tOff + i * nrl, o = oImg + q * oPix + co0, r = rImg + q * rPix + co0;
            int c = 0;
            for (; c < full; c += L) {
                FloatVector v = FloatVector.fromArray(S, tile, t + c);
                if (residual) v = v.add(FloatVector.fromArray(S, ra, r + c));
                if (relu) v = Simd.relu(v);
                v.intoArray(oa, o + c);
            }
            for (; c < channels; c++) {
                float v = tile[t + c];
                if (residual) v += ra[r + c];
                if (relu) v = Math.max(v, 0f);
                oa[o + c] = v;
            }
        }
    }

    /** Epilogue for an output and residual in different layouts (the executor avoids it; kept correct, scalar). */
    private void mixed(float[] tile, int tOff, int co0, int channels, int p0, int valid, int[] opix, CallGeometry g, int oImg, int rImg) {
        float[] oa = g.oa(), ra = g.ra();
        int nrl = this.nrl;
        for (int i = 0; i < valid; i++) {
            int q = opix == null ? p0 + i : opix[p0 + i];
            for (int c = 0; c < channels; c++) {
                float v = tile[tOff + i * nrl + c];
                if (residual) v += ra[rImg + g.rIndex(co0 + c, q)];
                if (relu) v = Math.max(v, 0f);
                oa[oImg + g.oIndex(co0 + c, q)] = v;
            }
        }
    }

    /**
     * ReLU in place over a tile just stored to a channels-last output (L1-hot), {@code mt} pixels
     * {@code dStride} apart; inside the tile methods it took C2 past its inlining budget.
     */
    void reluTile(float[] dst, int dOff, int dStride, int mt) {
        for (int i = 0; i < mt; i++) {
            for (int j = 0, d = dOff + i * dStride; j < cvec; j++, d += L) Simd.relu(FloatVector.fromArray(S, dst, d)).intoArray(dst, d);
        }
    }

    // ------------------------------------------------------------------ pixel-vector

    /**
     * Epilogue of one pixel-vector tile from the tile buffer ({@code rows} x {@code valid} pixels, row
     * stride NR*L): bias, residual, ReLU, stored into the output; the last partial vector scalar.
     */
    void pixelTile(float[] tile, int tOff, int co0, int rows, int valid, CallGeometry g, int oOff, int rOff) {
        int p = g.p();
        float[] oa = g.oa(), ra = g.ra();
        int full = Simd.loopBound(valid);
        for (int r = 0; r < rows; r++) {
            int t = tOff + r * ConvPlan.NR * L, o = oOff + r * p, q = rOff + r * p;
            float bv = bias[co0 + r];
            int j = 0;
            for (; j < full; j += L) {
                FloatVector v = FloatVector.fromArray(S, tile, t + j).add(bv);
                if (residual) v = v.add(FloatVector.fromArray(S, ra, q + j));
                if (relu) v = Simd.relu(v);
                v.intoArray(oa, o + j);
            }
            for (; j < valid; j++) {
                float v = tile[t + j] + bv;
                if (residual) v += ra[q + j];
                if (relu) v = Math.max(v, 0f);
                oa[o + j] = v;
            }
        }
    }
}
