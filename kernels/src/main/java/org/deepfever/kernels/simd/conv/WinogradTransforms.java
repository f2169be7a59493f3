package org.deepfever.kernels.simd.conv;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.core.Tensor;
import org.deepfever.kernels.simd.Simd;

/**
 * The three transforms of Winograd F(2x2, 3x3) ({@link WinogradConv}): the weights' {@code U = G g Gt}
 * (once, in double), the input's {@code V = Bt d B} and the output's {@code Y = At M A}, per channel
 * vector or per channel. The vector ones are written out in full, one method each: a helper taking or
 * returning vectors, left out of line once C2's inlining budget runs out, boxes them.
 */
final class WinogradTransforms {
    private WinogradTransforms() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;

    /** A tensor's array and addressing: element (img, c, pixel) at off + img * batch + c * cs + pixel * ps. */
    record Layout(float[] a, int off, int batch, int cs, int ps) {
        /** Channels-last: channel stride 1, the tensor's pixel stride; NCHW: one plane per channel, pixel stride 1. */
        static Layout of(Tensor t) {
            boolean cl = t.isChannelsLast();
            return new Layout(t.array(), t.arrayOffset(), Math.toIntExact(t.batchStride()),
                    cl ? 1 : t.dim(2) * t.dim(3), cl ? Math.toIntExact(t.pixelStride()) : 1);
        }
    }

    /**
     * {@code U = G g Gt} (G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]]) of {@code cin} 3x3
     * kernels from {@code g[gOff ..]} (9 floats each), in double, rounded once: point
     * {@code xi} of kernel ci to {@code u[o + xi * xiStride + ci * w]}.
     */
    static void transformKernels(float[] g, int gOff, int cin, float[] u, int o, int xiStride, int w) {
        for (int ci = 0; ci < cin; ci++, gOff += 9, o += w) {
            // G g: rows g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2 of the kernel's rows, per column
            double a0 = g[gOff], a1 = g[gOff + 1], a2 = g[gOff + 2];
            double b0 = g[gOff + 3], b1 = g[gOff + 4], b2 = g[gOff + 5];
            double c0 = g[gOff + 6], c1 = g[gOff + 7], c2 = g[gOff + 8];
            double p0 = 0.5 * (a0 + b0 + c0), p1 = 0.5 * (a1 + b1 + c1), p2 = 0.5 * (a2 + b2 + c2);
            double m0 = 0.5 * (a0 - b0 + c0), m1 = 0.5 * (a1 - b1 + c1), m2 = 0.5 * (a2 - b2 + c2);
            // (G g) Gt: the same along each of the four rows
            row(a0, a1, a2, u, o, xiStride);
            row(p0, p1, p2, u, o + 4 * xiStride, xiStride);
            row(m0, m1, m2, u, o + 8 * xiStride, xiStride);
            row(c0, c1, c2, u, o + 12 * xiStride, xiStride);
        }
    }

    private static void row(double a, double b, double c, float[] u, int o, int xiStride) {
        u[o] = (float) a;
        u[o + xiStride] = (float) (0.5 * (a + b + c));
        u[o + 2 * xiStride] = (float) (0.5 * (a - b + c));
        u[o + 3 * xiStride] = (float) c;
    }

