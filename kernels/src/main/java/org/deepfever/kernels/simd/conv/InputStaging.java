package org.deepfever.kernels.simd.conv;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.kernels.simd.Simd;

/**
 * Gets a conv's input into the form its tiles read, in the task's scratch: im2col blocks for the
 * pixel-vector orientation, zero-padded copies (NCHW, channels-last, or NCHW transposed to
 * channels-last) for the channel-vector one. Only what some window touches is copied.
 */
final class InputStaging {
    private InputStaging() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;

    /** Lane indexes 0, 2, 4, ... into two concatenated vectors: their even lanes (stride-2 im2col). */
    private static final FloatVector EVEN_LANES = Simd.SCALAR ? null : FloatVector.fromArray(S, evenIndexes(), 0);

    private static float[] evenIndexes() {
        float[] idx = new float[L];
        for (int i = 0; i < L; i++) idx[i] = 2 * i;
        return idx;
    }

    /**
     * B rows for pixels [p0, p0 + nvb*L) of the image at {@code xImg}: row kk at
     * {@code dst[dOff + kk*nvb*L ...]}, zero for padding and for pixels past the end; K in the
     * weights' own order, kk = (ci * kh + y) * kw + x.
     */
    static void im2col(ConvSpec s, CallGeometry g, int xImg, int p0, int nvb, float[] dst, int dOff) {
        int stride = nvb * L;
        int p = g.p(), ow = g.ow(), h = g.h(), w = g.w();
        int kw = s.kw(), sh = s.sh(), sw = s.sw(), pt = s.pt(), pl = s.pl(), dh = s.dh(), dw = s.dw();
        int pEnd = Math.min(p0 + stride, p);
        float[] xa = g.xa();
        int plane = h * w;
        int taps = s.kh() * kw;
        for (int kk = 0, k = s.k(); kk < k; kk++) {
            int row = dOff + kk * stride;
            int tap = kk % taps, kyOff = tap / kw * dh;
            int chan = xImg + kk / taps * plane;
            int c = tap % kw * dw - pl;
            // valid ox: 0 <= ox*sw + c < w
            int oxLo = Math.max(0, Math.ceilDiv(-c, sw));
            int oxHi = Math.floorDiv(w - 1 - c, sw) + 1;
            int q = p0;
            while (q < pEnd) {
                int oy = q / ow;
                int ox0 = q - oy * ow;
                int len = Math.min(pEnd - q, ow - ox0);
                int d = row + (q - p0);
                int iy = oy * sh - pt + kyOff;
                if (iy < 0 || iy >= h) {
                    Arrays.fill(dst, d, d + len, 0f);
                } else {
                    int lo = Math.min(Math.max(ox0, oxLo), ox0 + len);
                    int hi = Math.max(Math.min(ox0 + len, oxHi), lo);
                    if (lo > ox0) Arrays.fill(dst, d, d + (lo - ox0), 0f);
                    int src = chan + iy * w + c;
                    if (sw == 1) {
                        // (an empty run may start before the array: padding wider than the kernel)
                        if (hi > lo) System.arraycopy(xa, src + lo, dst, d + (lo - ox0), hi - lo);
                    } else {
                        int ox = lo;
                        if (sw == 2 && !Simd.SCALAR) {
                            // the even lanes of two consecutive vectors (one two-vector permute per L outputs),
                            // while both vectors lie inside the input array
                            for (int end = Math.min(hi - L, Math.floorDiv(xa.length - 2 * L - src, 2)); ox <= end; ox += L) {
                                FloatVector a = FloatVector.fromArray(S, xa, src + 2 * ox);
                                FloatVector b = FloatVector.fromArray(S, xa, src + 2 * ox + L);
                                EVEN_LANES.selectFrom(a, b).intoArray(dst, d + (ox - ox0));
                            }
                        }
                        for (; ox < hi; ox++) dst[d + (ox - ox0)] = xa[src + ox * sw];
                    }
                    if (hi < ox0 + len) Arrays.fill(dst, d + (hi - ox0), d + len, 0f);
                }
                q += len;
            }
            if (pEnd < p0 + stride) Arrays.fill(dst, row + (pEnd - p0), row + stride, 0f);
        }
    }

