package org.deepfever.kernels.simd.conv;

import java.util.function.IntConsumer;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.Conv2d;
import org.deepfever.kernels.simd.KernelConfig;
import org.deepfever.kernels.simd.Simd;

/**
 * 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2015): each 2x2 block of output pixels ("tile") is
 * computed from the 4x4 input patch under it with 16 multiply-adds per input channel and output
 * channel instead of the direct conv's 36, a 2.25x cut in multiply-adds.
 *
 * <p>Per block of {@link #T} tiles: the input transform {@code V = Bt d B} of every tile's 4x4 patch,
 * channel vectors at a time (additions only), into scratch as 16 matrices [T tiles][Cin]; then per
 * panel of NV (4 or 2) output-channel vectors, 16 small GEMMs [T][Cin] x [Cin][NV*L] by the direct
 * conv's own 6x4 or 6x2 tap-form tile ({@link ChannelTiles#t6x4Taps}, {@link ChannelTiles#t6x2Taps},
 * accumulators in registers) against the weights transformed once at first need ({@code U = G g Gt},
 * [panel][16][Cin][NV*L]), point 5's starting from the bias; then the output transform
 * {@code Y = At M A} of each tile, ReLU fused, stored straight to the output
 * ({@link WinogradTransforms}). Blocks run in tile-row-major order over the whole image, so a block's
 * scratch (16 x T x (Cin + NV*L) floats) stays in L1/L2.
 *
 * <p>Numerics: the transforms' coefficients are 0, +-1 and 1/2 (the weight transform is done in
 * double and rounded once), so results differ from the direct conv's only by float32 rounding of a
 * few more additions per output. With non-finite inputs they can differ more: an infinite input
 * value enters several transformed points, and their differences can make NaN where the direct
 * conv gives an infinity (a NaN input stays NaN in every output whose window holds it).
 *
 * <p>Chosen by {@link ConvPlan#winograd(ConvSpec, KernelConfig)}: 3x3, stride-1, undilated convs
 * without a residual input whose Cout fills whole panels of 4 or 2 vectors; maps below
 * {@link KernelConfig#winogradMinPixels()} output pixels, and calls whose threads could not share
 * its blocks of tiles ({@link ConvPlan#winogradSharesBlocks}), run on the direct {@link ConvKernel}
 * it holds. Fastest with channels-last tensors (whole-vector loads and stores), which it declares;
 * NCHW ones are read and written element by element (correct, slower; the executor does not hand it
 * them in DeepFEVER).
 */
final class WinogradConv implements Kernel {
    private static final int L = Simd.LANES;
    /** Tiles per block: the rows of the 6x4 micro-kernel. */
    static final int T = ConvPlan.MT;
    /** Transformed-domain points per tile (4x4). */
    private static final int XI = 16;
    private static final int[] KOFF0 = {0};

    private final Conv2d op;
    private final ConvSpec s;
    private final KernelConfig cfg;
    private final boolean planOnly;
    /** The direct conv: the kernel for maps below {@link #minPixels}. */
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
    /** The tap-form tiles, for GEMMs of K = Cin (one "tap"). */
    private final ChannelTiles gemmTiles;
    /** Transformed weights {@code [panel][16][Cin][nv*L]}, made on first need (immutable once published). */
    private volatile float[] packedU;

    /**
     * A Winograd kernel with {@code nv} channel vectors per panel, 4 or 2 (tests force both, on any map
     * size and Cout, with {@code winogradMinPixels=0}); {@code planOnly} as {@link ConvKernel}'s.
     *
     * @throws IllegalArgumentException for panels other than 4 or 2 vectors, or a conv F(2x2, 3x3) does not compute
     * @throws IllegalStateException    on the scalar path
     */
    WinogradConv(Conv2d c, KernelConfig cfg, int nv, boolean planOnly) {
        if (nv != ConvPlan.NRW && nv != ConvPlan.NR) throw new IllegalArgumentException("panel vectors must be 4 or 2, got " + nv);
        s = ConvSpec.of(c);
        if (!ConvPlan.winogradShape(s) || s.residual()) {
            throw new IllegalArgumentException("WinogradConv needs a 3x3 stride-1 undilated conv without residual, got " + c);
        }
        if (cfg.scalar()) throw new IllegalStateException("WinogradConv needs the vector path");
        op = c;
        this.cfg = cfg;
        this.planOnly = planOnly;
        direct = new ConvKernel(c, cfg, ConvPlan.Forced.AUTO, planOnly);
        this.minPixels = cfg.winogradMinPixels();
        cout = c.outChannels();
        cin = c.inChannels();
        pt = c.padTop();
        pl = c.padLeft();
        relu = s.relu();
        this.nv = nv;
        pw = nv * cfg.lanes();
        zeros = new float[pw];
        panels = (cout + pw - 1) / pw;
        bias = new float[panels * pw];
        zeroRow = new float[(cin + L - 1) / L * L];
        gemmTiles = new ChannelTiles(cin, 1, 1);
        if (c.bias() != null) c.bias().readFlat(0, bias, 0, cout);
    }

