package org.deepfever.kernels.simd.conv;

/**
 * The input side of a channel-vector call for one input size: where the tiles read (the input itself
 * or a zero-padded copy of {@code hp} x {@code wp} pixels), per K index the offset of its tap and
 * channel ({@code koff}), per output pixel in tile order its window's origin ({@code poff}), the tile
 * order itself ({@code opix}: null for row-major), and per tile the range of K it needs ({@code kRange}).
 *
 * @param pix     0 when the source is NCHW, else its pixel stride (channels-last: the input's own for
 *                an input read in place, cin for a copy)
 * @param inPlace the source is the input itself
 */
record SourceGeometry(int h, int w, int oh, int ow, int pix, boolean inPlace, int hp, int wp, int[] koff, int[] poff,
                      int[] opix, int[] kRange) {

    /** Pixels of the source's plane. */
    int plane() { return hp * wp; }

    /** Whether this geometry serves a call of these sizes and source layout. */
    boolean fits(int h, int w, int oh, int ow, int pix, boolean inPlace) {
        return this.h == h && this.w == w && this.oh == oh && this.ow == ow && this.pix == pix && this.inPlace == inPlace;
    }

    /**
     * The geometry of a call: {@code pix} as the record's, {@code columns} for column-major tile
     * order (padded 1xN convs), {@code mt} pixels per tile.
     */
    static SourceGeometry of(ConvSpec s, int h, int w, int oh, int ow, int pix, boolean inPlace, boolean columns, int mt) {
        int hp, wp;
        if (inPlace) { // the input itself: no copy, no padding
            hp = h;
            wp = w;
        } else {      // just the rows and columns some window touches, padding included
            hp = (oh - 1) * s.sh() + (s.kh() - 1) * s.dh() + 1;
            wp = (ow - 1) * s.sw() + (s.kw() - 1) * s.dw() + 1;
        }
        int k = s.k(), cin = s.cin(), kw = s.kw();
        // K in tap-major order (see WeightPacking): kk = (y * kw + x) * cin + ci
        int[] koff = new int[k];
        for (int kk = 0; kk < k; kk++) {
            int tap = kk / cin, ci = kk % cin, y = tap / kw * s.dh(), x = tap % kw * s.dw();
            koff[kk] = pix == 0 ? ci * hp * wp + y * wp + x : (y * wp + x) * pix + ci;
        }
        // Tile order of the output pixels: row-major, or column-major so that a tile's pixels share
        // their columns and with them the taps that fall inside the input.
        int p = oh * ow;
        int[] opix = null;
        if (columns) {
            opix = new int[p];
            for (int q = 0; q < p; q++) opix[q] = q % oh * ow + q / oh;
        }
        // per tile-order pixel, its window origin in the (padded) image; whole tiles (of up to
        // ConvPlan.MT), the pixels past the end pointing at pixel 0 (computed, never stored)
        int[] poff = new int[p + ConvPlan.MT];
        for (int q = 0; q < p; q++) {
            int o = opix == null ? q : opix[q];
            poff[q] = (o / ow * s.sh() * wp + o % ow * s.sw()) * Math.max(pix, 1);
        }
        return new SourceGeometry(h, w, oh, ow, pix, inPlace, hp, wp, koff, poff, opix, tapRanges(s, h, w, oh, ow, opix, mt));
    }

    /**
     * Per tile of {@code mt} pixels (in tile order {@code opix}), the range [k0, k1) of tap-major K that
     * holds every tap some pixel of the tile reads inside the input: the taps left out read only zero
     * padding for all of the tile's pixels. The range covers the union of the pixels' valid (ky, kx)
     * rectangles: exact for 1xN and Nx1 kernels, whole kernel rows for 2-D ones. A 7x7 map's 1x7 and
     * 7x1 convs skip 21% of their multiply-adds this way.
     */
    private static int[] tapRanges(ConvSpec s, int h, int w, int oh, int ow, int[] opix, int mt) {
        int kh = s.kh(), kw = s.kw(), p = oh * ow, tiles = (p + mt - 1) / mt;
        int[] r = new int[2 * tiles];
        for (int t = 0; t < tiles; t++) {
            int y0 = kh, y1 = 0, x0 = kw, x1 = 0;
            for (int q = t * mt; q < Math.min(p, (t + 1) * mt); q++) {
                int o = opix == null ? q : opix[q];
                int iy = o / ow * s.sh() - s.pt(), ix = o % ow * s.sw() - s.pl();
                // taps with 0 <= iy + ky*dh < h (likewise x)
                int a = Math.max(0, Math.ceilDiv(-iy, s.dh())), b = Math.min(kh, Math.ceilDiv(h - iy, s.dh()));
                int c = Math.max(0, Math.ceilDiv(-ix, s.dw())), d = Math.min(kw, Math.ceilDiv(w - ix, s.dw()));
                if (a >= b || c >= d) continue; // this pixel reads padding only: its output is the bias
                y0 = Math.min(y0, a);
                y1 = Math.max(y1, b);
                x0 = Math.min(x0, c);
                x1 = Math.max(x1, d);
            }
            if (y0 >= y1) continue; // [0, 0): the whole tile is bias only
            r[2 * t] = (y0 * kw + x0) * s.cin();
            r[2 * t + 1] = ((y1 - 1) * kw + x1) * s.cin();
        }
        return r;
    }
}