    /**
     * One channel vector of a tile's input transform (channels-last: each patch pixel's channels are
     * contiguous): patch pixel k's vector from {@code src[k]} at {@code off[k] + c}, the zero row for
     * pixels outside the input (no branch). Written out in full: a helper taking or returning
     * vectors, left out of line once C2's inlining budget runs out, boxes them.
     */
    static void transformVector(float[][] src, int[] off, int c, float[] s, int d, int stride) {
        // Bt d, per column j: r0 = d0 - d2, r1 = d1 + d2, r2 = d2 - d1, r3 = d1 - d3 (rows of the patch)
        FloatVector d0 = FloatVector.fromArray(S, src[0], off[0] + c), d1 = FloatVector.fromArray(S, src[4], off[4] + c);
        FloatVector d2 = FloatVector.fromArray(S, src[8], off[8] + c), d3 = FloatVector.fromArray(S, src[12], off[12] + c);
        FloatVector r00 = d0.sub(d2), r10 = d1.add(d2), r20 = d2.sub(d1), r30 = d1.sub(d3);
        d0 = FloatVector.fromArray(S, src[1], off[1] + c);
        d1 = FloatVector.fromArray(S, src[5], off[5] + c);
        d2 = FloatVector.fromArray(S, src[9], off[9] + c);
        d3 = FloatVector.fromArray(S, src[13], off[13] + c);
        FloatVector r01 = d0.sub(d2), r11 = d1.add(d2), r21 = d2.sub(d1), r31 = d1.sub(d3);
        d0 = FloatVector.fromArray(S, src[2], off[2] + c);
        d1 = FloatVector.fromArray(S, src[6], off[6] + c);
        d2 = FloatVector.fromArray(S, src[10], off[10] + c);
        d3 = FloatVector.fromArray(S, src[14], off[14] + c);
        FloatVector r02 = d0.sub(d2), r12 = d1.add(d2), r22 = d2.sub(d1), r32 = d1.sub(d3);
        d0 = FloatVector.fromArray(S, src[3], off[3] + c);
        d1 = FloatVector.fromArray(S, src[7], off[7] + c);
        d2 = FloatVector.fromArray(S, src[11], off[11] + c);
        d3 = FloatVector.fromArray(S, src[15], off[15] + c);
        FloatVector r03 = d0.sub(d2), r13 = d1.add(d2), r23 = d2.sub(d1), r33 = d1.sub(d3);
        // (Bt d) B: the same along each row i, point 4i + j at d + (4i + j) * stride
        r00.sub(r02).intoArray(s, d);
        r01.add(r02).intoArray(s, d + stride);
        r02.sub(r01).intoArray(s, d + 2 * stride);
        r01.sub(r03).intoArray(s, d + 3 * stride);
        r10.sub(r12).intoArray(s, d + 4 * stride);
        r11.add(r12).intoArray(s, d + 5 * stride);
        r12.sub(r11).intoArray(s, d + 6 * stride);
        r11.sub(r13).intoArray(s, d + 7 * stride);
        r20.sub(r22).intoArray(s, d + 8 * stride);
        r21.add(r22).intoArray(s, d + 9 * stride);
        r22.sub(r21).intoArray(s, d + 10 * stride);
        r21.sub(r23).intoArray(s, d + 11 * stride);
        r30.sub(r32).intoArray(s, d + 12 * stride);
        r31.add(r32).intoArray(s, d + 13 * stride);
        r32.sub(r31).intoArray(s, d + 14 * stride);
        r31.sub(r33).intoArray(s, d + 15 * stride);
    }

    /**
     * {@link #transformVector} for one channel at element offset {@code c} (channel tails, NCHW
     * inputs): the patch read into {@code s[tmp .. tmp + 16)} (zeros outside the input), transformed
     * in place there, then stored.
     */
    static void transformScalar(float[] a, int[] off, int c, float[] s, int d, int tmp, int stride) {
        for (int k = 0; k < 16; k++) s[tmp + k] = off[k] < 0 ? 0f : a[off[k] + c];
        for (int j = 0; j < 4; j++) { // Bt d, column j
            float d0 = s[tmp + j], d1 = s[tmp + 4 + j], d2 = s[tmp + 8 + j], d3 = s[tmp + 12 + j];
            s[tmp + j] = d0 - d2;
            s[tmp + 4 + j] = d1 + d2;
            s[tmp + 8 + j] = d2 - d1;
            s[tmp + 12 + j] = d1 - d3;
        }
        for (int i = 0; i < 4; i++) { // (Bt d) B, row i
            float a0 = s[tmp + 4 * i], a1 = s[tmp + 4 * i + 1], a2 = s[tmp + 4 * i + 2], a3 = s[tmp + 4 * i + 3];
            int o = d + 4 * i * stride;
            s[o] = a0 - a2;
            s[o + stride] = a1 + a2;
            s[o + 2 * stride] = a2 - a1;
            s[o + 3 * stride] = a1 - a3;
        }
    }

