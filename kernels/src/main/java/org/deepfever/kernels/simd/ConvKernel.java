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
 * Convolution (groups 1) as a GEMM per image: {@code C[Cout][P] = W[Cout][K] * B[K][P]} with
 * K = Cin*kh*kw and P = OH*OW output pixels. Two orientations, chosen per call from the shapes
 * (see {@code channelVectors}; both give the same results to rounding):
 *
 * <p><b>Pixel-vector</b> (1x1 stride-1 convs on images above {@link #DIRECT_SMALL_P} pixels when
 * the machine has 32 vector registers, and layers whose Cout would waste many channel lanes):
 * vectors run along output pixels.
 * <ul>
 *   <li>W packed into panels {@code [Cout/MR][K][MR]} (last panel zero-padded), so the micro-kernel
 *   reads MR consecutive weights per k;</li>
 *   <li>B: for a 1x1 stride-1 unpadded conv the input image {@code [Cin][H*W]} itself (only a final
 *   partial vector of pixels is copied out); otherwise im2col of a block of pixels into the task's
 *   scratch, sized so that a block stays in L2;</li>
 *   <li>micro-kernel: an MR x (NR vectors) tile of C held in FMA accumulators over the whole K;
 *   the fused epilogue (bias, residual, ReLU) then writes the output rows (contiguous pixels).</li>
 * </ul>
 *
 * <p><b>Channel-vector</b> (every other conv: all that need im2col, and 1x1 convs up to 33x33):
 * vectors run along output channels, so no lanes are wasted on a ragged pixel count. Weights
 * packed as {@code [Cout/(C*L)][K][C*L]} with K tap-major (k = tap * Cin + ci), C = NRW (4)
 * channel vectors per panel on 32-register machines when Cout fills them, NR5 (5, four-pixel tiles)
 * when Cout fills five-vector panels better, else NR (2); the micro-kernel computes MT pixels x C
 * channel vectors, broadcasting input values straight from the
 * input or a zero-padded copy of it (implicit GEMM: per k an offset table entry, no im2col), over
 * the one contiguous range of K holding every tap that some pixel of the tile reads inside the
 * input ({@code tapRanges}: taps that read only padding are skipped). The epilogue transposes the
 * tile into an NCHW output; into a channels-last one the tile stores directly. Batches on small
 * maps are tiled across image boundaries ({@code acrossImagesLoop}).
 *
 * <p>Sliding tiles: for windows 3 wide with stride 1 across, a tile whose pixels lie along one output
 * row of a channels-last source broadcasts each input value once for all the taps that read it
 * ({@link ChannelTiles#t6x2Slide3}, {@link ChannelTiles#t5x2Slide3}, {@link ChannelTiles#t5x4Slide3}); the plain tiles
 * broadcast it once per tap.
 *
 * <p>Residual in place: when the executor writes a residual conv's output over its residual, the wide
 * tiles start from the residual plus bias ({@link ChannelTiles#t6x4Acc}, {@link ChannelTiles#t5x4Acc}) and store
 * the finished sums to the output; otherwise the residual is added in the epilogue.
 *
 * <p>Channels-last: the channel-vector orientation also reads its input and residual, and writes its
 * output, in the executor's channels-last layout ({@link Tensor#isChannelsLast()}), which it declares
 * in {@link #acceptsChannelsLast}. A tile's pixel-major accumulators then go out as whole vectors (no
 * transpose), and each pixel's input channels are one line (a 1x1 conv reads the input itself, a
 * padded conv makes its zero-padded copy channels-last too, with the same k order of the weights).
 *
 * <p>Each orientation's packed weights are made once, when first needed: normally at plan time,
 * from {@link #scratchFloats}, which is the first moment the output size (hence the orientation) is
 * known; a conv thus holds only the layout it uses.
 *
 * <p>Threads: per image the pixel tiles and the Cout panels are both cut into chunks (channel-vector:
 * the panel x tile units cut into equal runs), so that small spatial sizes at batch 1 keep every
 * thread busy; tiny convs run on the calling thread. Micro-kernels hold no data-dependent branches
 * (see the note above {@link PixelTiles#p6x2}); every output is written once, honouring the batch stride
 * of the input, output and residual views.
 */
final class ConvKernel implements Kernel {
    static final VectorSpecies<Float> S = Simd.SPECIES;
    static final int L = Simd.LANES;
    static final int MR = 6;
    static final int NR = 2;
    /** Pixels per tile of the channel-vector orientation. */
    static final int MT = 6;
    /**
     * 1x1 stride-1 convs (no im2col needed either way) use channel vectors up to this many output
     * pixels ({@code -Dfever.conv.directSmallP=N} for experiments). 256 takes in 15x15 (225): the
     * Block35 stage then runs channel-vector and its buffers go channels-last; measured against 100,
     * full model, three alternations: batch 8 1 thread p10 176.3-177.1 vs 179.1-181.4 ms, batch 1
     * 22.6-23.2 vs 23.1-23.4 ms, 2 threads within noise. 1200 takes in 33x33 (1089): conv2d_3b is
     * slower that way (batch 8: 1.29 -> 1.50 ms) but lets maxpool_3a read and write channels-last
     * (1.62 -> 0.84 ms) and conv2d_4a read it in place; full model, two alternations: batch 8 1
     * thread p10 165.9-166.6 vs 166.8-167.7 ms, batch 1 21.7-21.9 vs 21.9-22.0 ms.
     */
    static final int DIRECT_SMALL_P = Integer.getInteger("fever.conv.directSmallP", 1200);
    /**
     * Batches on maps up to this many pixels, in convs that read their input in place, are tiled
     * across image boundaries ({@link #acrossImagesLoop}; {@code -Dfever.conv.acrossImagesMaxP=0}
     * turns it off for A/B runs). 64 takes in the 7x7 and 3x3 stages: LayerProfile batch 8, 1
     * thread, sum of node medians 166.4 vs 169.9 ms (the 7x7 stage's 1x1s, Mixed_6a/7a, reduce and
     * dense gain 1-4 ms each per batch). At 15x15 (225 pixels) it was slower: the tiles already
     * waste little there, and the panel-major order streams all eight images' inputs per panel.
     */
    static final int ACROSS_IMAGES_MAX_P = Integer.getInteger("fever.conv.acrossImagesMaxP", 64);
    /** Tiles store straight to channels-last outputs where they can ({@link #fusedEpilogue}; {@code -Dfever.conv.fusedEpilogue=false} for A/B runs). */
    static final boolean FUSED_EPILOGUE = Boolean.parseBoolean(System.getProperty("fever.conv.fusedEpilogue", "true"));
    /**
     * Sliding tiles ({@link ChannelTiles#t6x2Slide3} and its kin) for convs with 3-wide, stride-1 windows
     * ({@code -Dfever.conv.slide=false} for A/B runs).
     */
    static final boolean SLIDE = Boolean.parseBoolean(System.getProperty("fever.conv.slide", "true"));
    /** Sliding tiles for wide panels too ({@link ChannelTiles#t5x4Slide3}; {@code -Dfever.conv.slideWide=false} for A/B runs). */
    static final boolean SLIDE_WIDE = Boolean.parseBoolean(System.getProperty("fever.conv.slideWide", "true"));
    /** The tap form of the 6x2 tile over channels-last sources ({@link ChannelTiles#t6x2Taps}; {@code -Dfever.conv.tapForm6x2=false} for A/B runs). */
    static final boolean TAP_FORM_6X2 = Boolean.parseBoolean(System.getProperty("fever.conv.tapForm6x2", "true"));
    /** Five-vector panels ({@link ChannelTiles#t4x5}) where Cout suits them ({@code -Dfever.conv.five=false} for A/B runs). */
    static final boolean FIVE = Boolean.parseBoolean(System.getProperty("fever.conv.five", "true"));
    /**
     * Residual convs written in place over their residual start their accumulators from it and
     * store straight to the output ({@link ChannelTiles#t6x4Acc}; {@code -Dfever.conv.fusedResidual=false}
     * for A/B runs).
     */
    static final boolean FUSED_RESIDUAL = Boolean.parseBoolean(System.getProperty("fever.conv.fusedResidual", "true"));
    /** Orientation override for experiments: {@code -Dfever.conv.orientation=auto|pixel|channel}. */
    static final String ORIENTATION = System.getProperty("fever.conv.orientation", "auto");
    /**
     * Whether the machine has 32 vector registers (AVX-512 class: its preferred species is 512-bit).
     * With 16 (AVX2), the pixel-vector micro-kernel measured at about half speed (register pressure;
     * the channel-vector one is unaffected), so it is then used only where channel vectors would waste
     * many lanes.
     */
    static final boolean WIDE_REGISTER_FILE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
    /** Below this many multiply-adds per call a conv runs on the calling thread only. */
    static final long PARALLEL_MIN_MACS = 400_000;
    /** Target floats of one im2col block (per task): about 384 KB, L2-sized. */
    static final int BLOCK_FLOATS = 96 * 1024;
    /** Channel vectors per panel of the wide channel-vector micro-kernel ({@link ChannelTiles#t6x4Taps}). */
    static final int NRW = 4;
    /** Channel vectors per panel of the five-vector micro-kernel ({@link ChannelTiles#t4x5}: Cout a multiple of 5 vectors). */
    static final int NR5 = 5;
    /** Output channels packed together (a 64-byte line of panel per K index): see {@link #packPanels}. */
    private static final int PACK_GROUP = 16;
    /** Floats of the per-task tile buffer (raw accumulators of one tile, either orientation). */
    static final int TILE = Math.max(MR * NR, MT * NRW) * L;

    /** Lane indexes 0, 2, 4, ... into two concatenated vectors: their even lanes (stride-2 im2col). */
    private static final FloatVector EVEN_LANES = Simd.SCALAR ? null : FloatVector.fromArray(S, evenIndexes(), 0);

    private static float[] evenIndexes() {
        float[] idx = new float[L];
        for (int i = 0; i < L; i++) idx[i] = 2 * i;
        return idx;
    }


    private final Conv2d op;
    /**
     * -1: choose per call; 0: always pixel-vector; 1: always channel-vector; 2: always channel-vector,
     * wide panels; 3: always channel-vector, five-vector panels (tests, experiments).
     */
    private final int orientation;
    /** Multiply-adds per call below which the call runs on one thread. */
    private final long parallelMinMacs;
    private final int cout, cin, kh, kw, sh, sw, pt, pl, dh, dw, k;
    private final int panels;
    /** Pixel-vector weights, packed on first need (immutable once published). */
    private volatile float[] packedA;
    private final float[] bias;
    /** Bias zero-padded to whole channel-vector panels (accumulators of that orientation start from it). */
    private final float[] biasT;
    private final boolean relu, residual, direct;
    /** Channel vectors per channel-vector panel: NR (6x2 micro-kernel), NRW (6x4) or NR5 (4x5; both 32-register machines). */
    private final int cvec;
    /**
     * Whether row tiles may slide ({@link ChannelTiles#t6x2Slide3}, {@link ChannelTiles#t5x2Slide3}, {@link
     * ChannelTiles#t5x4Slide3}): windows 3 wide, stride and dilation 1 across; wide panels only with >= 64
     * input channels.
     */
    private final boolean slide3;
    /** Channel-vector weights, packed on first use (immutable once published). */
    private volatile float[] packedT;
    /** Channel-vector input geometry of the last input size seen, NCHW and channels-last (immutable once published). */
    private volatile PadGeometry padGeometry, padGeometryCl;
    /** The last call's geometry and channel-vector split (immutable once published; see {@link #geometry}). */
    private volatile Geometry lastGeometry;
    private volatile SplitT lastSplitT;

    ConvKernel(Conv2d c) {
        this(c, switch (ORIENTATION) {
            case "pixel" -> 0;
            case "channel" -> 1;
            default -> -1;
        }, PARALLEL_MIN_MACS);
    }

    /**
     * {@code orientation}: -1 choose per call, 0 always pixel-vector, 1 always channel-vector
     * (2: wide panels);
     * {@code parallelMinMacs}: calls with fewer multiply-adds run on one thread.
     */
    ConvKernel(Conv2d c, int orientation, long parallelMinMacs) {
        if (c.groups() != 1) throw new IllegalArgumentException("ConvKernel needs groups == 1");
        op = c;
        this.orientation = orientation;
        this.parallelMinMacs = parallelMinMacs;
        cout = c.outChannels();
        cin = c.inChannels();
        kh = c.kernelH();
        kw = c.kernelW();
        sh = c.strideH();
        sw = c.strideW();
        pt = c.padTop();
        pl = c.padLeft();
        dh = c.dilationH();
        dw = c.dilationW();
        k = cin * kh * kw;
        relu = c.activation() == Activation.RELU;
        residual = c.residual();
        direct = kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && c.padBottom() == 0 && c.padRight() == 0;
        panels = (cout + MR - 1) / MR;
        bias = c.bias() == null ? new float[cout] : c.bias().toFloatArray();
        cvec = chooseChannelVectors(orientation, cout);
        // wide sliding tiles only where each kernel row has enough input channels to amortise the
        // seven held broadcasts (conv2d_2b, 32 channels, measured 1-3% slower with them)
        slide3 = SLIDE && !Simd.SCALAR && kw == 3 && sw == 1 && dw == 1 && (cvec == NR || cvec == NRW && SLIDE_WIDE && cin >= 64);
        biasT = java.util.Arrays.copyOf(bias, (cout + cvec * L - 1) / (cvec * L) * cvec * L);
    }

    // ------------------------------------------------------------------ work decomposition

    /** How one conv call is cut into tasks: per image, pixel chunks x Cout chunks. */
    private record Split(int images, int pixelChunks, int coutChunks, int blockVectors, int perTask) {
        int tasks() { return images * pixelChunks * coutChunks; }
    }

    private Split split(int n, int p, int threads) {
        int nv = (p + L - 1) / L;
        int pixelTiles = (nv + NR - 1) / NR;
        int ps = 1, cs = 1;
        // Chunks per image so that images x chunks divides evenly among the threads.
        int want = threads / gcd(n, threads);
        if (want > 1) {
            // Prefer cutting pixels (no duplicated im2col) while chunks keep >= 4 tiles, then Cout.
            ps = Math.max(1, Math.min(want, pixelTiles / 4));
            cs = Math.min(panels, (want + ps - 1) / ps);
            if (ps * cs < want) ps = Math.min(pixelTiles, (want + cs - 1) / cs);
        }
        int blockVectors;
        int perTask;
        if (direct) {
            blockVectors = 1;               // only the final partial vector is copied
            perTask = TILE + (p % L == 0 ? 0 : k * L);
        } else {
            int chunkVectors = (pixelTiles + ps - 1) / ps * NR;
            blockVectors = Math.max(NR, BLOCK_FLOATS / (k * L) / NR * NR);
            blockVectors = Math.min(blockVectors, Math.min(chunkVectors, nv));
            perTask = TILE + k * blockVectors * L;
        }
        return new Split(n, ps, cs, blockVectors, perTask);
    }

    private static int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }

    /**
     * Channel vectors per panel of the channel-vector orientation: the wide 6x4 tile (24
     * accumulators, half the broadcasts per FMA of 6x2) needs 32 vector registers and wastes
     * few lanes only when Cout is close to a multiple of 4 vectors; else the 4x5 tile (20
     * accumulators) when Cout is close to a multiple of 5 vectors and 2-vector panels would waste more
     * (conv2d_3b: Cout 80 is five 16-lane vectors, in 2-vector panels 83% of the lanes carry work).
     */
    private static int chooseChannelVectors(int orientation, int cout) {
        if (Simd.SCALAR) return NR;
        if (orientation == 2) return NRW;
        if (orientation == 3) return NR5;
        if (orientation >= 0 || !WIDE_REGISTER_FILE) return NR;
        if (laneUse(cout, NRW) >= 0.9) return NRW;
        return FIVE && laneUse(cout, NR5) >= 0.9 && laneUse(cout, NR5) > laneUse(cout, NR) ? NR5 : NR;
    }

    /** The fraction of the lanes of panels of {@code vectors} channel vectors that hold one of {@code cout} channels. */
    static double laneUse(int cout, int vectors) {
        int w = vectors * L;
        return cout / (double) ((cout + w - 1) / w * w);
    }

    /** Whether a call with {@code p} output pixels runs in the channel-vector orientation. */
    private boolean channelVectors(int p) {
        if (Simd.SCALAR) return false;
        if (orientation >= 0) return orientation >= 1;
        // Channel vectors need no im2col and waste no lanes on ragged pixel counts, but waste lanes
        // when Cout is not (close to) a multiple of NR vectors. Measured: better for every conv that
        // needs im2col (the stem's K = 27 conv2d_1a too, since K is packed tap-major: b1 0.24 ->
        // 0.15 ms), and for 1x1 convs on maps up to 33x33 (where they also keep the stage's buffers
        // channels-last); pixel vectors are better for 1x1 convs on larger maps, where B is the
        // input itself.
        int nrl = NR * L;
        double laneUse = cout / (double) ((cout + nrl - 1) / nrl * nrl);
        if (laneUse < 0.75) return false;
        return !direct || p <= DIRECT_SMALL_P || !WIDE_REGISTER_FILE;
    }

    /** Threads worth using for one call: tiny convs are not worth a parallel dispatch. */
    private int threadsFor(int n, int p, int threads) {
        return (long) n * p * cout * k < parallelMinMacs ? 1 : threads;
    }

    @Override
    public long scratchFloats(Shape[] inputs, Shape output, int threads) {
        int p = output.dim(2) * output.dim(3);
        // Plan time: pack the weights for the orientation this shape will use, so the first run does not.
        if (channelVectors(p)) packedT(); else packedA();
        if (channelVectors(p)) {
            long tasks = splitT(output.dim(0), output.dim(2), output.dim(3), threadsFor(output.dim(0), p, threads)).tasks();
            return tasks * perTaskT(inputs[0].dim(2), inputs[0].dim(3), output.dim(2), output.dim(3));
        }
        Split s = split(output.dim(0), p, threadsFor(output.dim(0), p, threads));
        return (long) s.tasks() * s.perTask();
    }

    /** Channel-vector calls handle channels-last tensors. */
    private boolean handlesChannelsLast(Shape output) {
        return !Simd.SCALAR && channelVectors(output.dim(2) * output.dim(3));
    }

    @Override
    public boolean acceptsChannelsLast(int input, Shape[] inputs, Shape output) { return handlesChannelsLast(output); }

    @Override
    public boolean writesChannelsLast(Shape[] inputs, Shape output) { return handlesChannelsLast(output); }

    /**
     * The residual: every epilogue (and the pixel-vector one) reads a residual element only to write
     * the output element at the same index, so the output may be written over the residual's buffer.
     */
    @Override
    public int inPlaceInput(Shape[] inputs, Shape output) { return residual ? 1 : -1; }

    // ------------------------------------------------------------------ run

    @Override
    public void run(Tensor[] inputs, Tensor output, ExecContext ctx) {
        Tensor x = inputs[0];
        Tensor res = residual ? inputs[1] : null;
        int n = x.dim(0), h = x.dim(2), w = x.dim(3);
        int oh = output.dim(2), ow = output.dim(3), p = oh * ow;
        if (channelVectors(p)) {
            runT(x, res, output, ctx);
            return;
        }
        if (x.isChannelsLast() || output.isChannelsLast() || res != null && res.isChannelsLast()) {
            throw new IllegalArgumentException("conv " + op + ": the pixel-vector orientation needs NCHW tensors (acceptsChannelsLast said no)");
        }
        Split s = split(n, p, threadsFor(n, p, ctx.pool().threads()));
        float[] scratch = ctx.scratch();
        if ((long) s.tasks() * s.perTask() > scratch.length) {
            throw new IllegalStateException("conv scratch too small: " + scratch.length + " < " + (long) s.tasks() * s.perTask());
        }
        int nv = (p + L - 1) / L;
        int pixelTiles = (nv + NR - 1) / NR;
        Geometry g = geometry(x, res, output);
        ctx.pool().parallelFor(s.tasks(), t -> {
            int img = t / (s.pixelChunks() * s.coutChunks());
            int rem = t % (s.pixelChunks() * s.coutChunks());
            int pc = rem / s.coutChunks(), cc = rem % s.coutChunks();
            int v0 = (int) ((long) pixelTiles * pc / s.pixelChunks()) * NR;
            int v1 = Math.min(nv, (int) ((long) pixelTiles * (pc + 1) / s.pixelChunks()) * NR);
            int t0 = (int) ((long) panels * cc / s.coutChunks());
            int t1 = (int) ((long) panels * (cc + 1) / s.coutChunks());
            runTask(g, img, v0, v1, t0, t1, scratch, t * s.perTask(), s.blockVectors());
        });
    }

    /**
     * Everything about one call's tensors that a task needs. {@code oPix}, {@code rPix}: pixel stride
     * of a channels-last output / residual, 0 for NCHW.
     */
    private record Geometry(Tensor x, Tensor res, Tensor out, float[] xa, int xOff, int xBatch, int h, int w, int oh, int ow,
                            float[] oa, int oOff, int oBatch, float[] ra, int rOff, int rBatch, int oPix, int rPix) {
        int p() { return oh * ow; }
        /** Offset of (channel c, pixel q) within one output image. */
        int oIndex(int c, int q) { return oPix == 0 ? c * p() + q : q * oPix + c; }
        int rIndex(int c, int q) { return rPix == 0 ? c * p() + q : q * rPix + c; }
    }

    /**
     * The call's geometry: the last one again while the same tensor objects come back (a plan's
     * buffers do, call after call), so that a steady-state inference allocates none per conv.
     */
    private Geometry geometry(Tensor x, Tensor res, Tensor out) {
        Geometry last = lastGeometry;
        if (last != null && last.x() == x && last.res() == res && last.out() == out) return last;
        Geometry g = newGeometry(x, res, out);
        lastGeometry = g;
        return g;
    }

    private static Geometry newGeometry(Tensor x, Tensor res, Tensor out) {
        return new Geometry(x, res, out, x.array(), x.arrayOffset(), Math.toIntExact(x.batchStride()), x.dim(2), x.dim(3), out.dim(2), out.dim(3),
                out.array(), out.arrayOffset(), Math.toIntExact(out.batchStride()),
                res == null ? null : res.array(), res == null ? 0 : res.arrayOffset(), res == null ? 0 : Math.toIntExact(res.batchStride()),
                pixelStrideOf(out), res == null ? 0 : pixelStrideOf(res));
    }

    /** Pixel stride of a channels-last tensor, 0 for NCHW. */
    static int pixelStrideOf(Tensor t) {
        return t.isChannelsLast() ? Math.toIntExact(t.pixelStride()) : 0;
    }

    private void runTask(Geometry g, int img, int v0, int v1, int t0, int t1, float[] scratch, int sOff, int blockVectors) {
        if (v0 >= v1 || t0 >= t1) return;
        int p = g.p();
        int xImg = g.xOff() + img * g.xBatch();
        int oImg = g.oOff() + img * g.oBatch();
        int rImg = g.rOff() + img * g.rBatch();
        if (direct) {
            int fullVectors = p / L;
            int d1 = Math.min(v1, fullVectors);
            if (v0 < d1) gemmBlock(g, g.xa(), xImg + v0 * L, p, v0 * L, d1 - v0, t0, t1, oImg, rImg, scratch, sOff);
            if (v1 > fullVectors) { // the final partial vector, copied out zero-padded
                int p0 = fullVectors * L;
                im2col(g, xImg, p0, 1, scratch, sOff + TILE);
                gemmBlock(g, scratch, sOff + TILE, L, p0, 1, t0, t1, oImg, rImg, scratch, sOff);
            }
            return;
        }
        for (int vb = v0; vb < v1; vb += blockVectors) {
            int nvb = Math.min(blockVectors, v1 - vb);
            im2col(g, xImg, vb * L, nvb, scratch, sOff + TILE);
            gemmBlock(g, scratch, sOff + TILE, nvb * L, vb * L, nvb, t0, t1, oImg, rImg, scratch, sOff);
        }
    }

    /**
     * B rows for pixels [p0, p0 + nvb*L): row kk at {@code dst[dOff + kk*nvb*L ...]}, zero for
     * padding and for pixels past the end.
     */
    private void im2col(Geometry g, int xImg, int p0, int nvb, float[] dst, int dOff) {
        int stride = nvb * L;
        int p = g.p(), ow = g.ow(), h = g.h(), w = g.w();
        int pEnd = Math.min(p0 + stride, p);
        float[] xa = g.xa();
        int plane = h * w;
        int taps = kh * kw;
        for (int kk = 0; kk < k; kk++) {
            int row = dOff + kk * stride;
            // K in the weights' own order: kk = (ci * kh + y) * kw + x
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
                    java.util.Arrays.fill(dst, d, d + len, 0f);
                } else {
                    int lo = Math.min(Math.max(ox0, oxLo), ox0 + len);
                    int hi = Math.max(Math.min(ox0 + len, oxHi), lo);
                    if (lo > ox0) java.util.Arrays.fill(dst, d, d + (lo - ox0), 0f);
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
                    if (hi < ox0 + len) java.util.Arrays.fill(dst, d + (hi - ox0), d + len, 0f);
                }
                q += len;
            }
            if (pEnd < p0 + stride) java.util.Arrays.fill(dst, row + (pEnd - p0), row + stride, 0f);
        }
    }

    /** All (panel, pixel tile) pairs of one B block: panels [t0, t1), vectors [0, nvb) of B starting at pixel p0. */
    private void gemmBlock(Geometry g, float[] b, int bOff, int bStride, int p0, int nvb, int t0, int t1, int oImg, int rImg,
                           float[] tile, int tOff) {
        int p = g.p();
        float[] wp = packedA();
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
                    PixelTiles.p6x2(wp, b, bOff + j * L, bStride, wOff, k, tile, tOff);
                } else {
                    PixelTiles.p6x1(wp, b, bOff + j * L, bStride, wOff, k, tile, tOff);
                }
                epilogue(tile, tOff, co0, rows, valid, g, oOff, rOff);
            }
        }
    }

    // ------------------------------------------------------------------ channel-vector orientation (small P)

    /**
     * Input side of the channel-vector orientation for one input size: padded plane and per-k
     * offsets. {@code pix}: 0 when the source (input or padded copy) is NCHW, else its pixel stride
     * (channels-last: the input's for a 1x1 conv, cin for the padded copy).
     */
    private record PadGeometry(int h, int w, int oh, int ow, int pix, boolean inPlace, int hp, int wp, int[] koff, int[] poff,
                               int[] opix, int[] kRange) {
        int plane() { return hp * wp; }
    }

    /** Reading the input in place instead of a padded copy ({@code -Dfever.conv.inPlace=false} for A/B runs). */
    static final boolean IN_PLACE = Boolean.parseBoolean(System.getProperty("fever.conv.inPlace", "true"));

    /**
     * Whether the channel-vector orientation reads the input itself rather than a zero-padded copy:
     * 1x1 convs, and convs without top/left padding whose windows all lie inside the input (the
     * unpadded 3x3 and stride-2 convs of the stem and the reductions, whose copy was the input
     * again).
     */
    private boolean inPlace(int h, int w, int oh, int ow) {
        if (direct) return true;
        int th = (oh - 1) * sh + (kh - 1) * dh + 1, tw = (ow - 1) * sw + (kw - 1) * dw + 1;
        return IN_PLACE && pt == 0 && pl == 0 && th <= h && tw <= w;
    }

    private PadGeometry padGeometry(int h, int w, int oh, int ow) { return padGeometry(h, w, oh, ow, 0); }

    /** {@code xPix}: 0 for an NCHW input, else the channels-last input's pixel stride. */
    private PadGeometry padGeometry(int h, int w, int oh, int ow, int xPix) {
        // wide panels read channels-last pixels only (ChannelTiles.t6x4Taps): an NCHW input is copied, transposed
        boolean clCopy = xPix == 0 && cvec == NRW;
        boolean inPlace = !clCopy && inPlace(h, w, oh, ow);
        int pix = clCopy ? cin : xPix == 0 ? 0 : inPlace ? xPix : cin;
        PadGeometry g = xPix == 0 ? padGeometry : padGeometryCl;
        if (g != null && g.h() == h && g.w() == w && g.oh() == oh && g.ow() == ow && g.pix() == pix && g.inPlace() == inPlace) return g;
        int hp, wp;
        if (inPlace) { // the input itself: no copy, no padding
            hp = h;
            wp = w;
        } else {      // just the rows and columns some window touches, padding included
            hp = (oh - 1) * sh + (kh - 1) * dh + 1;
            wp = (ow - 1) * sw + (kw - 1) * dw + 1;
        }
        // K in tap-major order (see packedT): kk = (y * kw + x) * cin + ci
        int[] koff = new int[k];
        for (int kk = 0; kk < k; kk++) {
            int tap = kk / cin, ci = kk % cin, y = tap / kw * dh, x = tap % kw * dw;
            koff[kk] = pix == 0 ? ci * hp * wp + y * wp + x : (y * wp + x) * pix + ci;
        }
        // Tile order of the output pixels: row-major, or column-major for padded 1xN convs, so that
        // a tile's pixels share their columns and with them the taps that fall inside the input.
        int p = oh * ow;
        boolean columns = !inPlace && kh == 1 && kw > 1;
        int[] opix = null;
        if (columns) {
            opix = new int[p];
            for (int q = 0; q < p; q++) opix[q] = q % oh * ow + q / oh;
        }
        // per tile-order pixel, its window origin in the (padded) image; whole tiles (of up to MT),
        // the pixels past the end pointing at pixel 0 (computed, never stored)
        int[] poff = new int[p + MT];
        for (int q = 0; q < p; q++) {
            int o = opix == null ? q : opix[q];
            poff[q] = (o / ow * sh * wp + o % ow * sw) * Math.max(pix, 1);
        }
        g = new PadGeometry(h, w, oh, ow, pix, inPlace, hp, wp, koff, poff, opix, tapRanges(h, w, oh, ow, opix));
        if (xPix == 0) padGeometry = g; else padGeometryCl = g;
        return g;
    }

    /**
     * Per pixel tile of {@link #tilePixels} pixels (in tile order {@code opix}), the range [k0, k1)
     * of tap-major K that holds every tap some pixel of the tile reads inside the input: the taps
     * left out read only zero padding for all of the tile's pixels. The range covers the union of
     * the pixels' valid (ky, kx) rectangles: exact for 1xN and Nx1 kernels, whole kernel rows for
     * 2-D ones. A 7x7 map's 1x7 and 7x1 convs skip 21% of their multiply-adds this way.
     */
    private int[] tapRanges(int h, int w, int oh, int ow, int[] opix) {
        int p = oh * ow, mt = tilePixels(p, ow), tiles = (p + mt - 1) / mt;
        int[] r = new int[2 * tiles];
        for (int t = 0; t < tiles; t++) {
            int y0 = kh, y1 = 0, x0 = kw, x1 = 0;
            for (int q = t * mt; q < Math.min(p, (t + 1) * mt); q++) {
                int o = opix == null ? q : opix[q];
                int iy = o / ow * sh - pt, ix = o % ow * sw - pl;
                // taps with 0 <= iy + ky*dh < h (likewise x)
                int a = Math.max(0, Math.ceilDiv(-iy, dh)), b = Math.min(kh, Math.ceilDiv(h - iy, dh));
                int c = Math.max(0, Math.ceilDiv(-ix, dw)), d = Math.min(kw, Math.ceilDiv(w - ix, dw));
                if (a >= b || c >= d) continue; // this pixel reads padding only: its output is the bias
                y0 = Math.min(y0, a);
                y1 = Math.max(y1, b);
                x0 = Math.min(x0, c);
                x1 = Math.max(x1, d);
            }
            if (y0 >= y1) continue; // [0, 0): the whole tile is bias only
            r[2 * t] = (y0 * kw + x0) * cin;
            r[2 * t + 1] = ((y1 - 1) * kw + x1) * cin;
        }
        return r;
    }

    /** Scratch floats per task: the tile buffer and, unless the input is always read in place, a padded copy of it. */
    private int perTaskT(int h, int w, int oh, int ow) {
        return TILE + (direct && cvec != NRW ? 0 : cin * padGeometry(h, w, oh, ow).plane());
    }

    /**
     * Channel-vector split: per image, the (Cout panel, pixel tile) units, panel-major, cut into
     * {@code chunks} contiguous runs of (nearly) equal length, so that the threads get equal work
     * whatever the panel count (3 panels on 2 threads would otherwise split 1:2).
     */
    private record SplitT(int images, int chunks, int oh, int ow, int threads) {
        int tasks() { return images * chunks; }
    }

    /** Pixel tiles per image of the channel-vector orientation. */
    private int tileCount(int oh, int ow) {
        int mt = tilePixels(oh * ow, ow);
        return (oh * ow + mt - 1) / mt;
    }

    /**
     * Pixels per channel-vector tile: MT, or 5 with wide panels when that wastes clearly fewer
     * tile slots (49 pixels: 10 tiles of 5 instead of 9 of 6; 9 pixels: 2 of 5 instead of 2 of 6),
     * or 5 for sliding tiles on rows that 5 divides and 6 does not ({@code ow}: the output width,
     * 0 when tiles span images).
     */
    private int tilePixels(int p, int ow) {
        // sliding tiles along rows whose width 6 does not divide but 5 does (67x67 -> 65 wide, 15x15):
        // every tile then lies inside one row
        if (slide3 && ow > 0 && (cvec == NRW || ow % MT != 0 && ow % 5 == 0)) return 5; // wide sliding tiles are 5 pixels
        if (cvec == NR5) return 4;
        if (cvec != NRW) return MT;
        int waste6 = (p + MT - 1) / MT * MT - p, waste5 = (p + 4) / 5 * 5 - p;
        return waste6 - waste5 > 0.05 * p ? 5 : MT;
    }

    /** The split of a call: the last one again for the same shapes and threads (no allocation per inference). */
    private SplitT splitT(int n, int oh, int ow, int threads) {
        SplitT last = lastSplitT;
        if (last != null && last.images() == n && last.oh() == oh && last.ow() == ow && last.threads() == threads) return last;
        int panelsT = (cout + cvec * L - 1) / (cvec * L);
        int tiles = tileCount(oh, ow);
        int want = threads / gcd(n, threads);
        SplitT s = new SplitT(n, Math.min(want, panelsT * tiles), oh, ow, threads);
        lastSplitT = s;
        return s;
    }

    /** Pixel-vector weights {@code [Cout/MR][K][MR]}, packed on first need (the plan's scratchFloats call). */
    private float[] packedA() {
        float[] a = packedA;
        if (a != null) return a;
        synchronized (this) {
            if (packedA == null) packedA = packPanels(MR, false);
            return packedA;
        }
    }

    /**
     * Channel-vector weights {@code [panels][K][cvec*L]}, K tap-major (kk = tap * cin + ci: a tap's
     * channels are contiguous, so a tile can skip the taps that read only padding, see tapRanges),
     * packed on first need.
     */
    private float[] packedT() {
        float[] t = packedT;
        if (t != null) return t;
        synchronized (this) {
            if (packedT == null) packedT = packPanels(cvec * L, kh * kw > 1);
            return packedT;
        }
    }

    /**
     * The weights ([cout][cin][kh][kw]) as panels {@code [ceil(cout/nr)][K][nr]}: element
     * {@code (pn, kk, j)} is output channel {@code pn * nr + j} (zero past cout) at K index kk, K in
     * the weights' own order or, {@code tapMajor}, tap-major.
     *
     * <p>The panel is written in its own order, a group of up to {@link #PACK_GROUP} output channels
     * at a time (their rows read from the tensor, mapped or not, into a small buffer, permuted to
     * tap-major there), so that every store continues the previous one. Scattering one row at a
     * time (a store every nr floats, the panel swept once per channel) missed L1 on nearly every
     * store: about 4 ns per weight, 60-100 ms of a warm load of DeepFEVER.
     */
    private float[] packPanels(int nr, boolean tapMajor) {
        int np = (cout + nr - 1) / nr;
        float[] t = new float[Math.multiplyExact(np * nr, k)];
        int group = Math.min(nr, PACK_GROUP);
        float[] rows = packBuffer(group * k);
        for (int pn = 0; pn < np; pn++) {
            for (int j0 = 0; j0 < nr; j0 += group) {
                int co0 = pn * nr + j0, g = Math.min(Math.min(group, nr - j0), cout - co0);
                if (g <= 0) break; // the rest of the panel stays zero
                op.readWeightRows(co0, g, rows, 0); // (with the conv's output scale, if any)
                interleave(rows, g, t, pn * k * nr + j0, nr, tapMajor ? kh * kw : 1, tapMajor ? cin : k);
            }
        }
        return t;
    }

    /**
     * Packing's row buffer, kept per thread (16 rows of the largest K packed on it, 150 KB for
     * DeepFEVER): a fresh one for each of a model's convs was megabytes of garbage during a load,
     * enough to start a young collection that copied the packed weights (30 ms).
     */
    private static final ThreadLocal<float[]> PACK_BUFFER = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] packBuffer(int floats) {
        float[] b = PACK_BUFFER.get();
        if (b.length < floats) PACK_BUFFER.set(b = new float[floats]);
        return b;
    }

    /**
     * {@code g} rows of K floats ([chans][taps] each) into panel columns: {@code t[d + kk * nr + r] =
     * rows[r * k + c * taps + tap]} for kk = tap * chans + c (tap-major; in K's own order with one
     * "tap" of all K). A method of its own, called thousands of times during a load: compiled after the
     * first hundred calls, where a loop inside packPanels would start interpreted in each of its
     * calls (one per conv) until replaced on the stack.
     */
    private void interleave(float[] rows, int g, float[] t, int d, int nr, int taps, int chans) {
        for (int tap = 0; tap < taps; tap++) {
            for (int c = 0; c < chans; c++, d += nr) {
                for (int r = 0, s = c * taps + tap; r < g; r++, s += k) t[d + r] = rows[s];
            }
        }
    }

    /**
     * One call's parallel loop, task count and body: the last one again while the same geometry (the
     * same tensors), scratch and thread count come back, as a plan's do, so that a steady-state
     * inference allocates no task lambda per conv. Everything the body captures follows from those three.
     */
    private record LoopT(Geometry g, float[] scratch, int threads, int tasks, IntConsumer body) {}
    private volatile LoopT lastLoopT;

    private void runT(Tensor x, Tensor res, Tensor out, ExecContext ctx) {
        int threads = threadsFor(x.dim(0), out.dim(2) * out.dim(3), ctx.pool().threads());
        float[] scratch = ctx.scratch();
        Geometry g = geometry(x, res, out);
        LoopT loop = lastLoopT;
        if (loop == null || loop.g() != g || loop.scratch() != scratch || loop.threads() != threads) {
            loop = newLoopT(g, scratch, threads);
            lastLoopT = loop;
        }
        ctx.pool().parallelFor(loop.tasks(), loop.body());
    }

    private LoopT newLoopT(Geometry g, float[] scratch, int threads) {
        Tensor x = g.x(), res = g.res(), out = g.out();
        int n = x.dim(0), h = x.dim(2), w = x.dim(3), oh = out.dim(2), ow = out.dim(3), p = oh * ow;
        int xPix = pixelStrideOf(x);
        PadGeometry pg = padGeometry(h, w, oh, ow, xPix);
        SplitT s = splitT(n, oh, ow, threads);
        int perTask = perTaskT(h, w, oh, ow);
        if ((long) s.tasks() * perTask > scratch.length) {
            throw new IllegalStateException("conv scratch too small: " + scratch.length + " < " + (long) s.tasks() * perTask);
        }
        float[] wt = packedT();
        int nrl = cvec * L;
        int panelsT = (cout + nrl - 1) / nrl;
        int mt = tilePixels(p, ow);
        int tiles = tileCount(oh, ow);
        // epilogue by layouts: 0 NCHW out (transpose), 1 channels-last out and residual (vectors), 2 mixed (scalar)
        int epilogue = g.oPix() == 0 && (res == null || g.rPix() == 0) ? 0 : g.oPix() != 0 && (res == null || g.rPix() != 0) ? 1 : 2;
        if (n > 1 && pg.inPlace() && p <= ACROSS_IMAGES_MAX_P) return acrossImagesLoop(n, pg, wt, perTask, threads, epilogue, g, scratch);
        int units = panelsT * tiles;
        IntConsumer body = t -> {
            int img = t / s.chunks(), ch = t % s.chunks();
            int u0 = (int) ((long) units * ch / s.chunks()), u1 = (int) ((long) units * (ch + 1) / s.chunks());
            if (u0 >= u1) return;
            int sOff = t * perTask;
            int xImg = g.xOff() + img * g.xBatch();
            float[] src;
            int base;
            if (pg.inPlace()) {
                src = g.xa();
                base = xImg;
            } else {
                src = scratch;
                base = sOff + TILE;
                if (xPix == 0 && pg.pix() != 0) padCopyNchwToChannelsLast(g.xa(), xImg, h, w, pg, scratch, base);
                else if (xPix == 0) padCopy(g.xa(), xImg, h, w, pg, scratch, base);
                else padCopyChannelsLast(g.xa(), xImg, xPix, h, w, pg, scratch, base);
            }
            int oImg = g.oOff() + img * g.oBatch();
            int rImg = g.rOff() + img * g.rBatch();
            for (int c = u0 / tiles, cEnd = (u1 - 1) / tiles; c <= cEnd; c++) {
                for (int q = Math.max(u0 - c * tiles, 0), q1 = Math.min(u1 - c * tiles, tiles); q < q1; q++) {
                    channelTile(src, base, pg, wt, c, q * mt, mt, scratch, sOff, epilogue, g, oImg, rImg);
                }
            }
        };
        return new LoopT(g, scratch, threads, s.tasks(), body);
    }

    /**
     * Channel-vector loop over a batch whose convs read their input in place (1x1 and unpadded convs)
     * on small maps: the pixels of all images form one sequence, cut into tiles that may straddle
     * two images, panel-major over the whole batch. At 7x7 and 3x3 a tile of 6 then wastes no slots
     * (49 pixels per image take 10 tiles of 5, 9 take 2 of 5), and a panel's weights serve every
     * image while they are in cache. Threads take contiguous runs of tiles (at batch 8 on two
     * threads, about four images each), each run panel-major.
     */
    private LoopT acrossImagesLoop(int n, PadGeometry pg, float[] wt, int perTask, int threads, int epilogue, Geometry g, float[] scratch) {
        int p = g.p(), total = n * p, mt = tilePixels(total, 0), tiles = (total + mt - 1) / mt;
        int nrl = cvec * L, panelsT = (cout + nrl - 1) / nrl;
        float[] xa = g.xa();
        // no more tasks than the plan's scratch has slots for (it was sized for the per-image split)
        int tasks = Math.max(1, Math.min(Math.min(threads, tiles), scratch.length / perTask));
        int[] poff = pg.poff(), koff = pg.koff();
        IntConsumer body = t -> {
            int t0 = (int) ((long) tiles * t / tasks), t1 = (int) ((long) tiles * (t + 1) / tasks);
            int sOff = t * perTask;
            for (int u = 0, units = panelsT * (t1 - t0); u < units; u++) {
                int c = u / (t1 - t0), q0 = (t0 + u - c * (t1 - t0)) * mt, co0 = c * nrl;
                // absolute input offsets of the tile's pixels (past the end: pixel 0, computed, never stored)
                int o0 = pixelOffset(q0, total, p, poff, g), o1 = pixelOffset(q0 + 1, total, p, poff, g);
                int o2 = pixelOffset(q0 + 2, total, p, poff, g), o3 = pixelOffset(q0 + 3, total, p, poff, g);
                int o4 = pixelOffset(q0 + 4, total, p, poff, g), o5 = pixelOffset(q0 + 5, total, p, poff, g);
                int img0 = q0 / p;
                boolean toOutput = fusedEpilogue(epilogue, co0, q0 + mt <= (img0 + 1) * p, true, g); // a whole tile inside one image
                runTile(xa, 0, koff, 0, k, mt, o0, o1, o2, o3, o4, o5, wt, c * k * nrl, co0, toOutput ? g.oa() : scratch,
                        toOutput ? g.oOff() + img0 * g.oBatch() + (q0 - img0 * p) * g.oPix() + co0 : sOff, toOutput ? g.oPix() : nrl, toOutput && relu,
                        toOutput && residual, pg.pix() != 0);
                if (toOutput) continue;
                int channels = Math.min(nrl, cout - co0), valid = Math.min(mt, total - q0);
                for (int i = 0; i < valid; ) { // one epilogue per image the tile touches
                    int q = q0 + i, img = q / p, p0 = q - img * p, len = Math.min(valid - i, p - p0);
                    tileEpilogue(epilogue, scratch, sOff + i * nrl, co0, channels, p0, len, null, g,
                            g.oOff() + img * g.oBatch(), g.rOff() + img * g.rBatch());
                    i += len;
                }
            }
        };
        return new LoopT(g, scratch, threads, tasks, body);
    }

    /** Input offset of pixel {@code q} of the batch's pixel sequence ({@code total} pixels, {@code p} per image). */
    private static int pixelOffset(int q, int total, int p, int[] poff, Geometry g) {
        if (q >= total) return g.xOff() + poff[0];
        int img = q / p;
        return g.xOff() + img * g.xBatch() + poff[q - img * p];
    }

    /**
     * The register tile for {@code mt} pixels at {@code base + o0 ..} over K range [k0, k1) of panel
     * row {@code wOff}, stored to {@code dst[dOff + pixel * dStride + channel]}: the tile buffer, or
     * the channels-last output itself (then {@code relu} is applied there, in place).
     */
    private void runTile(float[] src, int base, int[] koff, int k0, int k1, int mt, int o0, int o1, int o2, int o3, int o4, int o5,
                         float[] wt, int wOff, int co0, float[] dst, int dOff, int dStride, boolean relu, boolean acc, boolean channelsLastSource) {
        // accumulators start from the bias. One pass over the whole K: blocking K so that a
        // block of weights stays in L1 (16 or 32 KB blocks, accumulators parked in the tile
        // buffer between blocks) measured 5-8% slower on Zen 4; the panel streams from L2.
        if (acc && mt == 5) ChannelTiles.t5x4Acc(src, base, koff, k0, k1, o0, o1, o2, o3, o4, wt, wOff, biasT, co0, dst, dOff, dStride);
        else if (acc) ChannelTiles.t6x4Acc(src, base, koff, k0, k1, o0, o1, o2, o3, o4, o5, wt, wOff, biasT, co0, dst, dOff, dStride);
        else if (cvec == NR5) ChannelTiles.t4x5(src, base, koff, k0, k1, o0, o1, o2, o3, wt, wOff, biasT, co0, dst, dOff, dStride);
        else if (cvec == NRW && mt == 5) ChannelTiles.t5x4(src, base, koff, k0, k1, o0, o1, o2, o3, o4, wt, wOff, biasT, co0, dst, dOff, dStride);
        else if (cvec == NRW) ChannelTiles.t6x4Taps(src, base, koff, cin, k0 / cin, k1 / cin, o0, o1, o2, o3, o4, o5, wt, wOff, biasT, co0, dst, dOff, dStride);
        else if (channelsLastSource && TAP_FORM_6X2) ChannelTiles.t6x2Taps(src, base, koff, cin, k0 / cin, k1 / cin, o0, o1, o2, o3, o4, o5, wt, wOff, biasT, co0, dst, dOff, dStride);
        else ChannelTiles.t6x2(src, base, koff, k0, k1, o0, o1, o2, o3, o4, o5, wt, wOff, biasT, co0, dst, dOff, dStride);
        if (relu) reluTile(dst, dOff, dStride, mt);
    }

    /**
     * ReLU in place over a just-stored (L1-hot) tile; inside the tile methods it took C2 past its
     * inlining budget, and the Vector API fell back to boxed code (10x slower).
     */
    private void reluTile(float[] dst, int dOff, int dStride, int mt) {
        for (int i = 0; i < mt; i++) {
            for (int j = 0, d = dOff + i * dStride; j < cvec; j++, d += L) Simd.relu(FloatVector.fromArray(S, dst, d)).intoArray(dst, d);
        }
    }

    /**
     * Whether a tile stores straight to the output (ReLU then applied in place; no tile buffer, no
     * epilogue pass): a channels-last output, a full panel of channels and a full tile of
     * consecutive pixels ({@code wholeTile}); with a residual only where the tile starts from it
     * ({@link #accumulates}; {@code plainTile}: the tile is not a sliding one).
     */
    private boolean fusedEpilogue(int epilogue, int co0, boolean wholeTile, boolean plainTile, Geometry g) {
        return FUSED_EPILOGUE && epilogue == 1 && wholeTile && co0 + cvec * L <= cout && (!residual || accumulates(plainTile, g));
    }

    /**
     * Whether a residual tile starts from the output ({@link ChannelTiles#t6x4Acc}, {@link ChannelTiles#t5x4Acc}):
     * a plain (not sliding) wide tile, the output written in place over the residual.
     */
    private boolean accumulates(boolean plainTile, Geometry g) {
        return residual && FUSED_RESIDUAL && plainTile && cvec == NRW && g.ra() == g.oa() && g.rOff() == g.oOff()
                && g.rPix() == g.oPix() && g.rBatch() == g.oBatch();
    }

    /** Epilogue of one tile ({@code valid} pixels from {@code p0} of one image) by output/residual layouts. */
    private void tileEpilogue(int epilogue, float[] scratch, int tOff, int co0, int channels, int p0, int valid, int[] opix, Geometry g,
                              int oImg, int rImg) {
        if (epilogue == 0) epilogueT(scratch, tOff, co0, channels, p0, valid, opix, g, oImg, rImg);
        else if (epilogue == 1) epilogueC(scratch, tOff, co0, channels, p0, valid, opix, g, oImg, rImg);
        else epilogueS(scratch, tOff, co0, channels, p0, valid, opix, g, oImg, rImg);
    }

    /** One channel-vector tile: panel {@code c}, pixels [p0, p0 + mt) of one image, then its epilogue. */
    private void channelTile(float[] src, int base, PadGeometry pg, float[] wt, int c, int p0, int mt, float[] scratch, int sOff,
                             int epilogue, Geometry g, int oImg, int rImg) {
        int nrl = cvec * L, co0 = c * nrl;
        int[] poff = pg.poff(), koff = pg.koff();
        int tile = p0 / mt, k0 = pg.kRange()[2 * tile], k1 = pg.kRange()[2 * tile + 1], wOff = (c * k + k0) * nrl;
        boolean slideable = slide3 && pg.pix() != 0 && pg.opix() == null && p0 % g.ow() + mt <= g.ow();
        // (the plain narrow tile always computes 6 pixels: a 5-pixel tile of it goes through the tile buffer)
        boolean toOutput = fusedEpilogue(epilogue, co0, p0 + mt <= g.p(), !slideable, g) && pg.opix() == null && (slideable || cvec != NR || mt == MT);
        float[] dst = toOutput ? g.oa() : scratch;
        int dOff = toOutput ? oImg + p0 * g.oPix() + co0 : sOff, dStride = toOutput ? g.oPix() : nrl;
        if (slideable) {
            // pixels along one output row, source channels-last: each input value serves up to three taps
            if (cvec == NRW) ChannelTiles.t5x4Slide3(src, base + poff[p0], pg.pix(), pg.wp() * pg.pix(), kh, dh, cin, wt, c * k * nrl, biasT, co0, dst, dOff, dStride);
            else if (mt == MT) ChannelTiles.t6x2Slide3(src, base + poff[p0], pg.pix(), pg.wp() * pg.pix(), kh, dh, cin, wt, c * k * nrl, biasT, co0, dst, dOff, dStride);
            else ChannelTiles.t5x2Slide3(src, base + poff[p0], pg.pix(), pg.wp() * pg.pix(), kh, dh, cin, wt, c * k * nrl, biasT, co0, dst, dOff, dStride);
            if (toOutput && relu) reluTile(dst, dOff, dStride, mt);
        } else {
            runTile(src, base, koff, k0, k1, mt, poff[p0], poff[p0 + 1], poff[p0 + 2], poff[p0 + 3], poff[p0 + 4], poff[p0 + 5], wt, wOff, co0,
                    dst, dOff, dStride, toOutput && relu, toOutput && residual, pg.pix() != 0);
        }
        if (!toOutput) {
            tileEpilogue(epilogue, scratch, sOff, co0, Math.min(nrl, cout - co0), p0, Math.min(mt, g.p() - p0), pg.opix(), g, oImg, rImg);
        }
    }

    /** Zero-padded copy of one image: rows/columns some window touches, [cin][hp][wp]. */
    private void padCopy(float[] xa, int xImg, int h, int w, PadGeometry pg, float[] dst, int dOff) {
        int hp = pg.hp(), wp = pg.wp();
        int xLo = Math.min(pl, wp), xHi = Math.min(wp, pl + w); // padded columns holding input
        for (int ci = 0; ci < cin; ci++) {
            for (int yp = 0; yp < hp; yp++) {
                int d = dOff + (ci * hp + yp) * wp;
                int iy = yp - pt;
                if (iy < 0 || iy >= h || xHi <= xLo) {
                    java.util.Arrays.fill(dst, d, d + wp, 0f);
                    continue;
                }
                if (xLo > 0) java.util.Arrays.fill(dst, d, d + xLo, 0f);
                System.arraycopy(xa, xImg + (ci * h + iy) * w + (xLo - pl), dst, d + xLo, xHi - xLo);
                if (xHi < wp) java.util.Arrays.fill(dst, d + xHi, d + wp, 0f);
            }
        }
    }

    /** Zero-padded channels-last copy of one NCHW image (wide panels): rows/columns some window touches, [hp][wp][cin]. */
    private void padCopyNchwToChannelsLast(float[] xa, int xImg, int h, int w, PadGeometry pg, float[] dst, int dOff) {
        int hp = pg.hp(), wp = pg.wp(), plane = h * w;
        java.util.Arrays.fill(dst, dOff, dOff + hp * wp * cin, 0f);
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
    private void padCopyChannelsLast(float[] xa, int xImg, int xPix, int h, int w, PadGeometry pg, float[] dst, int dOff) {
        int hp = pg.hp(), wp = pg.wp();
        int xLo = Math.min(pl, wp), xHi = Math.max(xLo, Math.min(wp, pl + w)); // padded columns holding input
        for (int yp = 0; yp < hp; yp++) {
            int d = dOff + yp * wp * cin;
            int iy = yp - pt;
            if (iy < 0 || iy >= h || xHi <= xLo) {
                java.util.Arrays.fill(dst, d, d + wp * cin, 0f);
                continue;
            }
            java.util.Arrays.fill(dst, d, d + xLo * cin, 0f);
            int src = xImg + (iy * w + (xLo - pl)) * xPix;
            if (xPix == cin) {
                System.arraycopy(xa, src, dst, d + xLo * cin, (xHi - xLo) * cin);
            } else {
                for (int xp = xLo; xp < xHi; xp++, src += xPix) System.arraycopy(xa, src, dst, d + xp * cin, cin);
            }
            java.util.Arrays.fill(dst, d + xHi * cin, d + wp * cin, 0f);
        }
    }

    /**
     * Transposing epilogue: tile[pixel][channel] (bias already in) -> out[channel][pixel], with
     * residual and ReLU; full tiles (6 or 5 pixels) unrolled (this runs once per output element, scalar).
     */
    private void epilogueT(float[] tile, int tOff, int co0, int channels, int p0, int valid, int[] opix, Geometry g, int oImg, int rImg) {
        int p = g.p();
        float[] oa = g.oa(), ra = g.ra();
        int nrl = cvec * L;
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
        if (valid == MT) {
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
    private void epilogueC(float[] tile, int tOff, int co0, int channels, int p0, int valid, int[] opix, Geometry g, int oImg, int rImg) {
        float[] oa = g.oa(), ra = g.ra();
        int nrl = cvec * L, oPix = g.oPix(), rPix = g.rPix();
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
    private void epilogueS(float[] tile, int tOff, int co0, int channels, int p0, int valid, int[] opix, Geometry g, int oImg, int rImg) {
        float[] oa = g.oa(), ra = g.ra();
        int nrl = cvec * L;
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

    // ------------------------------------------------------------------ micro-kernels

    /*
     * The micro-kernels are branch-free: K loop of FMAs, then the raw accumulators go to a small
     * per-task tile buffer; the epilogue (bias, residual, ReLU, masked tail) is a separate method.
     * Keeping data-dependent branches out of the FMA loop's method matters: C2 compiles a branch
     * never seen during profiling as a trap, and the deoptimisation that follows runs the vector
     * code boxed (orders of magnitude slower) until it is recompiled.
     */

    /**
     * Epilogue of one tile from the tile buffer ({@code rows} x {@code valid} pixels, row stride
     * NR*L): bias, residual, ReLU, stored into the output; the last partial vector with a mask.
     */
    private void epilogue(float[] tile, int tOff, int co0, int rows, int valid, Geometry g, int oOff, int rOff) {
        int p = g.p();
        float[] oa = g.oa(), ra = g.ra();
        int full = Simd.loopBound(valid);
        for (int r = 0; r < rows; r++) {
            int t = tOff + r * NR * L, o = oOff + r * p, q = rOff + r * p;
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

    /** Scalar path (LANES == 1): the same tile, plain loops, into the same tile buffer layout. */
    private void tileScalar(float[] packed, int nr, float[] b, int bOff, int bStride, int wOff, float[] tile, int tOff) {
        for (int r = 0; r < MR; r++) {
            for (int j = 0; j < nr; j++) {
                float acc = 0f;
                for (int kk = 0; kk < k; kk++) acc = Math.fma(packed[wOff + kk * MR + r], b[bOff + kk * bStride + j], acc);
                tile[tOff + r * NR + j] = acc;
            }
        }
    }
}