    /** Whether calls with this output may run Winograd: maps of at least {@link #minPixels}. */
    private boolean winogradMap(Shape out) { return out.dim(2) * out.dim(3) >= minPixels; }

    /**
     * Whether a call on {@code threads} threads runs Winograd: a map of at least {@link #minPixels}
     * whose blocks of tiles its threads can share ({@link ConvPlan#winogradSharesBlocks}); otherwise
     * the direct conv, where it takes the same layouts (it does for every DeepFEVER shape).
     */
    private boolean winograd(Shape out, int threads) {
        if (!winogradMap(out)) return false;
        return ConvPlan.winogradSharesBlocks(s, cfg, out.dim(0), out.dim(2), out.dim(3), threads) || !direct.handlesChannelsLast(out);
    }

    /** The plan of a call: Winograd's, or the direct conv's on small maps. */
    ConvPlan plan(Tensor[] inputs, Tensor output, int threads) {
        if (!winograd(output.shape(), threads)) return direct.plan(inputs, output, threads);
        return ConvPlan.winograd(s, cfg, nv, CallGeometry.of(inputs[0], null, output).call(threads));
    }

    /** The conv's geometry and the plan a call on these tensors would run (as {@link ConvKernel#describe}). */
    @Override
    public String describe(Tensor[] inputs, Tensor output, int threads) {
        return s.describe() + " | " + plan(inputs, output, threads).describe();
    }

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
     * scale), each channel's Cin kernels transformed by {@link WinogradTransforms#transformKernels}:
     * small methods, so that the JIT's work on this load-time loop stays small (one large method with
     * the loop inside cost 60-90 ms of C2 time during a cold load).
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
                WinogradTransforms.transformKernels(g, r * cin * 9, cin, u, (co / pw) * XI * cin * pw + co % pw, cin * pw, pw);
            }
        }
        return u;
    }

    // ------------------------------------------------------------------ Kernel

    private ConvPlan shapePlan(Shape x, Shape output, int threads) {
        return ConvPlan.winograd(s, cfg, nv, ConvPlan.Call.nchw(output.dim(0), x.dim(2), x.dim(3), output.dim(2), output.dim(3), false, threads));
    }

    @Override
    public long scratchFloats(Shape[] inputs, Shape output, int threads) {
        if (!winograd(output, threads)) return direct.scratchFloats(inputs, output, threads);
        if (!planOnly) packedU(); // plan time: transform the weights now, so the first run does not
        return shapePlan(inputs[0], output, threads).scratchFloats();
    }

    @Override
    public boolean acceptsChannelsLast(int input, Shape[] inputs, Shape output) {
        return winogradMap(output) || direct.acceptsChannelsLast(input, inputs, output);
    }

    @Override
    public boolean writesChannelsLast(Shape[] inputs, Shape output) {
        return winogradMap(output) || direct.writesChannelsLast(inputs, output);
    }

    /**
     * One call's parallel loop: the last one again while the same tensors, scratch and thread count
     * come back (a plan's do), so that a steady-state inference allocates no task lambda.
     */
    private record Loop(Tensor x, Tensor out, float[] scratch, int threads, int tasks, IntConsumer body) {}
    private volatile Loop lastLoop;

    /**
     * Runs the conv.
     *
     * @throws IllegalStateException for a plan-only kernel, or when the executor's scratch is too small
     */
    @Override
    public void run(Tensor[] inputs, Tensor output, ExecContext ctx) {
        if (!winograd(output.shape(), ctx.pool().threads())) {
            direct.run(inputs, output, ctx);
            return;
        }
        if (planOnly) throw new IllegalStateException("conv " + op + ": this kernel plans for " + cfg.target() + " and cannot run on this JVM");
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
        int h = x.dim(2), w = x.dim(3), oh = out.dim(2), ow = out.dim(3);
        ConvPlan plan = shapePlan(x.shape(), out.shape(), threads);
        int tasks = plan.tasks(), blocks = plan.split().blocks(), perTask = plan.split().perTaskFloats();
        int units = x.dim(0) * blocks;
        if (plan.scratchFloats() > scratch.length) {
            throw new IllegalStateException("winograd conv scratch too small: " + scratch.length + " < " + plan.scratchFloats());
        }
        float[] u = packedU();
        int tw = (ow + 1) / 2, tiles = ((oh + 1) / 2) * tw;
        WinogradTransforms.Layout in = WinogradTransforms.Layout.of(x), o = WinogradTransforms.Layout.of(out);
        Patch[] patches = new Patch[tasks];
        for (int i = 0; i < tasks; i++) patches[i] = new Patch();
        IntConsumer body = t -> {
            int u0 = (int) ((long) units * t / tasks), u1 = (int) ((long) units * (t + 1) / tasks);
            int v = t * perTask, m = v + XI * T * cin, tmp = m + XI * T * pw;
            for (int block = u0; block < u1; block++) {
                int img = block / blocks, q0 = block % blocks * T, count = Math.min(T, tiles - q0);
                inputTransform(in, img, h, w, tw, q0, count, patches[t], scratch, v, tmp);
                for (int pn = 0; pn < panels; pn++) {
                    for (int xi = 0; xi < XI; xi++) {
                        int vb = v + xi * T * cin, ub = (pn * XI + xi) * cin * pw, mb = m + xi * T * pw;
                        float[] start = xi == 5 ? bias : zeros; // the bias enters through point 5 (see outputVector)
                        int so = xi == 5 ? pn * pw : 0;
                        if (nv == ConvPlan.NRW) {
                            gemmTiles.t6x4Taps(scratch, vb, KOFF0, 0, 1, 0, cin, 2 * cin, 3 * cin, 4 * cin, 5 * cin, u, ub, start, so, scratch, mb, pw);
                        } else {
                            gemmTiles.t6x2Taps(scratch, vb, KOFF0, 0, 1, 0, cin, 2 * cin, 3 * cin, 4 * cin, 5 * cin, u, ub, start, so, scratch, mb, pw);
                        }
                    }
                    outputTransform(o, img, oh, ow, tw, q0, count, pn, scratch, m, tmp);
                }
            }
        };
        return new Loop(x, out, scratch, threads, tasks, body);
    }

    /**
     * {@code V = Bt d B} of the tiles [q0, q0 + count) of image {@code img} into
     * {@code s[v + (xi * T + slot) * cin + c]}; slots past {@code count} repeat the last tile (computed,
     * never stored). Bt = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]].
     */
    private void inputTransform(WinogradTransforms.Layout in, int img, int h, int w, int tw, int q0, int count, Patch patch, float[] s, int v, int tmp) {
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
            for (int c = 0; c < full; c += L) WinogradTransforms.transformVector(src, voff, c, s, d + c, T * cin);
            for (int c = full; c < cin; c++) WinogradTransforms.transformScalar(in.a(), off, c * in.cs(), s, d + c, tmp, T * cin);
        }
    }

    /** A task's patch addressing, reused tile after tile: element offsets (-1 outside the input), and for vectors array and offset (the zero row outside). */
    private record Patch(int[] off, int[] voff, float[][] src) {
        Patch() { this(new int[XI], new int[XI], new float[XI][]); }
    }

    /**
     * {@code Y = At M A} (At = [[1,1,1,0],[0,1,-1,-1]]) of panel {@code pn} of the tiles
     * [q0, q0 + count), plus bias, ReLU, into the output pixels inside the map.
     */
    private void outputTransform(WinogradTransforms.Layout o, int img, int oh, int ow, int tw, int q0, int count, int pn, float[] s, int m, int tmp) {
        int base = o.off() + img * o.batch();
        for (int slot = 0; slot < count; slot++) {
            int q = q0 + slot, oy = q / tw * 2, ox = q % tw * 2;
            boolean down = oy + 1 < oh, right = ox + 1 < ow;
            int p00 = base + (oy * ow + ox) * o.ps();
            for (int cv = 0; cv < nv; cv++) {
                int co = pn * pw + cv * L;
                if (co >= cout) break;
                WinogradTransforms.outputVector(s, m + slot * pw + cv * L, T * pw, relu, o, p00 + co * o.cs(), ow * o.ps(), right, down,
                        Math.min(L, cout - co), tmp);
            }
        }
    }

    @Override public String toString() { return "WinogradConv[F(2x2,3x3) " + op + "]"; }
}
