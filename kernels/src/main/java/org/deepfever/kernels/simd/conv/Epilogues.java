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
     * residual and ReLU. Scalar, once per output element; in DeepFEVER only the 3x3 "project" conv
     * writes NCHW (1152 outputs per image), so it is kept plain (it had 6- and 5-pixel unrolled copies).
     */
    private void transpose(float[] tile, int tOff, int co0, int channels, int p0, int valid, int[] opix, CallGeometry g, int oImg, int rImg) {
        int p = g.p();
        float[] oa = g.oa(), ra = g.ra();
        int nrl = this.nrl;
        for (int c = 0; c < channels; c++) {
            int o = oImg + (co0 + c) * p, r = rImg + (co0 + c) * p;
            for (int i = 0; i < valid; i++) {
                int q = opix == null ? p0 + i : opix[p0 + i];
                float v = tile[tOff + i * nrl + c];
                if (residual) v += ra[r + q];
                if (relu) v = Math.max(v, 0f);
                oa[o + q] = v;
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
