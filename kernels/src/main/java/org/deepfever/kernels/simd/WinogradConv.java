package org.deepfever.kernels.simd;

import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.Conv2d;

/**
 * 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2015): each 2x2 block of output pixels ("tile") is
 * computed from the 4x4 input patch under it with 16 multiply-adds per input channel and output
 * channel instead of the direct conv's 36, a 2.25x cut in multiply-adds.
 *
 * <p>Per block of {@link #T} tiles: the input transform {@code V = Bt d B} of every tile's 4x4 patch,
 * channel vectors at a time (additions only), into scratch as 16 matrices [T tiles][Cin]; then per
 * panel of NV (4 or 2) output-channel vectors, 16 small GEMMs [T][Cin] x [Cin][NV*L] by the
 * direct conv's own 6x4 or 6x2 micro-kernel ({@link ChannelTiles#t6x4Taps}, {@link ChannelTiles#t6x2Taps},
 * accumulators in registers) against the weights transformed once at first need
 * ({@code U = G g Gt}, [panel][16][Cin][NV*L]), point 5's
 * starting from the bias; then the output transform {@code Y = At M A} of each tile, ReLU fused, stored
 * straight to the output. Blocks run in tile-row-major order over the whole image, so a block's
 * scratch (16 x T x (Cin + NV*L) floats) stays in L1/L2.
 *
 * <p>Numerics: the transforms' coefficients are 0, +-1 and 1/2 (the weight transform is done in
 * double and rounded once), so results differ from the direct conv's only by float32 rounding of a
 * few more additions per output. With non-finite inputs they can differ more: an infinite input
 * value enters several transformed points, and their differences can make NaN where the direct
 * conv gives an infinity (a NaN input stays NaN in every output whose window holds it).
 *
 * <p>Used by {@link SimdBackend} for 3x3, stride-1, undilated convs without a residual input whose
 * Cout fills whole panels of 4 or 2 vectors ({@link #panelVectors}) on maps of at least
 * {@link #MIN_PIXELS} output pixels; other shapes of the same conv run on the direct {@link ConvKernel}
 * it holds. Fastest with channels-last tensors (whole-vector loads and stores), which it declares;
 * NCHW ones are read and written element by element (correct, slower; the executor does not hand
 * it them in DeepFEVER). {@code -Dfever.conv.winograd=false} turns it off for A/B runs.
 */