    /**
     * One channel vector of one tile: {@code At M A} from its 16 points {@code stride} (tiles per
     * block x panel floats) apart in scratch, ReLU, stored. The bias is already in: it started point
     * 5's accumulators (m5 enters all four outputs with coefficient +1). A method of its own so that C2 compiles it with a whole
     * inlining budget (inside outputTransform, the budget ran out and left vector operations boxed).
     */
    static void outputVector(float[] s, int mi, int stride, boolean relu, Layout o, int pc, int rowStep, boolean right, boolean down, int lanes, int tmp) {
        FloatVector m0 = FloatVector.fromArray(S, s, mi), m1 = FloatVector.fromArray(S, s, mi + stride);
        FloatVector m2 = FloatVector.fromArray(S, s, mi + 2 * stride), m3 = FloatVector.fromArray(S, s, mi + 3 * stride);
        FloatVector m4 = FloatVector.fromArray(S, s, mi + 4 * stride), m5 = FloatVector.fromArray(S, s, mi + 5 * stride);
        FloatVector m6 = FloatVector.fromArray(S, s, mi + 6 * stride), m7 = FloatVector.fromArray(S, s, mi + 7 * stride);
        FloatVector m8 = FloatVector.fromArray(S, s, mi + 8 * stride), m9 = FloatVector.fromArray(S, s, mi + 9 * stride);
        FloatVector m10 = FloatVector.fromArray(S, s, mi + 10 * stride), m11 = FloatVector.fromArray(S, s, mi + 11 * stride);
        FloatVector m12 = FloatVector.fromArray(S, s, mi + 12 * stride), m13 = FloatVector.fromArray(S, s, mi + 13 * stride);
        FloatVector m14 = FloatVector.fromArray(S, s, mi + 14 * stride), m15 = FloatVector.fromArray(S, s, mi + 15 * stride);
        // At M: row 0 = m0 + m1 + m2 (rows of M), row 1 = m1 - m2 - m3, per column
        FloatVector t00 = m0.add(m4).add(m8), t01 = m1.add(m5).add(m9), t02 = m2.add(m6).add(m10), t03 = m3.add(m7).add(m11);
        FloatVector t10 = m4.sub(m8).sub(m12), t11 = m5.sub(m9).sub(m13), t12 = m6.sub(m10).sub(m14), t13 = m7.sub(m11).sub(m15);
        // (At M) A: the same along each row
        FloatVector y00 = t00.add(t01).add(t02), y01 = t01.sub(t02).sub(t03);
        FloatVector y10 = t10.add(t11).add(t12), y11 = t11.sub(t12).sub(t13);
        if (relu) {
            y00 = y00.blend(0f, y00.lt(0f)); // Simd.relu, spelled out (see transformVector)
            y01 = y01.blend(0f, y01.lt(0f)); // Simd.relu, spelled out (see transformVector)
            y10 = y10.blend(0f, y10.lt(0f)); // Simd.relu, spelled out (see transformVector)
            y11 = y11.blend(0f, y11.lt(0f)); // Simd.relu, spelled out (see transformVector)
        }
        int ps = o.ps();
        if (o.cs() == 1 && lanes == L) { // channels-last, a whole vector: straight to the output
            float[] a = o.a();
            y00.intoArray(a, pc);
            if (right) y01.intoArray(a, pc + ps);
            if (down) {
                y10.intoArray(a, pc + rowStep);
                if (right) y11.intoArray(a, pc + rowStep + ps);
            }
            return;
        }
        y00.intoArray(s, tmp);
        y01.intoArray(s, tmp + L);
        y10.intoArray(s, tmp + 2 * L);
        y11.intoArray(s, tmp + 3 * L);
        scatter(s, tmp, o, pc, lanes, ps, rowStep, right, down);
    }

    /** The element-wise store of {@link #outputVector}: a channel tail, or an NCHW output. */
    private static void scatter(float[] s, int tmp, Layout o, int pc, int lanes, int ps, int rowStep, boolean right, boolean down) {
        float[] a = o.a();
        int cs = o.cs();
        for (int i = 0; i < lanes; i++) {
            a[pc + i * cs] = s[tmp + i];
            if (right) a[pc + ps + i * cs] = s[tmp + L + i];
            if (down) {
                a[pc + rowStep + i * cs] = s[tmp + 2 * L + i];
                if (right) a[pc + rowStep + ps + i * cs] = s[tmp + 3 * L + i];
            }
        }
    }
}