    /**
     * The source a channel-vector call's tiles read for one image, made in {@code dst[dOff ..]} unless
     * the input is read in place: by the input's layout ({@code xPix}: 0 for NCHW) and the source's.
     */
    static void copy(ConvSpec s, float[] xa, int xImg, int xPix, int h, int w, SourceGeometry sg, float[] dst, int dOff) {
        if (xPix == 0 && sg.pix() != 0) padCopyNchwToChannelsLast(s, xa, xImg, h, w, sg, dst, dOff);
        else if (xPix == 0) padCopy(s, xa, xImg, h, w, sg, dst, dOff);
        else padCopyChannelsLast(s, xa, xImg, xPix, h, w, sg, dst, dOff);
    }

    /** Zero-padded copy of one NCHW image: rows/columns some window touches, [cin][hp][wp]. */
    private static void padCopy(ConvSpec s, float[] xa, int xImg, int h, int w, SourceGeometry sg, float[] dst, int dOff) {
        int hp = sg.hp(), wp = sg.wp(), pt = s.pt(), pl = s.pl();
        int xLo = Math.min(pl, wp), xHi = Math.min(wp, pl + w); // padded columns holding input
        for (int ci = 0; ci < s.cin(); ci++) {
            for (int yp = 0; yp < hp; yp++) {
                int d = dOff + (ci * hp + yp) * wp;
                int iy = yp - pt;
                if (iy < 0 || iy >= h || xHi <= xLo) {
                    Arrays.fill(dst, d, d + wp, 0f);
                    continue;
                }
                if (xLo > 0) Arrays.fill(dst, d, d + xLo, 0f);
                System.arraycopy(xa, xImg + (ci * h + iy) * w + (xLo - pl), dst, d + xLo, xHi - xLo);
                if (xHi < wp) Arrays.fill(dst, d + xHi, d + wp, 0f);
            }
        }
    }

    /** Zero-padded channels-last copy of one NCHW image (wide panels): rows/columns some window touches, [hp][wp][cin]. */
    private static void padCopyNchwToChannelsLast(ConvSpec s, float[] xa, int xImg, int h, int w, SourceGeometry sg, float[] dst, int dOff) {
        int hp = sg.hp(), wp = sg.wp(), plane = h * w, cin = s.cin(), pt = s.pt(), pl = s.pl();
        Arrays.fill(dst, dOff, dOff + hp * wp * cin, 0f);
        for (int yp = 0; yp < hp; yp++) {
            int iy = yp - pt;
            if (iy < 0 || iy >= h) continue;
            for (int xp = Math.max(0, pl), xEnd = Math.min(wp, pl + w); xp < xEnd; xp++) {
                int src = xImg + iy * w + xp - pl, d = dOff + (yp * wp + xp) * cin;
                for (int ci = 0; ci < cin; ci++, src += plane) dst[d + ci] = xa[src];
            }
        }
    }

    /** Zero-padded channels-last copy of one channels-last image (pixel stride {@code xPix}): [hp][wp][cin]. */
    private static void padCopyChannelsLast(ConvSpec s, float[] xa, int xImg, int xPix, int h, int w, SourceGeometry sg, float[] dst, int dOff) {
        int hp = sg.hp(), wp = sg.wp(), cin = s.cin(), pt = s.pt(), pl = s.pl();
        int xLo = Math.min(pl, wp), xHi = Math.max(xLo, Math.min(wp, pl + w)); // padded columns holding input
        for (int yp = 0; yp < hp; yp++) {
            int d = dOff + yp * wp * cin;
            int iy = yp - pt;
            if (iy < 0 || iy >= h || xHi <= xLo) {
                Arrays.fill(dst, d, d + wp * cin, 0f);
                continue;
            }
            Arrays.fill(dst, d, d + xLo * cin, 0f);
            int src = xImg + (iy * w + (xLo - pl)) * xPix;
            if (xPix == cin) {
                System.arraycopy(xa, src, dst, d + xLo * cin, (xHi - xLo) * cin);
            } else {
                for (int xp = xLo; xp < xHi; xp++, src += xPix) System.arraycopy(xa, src, dst, d + xp * cin, cin);
            }
            Arrays.fill(dst, d + xHi * cin, d + wp * cin, 0f);
        }
    }
}