final class WinogradConv implements Kernel {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;
    /** Tiles per block: the rows of the 6x4 micro-kernel. */
    static final int T = ConvKernel.MT;
    /** Transformed-domain points per tile (4x4). */
    private static final int XI = 16;
    static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("fever.conv.winograd", "true"));
    /**
     * Maps with fewer output pixels use the direct conv ({@code -Dfever.conv.winogradMinPixels=N} for
     * experiments): edge tiles and the last block's empty slots waste more of a small map. 7x7 (16
     * tiles in 3 blocks: 288 tile-slot multiply-adds per channel pair against the direct 441) gains:
     * ConvBench 256 -> 256 channels at 7x7, one thread, 2606 vs 1800-1810 convs/s; 3x3 (4 tiles in
     * one block of 6 slots) would lose.
     */
    static final int MIN_PIXELS = Integer.getInteger("fever.conv.winogradMinPixels", 40);
    /** Below this many multiply-adds (direct count) per call the call runs on one thread. */
    private static final long PARALLEL_MIN_MACS = ConvKernel.PARALLEL_MIN_MACS;
    private static final int[] KOFF0 = {0};

    private final Conv2d op;
    /** The direct conv: the micro-kernel's owner, and the kernel for maps below {@link #minPixels}. */
    private final ConvKernel direct;
    private final int cout, cin, pt, pl, panels, minPixels;
    private final boolean relu;
    /** Bias zero-padded to whole panels. */
    private final float[] bias;
    /** Zeros, the micro-kernel's starting accumulators. */
    private final float[] zeros;
    /** Output-channel vectors per panel (the micro-kernel's columns: 4 or 2), and floats per panel row. */
    private final int nv, pw;
    /** Zeros, the input "pixel" of patch positions outside the input (Cin rounded up to whole vectors). */
    private final float[] zeroRow;
    /** Transformed weights {@code [panel][16][Cin][nv*L]}, made on first need (immutable once published). */
    private volatile float[] packedU;

    /** Whether this kernel suits the conv (and the machine): see the class comment. */
    static boolean suits(Conv2d c) {
        return ENABLED && !Simd.SCALAR && shapeFits(c) && !c.residual() && panelVectors(c.outChannels()) > 0;
    }

    /**
     * Channel vectors per panel for this Cout: 4 (the 6x4 micro-kernel, 24 accumulators: machines
     * with 32 vector registers only, as in the direct conv) when Cout fills 4-vector panels to 90%,
     * else 2 (6x2) when it fills 2-vector ones to 90%, else 0 (not a Winograd conv).
     */
    static int panelVectors(int cout) {
        if (ConvKernel.WIDE_REGISTER_FILE && ConvKernel.laneUse(cout, ConvKernel.NRW) >= 0.9) return ConvKernel.NRW;
        return ConvKernel.laneUse(cout, ConvKernel.NR) >= 0.9 ? ConvKernel.NR : 0;
    }

    /** 3x3, stride 1, dilation 1, groups 1: the convs F(2x2, 3x3) computes. */
    static boolean shapeFits(Conv2d c) {
        return c.groups() == 1 && c.kernelH() == 3 && c.kernelW() == 3 && c.strideH() == 1 && c.strideW() == 1
                && c.dilationH() == 1 && c.dilationW() == 1;
    }

    WinogradConv(Conv2d c) { this(c, MIN_PIXELS, Math.max(panelVectors(c.outChannels()), ConvKernel.NR)); }

    /**
     * {@code minPixels}: maps with fewer output pixels go to the direct conv; {@code nv}: channel
     * vectors per panel, 4 or 2 (tests force both, on any map size and Cout).
     */
    WinogradConv(Conv2d c, int minPixels, int nv) {
        if (nv != ConvKernel.NRW && nv != ConvKernel.NR) throw new IllegalArgumentException("panel vectors must be 4 or 2, got " + nv);
        if (!shapeFits(c) || c.residual()) throw new IllegalArgumentException("WinogradConv needs a 3x3 stride-1 undilated conv without residual, got " + c);
        if (Simd.SCALAR) throw new IllegalStateException("WinogradConv needs the vector path");
        op = c;
        direct = new ConvKernel(c);
        this.minPixels = minPixels;
        cout = c.outChannels();
        cin = c.inChannels();
        pt = c.padTop();
        pl = c.padLeft();
        relu = c.activation() == Activation.RELU;
        this.nv = nv;
        pw = nv * L;
        zeros = new float[pw];
        panels = (cout + pw - 1) / pw;
        bias = new float[panels * pw];
        zeroRow = new float[(cin + L - 1) / L * L];
        if (c.bias() != null) c.bias().readFlat(0, bias, 0, cout);
    }

    private boolean winograd(Shape out) { return out.dim(2) * out.dim(3) >= minPixels; }

    // ------------------------------------------------------------------ weights

    /** {@code U = G g Gt} per (output, input) channel pair, laid out as the micro-kernel's panels. */
    private float[] packedU() {
        float[] u = packedU;
        if (u != null) return u;
        synchronized (this) {
            if (packedU == null) packedU = transformWeights();
            return packedU;
        }
    }

    /**
     * The weights read a group of output channels at a time (one bulk read each, with the output
     * scale), each channel's Cin kernels transformed by {@link #transformKernels}: small methods,
     * so that the JIT's work on this load-time loop stays small (one large method with the loop
     * inside cost 60-90 ms of C2 time during a cold load).
     */
    private float[] transformWeights() {
        float[] u = new float[Math.multiplyExact(panels * XI * cin, pw)];
        int group = Math.min(pw, 16);
        float[] g = new float[group * cin * 9];
        for (int co0 = 0; co0 < cout; co0 += group) {
            int rows = Math.min(group, cout - co0);
            op.readWeightRows(co0, rows, g, 0); // (with the conv's output scale, if any)
            for (int r = 0; r < rows; r++) {
                int co = co0 + r;
                transformKernels(g, r * cin * 9, cin, u, (co / pw) * XI * cin * pw + co % pw, cin * pw, pw);
            }
        }
        return u;
    }

    /**
     * {@code U = G g Gt} (G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]]) of {@code cin} 3x3
     * kernels from {@code g[gOff ..]} (9 floats each), in double, rounded once: point
     * {@code xi} of kernel ci to {@code u[o + xi * xiStride + ci * w]}.
     */
    private static void transformKernels(float[] g, int gOff, int cin, float[] u, int o, int xiStride, int w) {
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

    // ------------------------------------------------------------------ Kernel

    /** Scratch floats per task: V (16 x T x Cin), M (16 x T x nv*L), and a small buffer for the element-wise paths. */
    private int perTask() { return XI * T * (cin + pw) + Math.max(4 * L, XI); }

    /**
     * How a call is cut: units of (image, block of tiles, chunk of panels), {@code chunks} panel
     * chunks per block (more than one only when there are fewer than two blocks per thread: a 7x7
     * map at batch 1 has three blocks, which two threads would split 2:1; split by panels too, each
     * chunk repeats the block's input transform, a small part of the work), and contiguous runs of
     * units as tasks, one per thread.
     */
    private record Split(int blocks, int chunks, int units, int tasks) {}

    private Split split(int n, int oh, int ow, int threads) {
        int tiles = ((oh + 1) / 2) * ((ow + 1) / 2), blocks = (tiles + T - 1) / T;
        long macs = (long) n * oh * ow * cout * cin * 9;
        if (threads <= 1 || macs < PARALLEL_MIN_MACS) return new Split(blocks, 1, n * blocks, 1);
        int chunks = n * blocks >= 2 * threads ? 1 : Math.min(panels, threads);
        int units = n * blocks * chunks;
        return new Split(blocks, chunks, units, Math.min(threads, units));
    }

    @Override
    public long scratchFloats(Shape[] inputs, Shape output, int threads) {
        if (!winograd(output)) return direct.scratchFloats(inputs, output, threads);
        packedU(); // plan time: transform the weights now, so the first run does not
        return (long) split(output.dim(0), output.dim(2), output.dim(3), threads).tasks() * perTask();
    }

    @Override
    public boolean acceptsChannelsLast(int input, Shape[] inputs, Shape output) {
        return winograd(output) || direct.acceptsChannelsLast(input, inputs, output);
    }

    @Override
    public boolean writesChannelsLast(Shape[] inputs, Shape output) {
        return winograd(output) || direct.writesChannelsLast(inputs, output);
    }

    /**
     * One call's parallel loop: the last one again while the same tensors, scratch and thread count
     * come back (a plan's do), so that a steady-state inference allocates no task lambda.
     */
    private record Loop(Tensor x, Tensor out, float[] scratch, int threads, int tasks, IntConsumer body) {}
    private volatile Loop lastLoop;

    @Override
    public void run(Tensor[] inputs, Tensor output, ExecContext ctx) {
        if (!winograd(output.shape())) {
            direct.run(inputs, output, ctx);
            return;
        }
        Tensor x = inputs[0];
        float[] scratch = ctx.scratch();
        int threads = ctx.pool().threads();
        Loop loop = lastLoop;
        if (loop == null || loop.x() != x || loop.out() != output || loop.scratch() != scratch || loop.threads() != threads) {
            loop = newLoop(x, output, scratch, threads);
            lastLoop = loop;
        }
        ctx.pool().parallelFor(loop.tasks(), loop.body());
    }

    private Loop newLoop(Tensor x, Tensor out, float[] scratch, int threads) {
        int n = x.dim(0), h = x.dim(2), w = x.dim(3), oh = out.dim(2), ow = out.dim(3);
        Split sp = split(n, oh, ow, threads);
        int tasks = sp.tasks(), units = sp.units(), blocks = sp.blocks(), chunks = sp.chunks();
        if ((long) tasks * perTask() > scratch.length) {
            throw new IllegalStateException("winograd conv scratch too small: " + scratch.length + " < " + (long) tasks * perTask());
        }
        float[] u = packedU();
        int tw = (ow + 1) / 2, tiles = ((oh + 1) / 2) * tw;
        Layout in = Layout.of(x), o = Layout.of(out);
        Patch[] patches = new Patch[tasks];
        for (int i = 0; i < tasks; i++) patches[i] = new Patch();
        IntConsumer body = t -> {
            int u0 = (int) ((long) units * t / tasks), u1 = (int) ((long) units * (t + 1) / tasks);
            int v = t * perTask(), m = v + XI * T * cin, tmp = m + XI * T * pw;
            for (int unit = u0; unit < u1; unit++) {
                int block = unit / chunks, chunk = unit % chunks;
                int img = block / blocks, q0 = block % blocks * T, count = Math.min(T, tiles - q0);
                inputTransform(in, img, h, w, tw, q0, count, patches[t], scratch, v, tmp);
                for (int pn = panels * chunk / chunks, p1 = panels * (chunk + 1) / chunks; pn < p1; pn++) {
                    for (int xi = 0; xi < XI; xi++) {
                        int vb = v + xi * T * cin, ub = (pn * XI + xi) * cin * pw, mb = m + xi * T * pw;
                        float[] start = xi == 5 ? bias : zeros; // the bias enters through point 5 (see outputVector)
                        int so = xi == 5 ? pn * pw : 0;
                        if (nv == ConvKernel.NRW) {
                            ChannelTiles.t6x4Taps(scratch, vb, KOFF0, cin, 0, 1, 0, cin, 2 * cin, 3 * cin, 4 * cin, 5 * cin, u, ub, start, so, scratch, mb, pw);
                        } else {
                            ChannelTiles.t6x2Taps(scratch, vb, KOFF0, cin, 0, 1, 0, cin, 2 * cin, 3 * cin, 4 * cin, 5 * cin, u, ub, start, so, scratch, mb, pw);
                        }
                    }
                    outputTransform(o, img, oh, ow, tw, q0, count, pn, scratch, m, tmp);
                }
            }
        };
        return new Loop(x, out, scratch, threads, tasks, body);
    }

    /** A tensor's array and addressing: element (img, c, pixel) at off + img * batch + c * cs + pixel * ps. */
    private record Layout(float[] a, int off, int batch, int cs, int ps) {
        /** Channels-last: channel stride 1, the tensor's pixel stride; NCHW: one plane per channel, pixel stride 1. */
        static Layout of(Tensor t) {
            boolean cl = t.isChannelsLast();
            return new Layout(t.array(), t.arrayOffset(), Math.toIntExact(t.batchStride()),
                    cl ? 1 : t.dim(2) * t.dim(3), cl ? Math.toIntExact(t.pixelStride()) : 1);
        }
    }

    // ------------------------------------------------------------------ transforms

    /**
     * {@code V = Bt d B} of the tiles [q0, q0 + count) of image {@code img} into
     * {@code s[v + (xi * T + slot) * cin + c]}; slots past {@code count} repeat the last tile (computed,
     * never stored). Bt = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]].
     */
    private void inputTransform(Layout in, int img, int h, int w, int tw, int q0, int count, Patch patch, float[] s, int v, int tmp) {
        int[] off = patch.off(), voff = patch.voff();
        float[][] src = patch.src();
        int base = in.off() + img * in.batch();
        int full = in.cs() == 1 ? Simd.loopBound(cin) : 0;
        for (int slot = 0; slot < T; slot++) {
            int q = q0 + Math.min(slot, count - 1);
            int iy0 = q / tw * 2 - pt, ix0 = q % tw * 2 - pl;
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    int iy = iy0 + i, ix = ix0 + j, k = i * 4 + j;
                    boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                    off[k] = inside ? base + (iy * w + ix) * in.ps() : -1;
                    voff[k] = inside ? off[k] : 0;
                    src[k] = inside ? in.a() : zeroRow;
                }
            }
            int d = v + slot * cin;
            for (int c = 0; c < full; c += L) transformVector(src, voff, c, s, d + c, T * cin);
            for (int c = full; c < cin; c++) transformScalar(in.a(), off, c * in.cs(), s, d + c, tmp);
        }
    }

    /** A task's patch addressing, reused tile after tile: element offsets (-1 outside the input), and for vectors array and offset (the zero row outside). */
    private record Patch(int[] off, int[] voff, float[][] src) {
        Patch() { this(new int[XI], new int[XI], new float[XI][]); }
    }

    /**
     * One channel vector of a tile's input transform (channels-last: each patch pixel's channels are
     * contiguous): patch pixel k's vector from {@code src[k]} at {@code off[k] + c}, the zero row for
     * pixels outside the input (no branch). Written out in full: a helper taking or returning
     * vectors, left out of line once C2's inlining budget runs out, boxes them.
     */
    private static void transformVector(float[][] src, int[] off, int c, float[] s, int d, int stride) {
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
    private void transformScalar(float[] a, int[] off, int c, float[] s, int d, int tmp) {
        for (int k = 0; k < XI; k++) s[tmp + k] = off[k] < 0 ? 0f : a[off[k] + c];
        for (int j = 0; j < 4; j++) { // Bt d, column j
            float d0 = s[tmp + j], d1 = s[tmp + 4 + j], d2 = s[tmp + 8 + j], d3 = s[tmp + 12 + j];
            s[tmp + j] = d0 - d2;
            s[tmp + 4 + j] = d1 + d2;
            s[tmp + 8 + j] = d2 - d1;
            s[tmp + 12 + j] = d1 - d3;
        }
        int stride = T * cin;
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
     * {@code Y = At M A} (At = [[1,1,1,0],[0,1,-1,-1]]) of panel {@code pn} of the tiles
     * [q0, q0 + count), plus bias, ReLU, into the output pixels inside the map.
     */
    private void outputTransform(Layout o, int img, int oh, int ow, int tw, int q0, int count, int pn, float[] s, int m, int tmp) {
        int base = o.off() + img * o.batch();
        for (int slot = 0; slot < count; slot++) {
            int q = q0 + slot, oy = q / tw * 2, ox = q % tw * 2;
            boolean down = oy + 1 < oh, right = ox + 1 < ow;
            int p00 = base + (oy * ow + ox) * o.ps();
            for (int cv = 0; cv < nv; cv++) {
                int co = pn * pw + cv * L;
                if (co >= cout) break;
                outputVector(s, m + slot * pw + cv * L, o, p00 + co * o.cs(), ow * o.ps(), right, down, Math.min(L, cout - co), tmp);
            }
        }
    }

    /**
     * One channel vector of one tile: {@code At M A} from its 16 points {@code T * nv * L} apart in
     * scratch, ReLU, stored. The bias is already in: it started point 5's accumulators (m5 enters
     * all four outputs with coefficient +1). A method of its own so that C2 compiles it with a whole
     * inlining budget (inside outputTransform, the budget ran out and left vector operations boxed).
     */
    private void outputVector(float[] s, int mi, Layout o, int pc, int rowStep, boolean right, boolean down, int lanes, int tmp) {
        int stride = T * pw;
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

    @Override public String toString() { return "WinogradConv[F(2x2,3x3) " + op + "]"; }
}
