package org.deepfever.kernels.simd.conv;

import java.util.EnumSet;
import java.util.Set;
import org.deepfever.kernels.simd.KernelConfig;

/**
 * What one conv call runs: the algorithm and orientation, the panel of output channels, the register
 * tiles, how the input is staged, the epilogue and the split into tasks. Every choice the SIMD conv
 * kernels make for a shape is made by the static methods of this file, from the conv ({@link ConvSpec}),
 * the call's shapes and layouts ({@link Call}), the thread count and the {@link KernelConfig}: the
 * kernels execute the record {@link #of} returns, and {@code fever info --kernels} prints it.
 *
 * <p>The orientations (both give the same results to rounding):
 * <ul>
 *   <li><b>pixel-vector</b>: a GEMM per image, vectors along output pixels; weights in panels of
 *   {@link #MR} output channels, B the input itself (1x1 stride-1 convs) or im2col blocks sized for
 *   L2; tile {@link #MR} channels x {@link #NR} pixel vectors. For 1x1 stride-1 convs on maps above
 *   {@link KernelConfig#directSmallP()} pixels on 32-register machines, and where Cout would leave
 *   many channel lanes idle.</li>
 *   <li><b>channel-vector</b> (implicit GEMM): vectors along output channels, so no lanes idle on a
 *   ragged pixel count and no im2col: per K index an offset table entry into the input or a
 *   zero-padded copy of it; K packed tap-major so that a tile skips the taps that read only padding.
 *   Every other conv.</li>
 *   <li><b>Winograd</b> F(2x2, 3x3) for 3x3 stride-1 convs without a residual whose Cout fills
 *   2- or 4-vector panels, on maps of at least {@link KernelConfig#winogradMinPixels()} pixels.</li>
 * </ul>
 *
 * @param algorithm     the algorithm (and orientation)
 * @param panelVectors  channel vectors per panel of output channels (channel-vector, Winograd); 0 for pixel-vector
 * @param panelChannels output channels per panel: {@link #MR} for pixel-vector, else panelVectors * lanes
 * @param tilePixels    output pixels per register tile (pixel-vector: {@link #NR} vectors of pixels;
 *                      Winograd: 2x2 tiles per block)
 * @param tiles         the register tiles the call runs (edge tiles and partial panels may need a second one)
 * @param staging       how the input reaches the tiles
 * @param columnMajor   channel-vector tiles take the pixels column by column (padded 1xN convs: a
 *                      tile's pixels then share their columns, and with them the taps inside the input)
 * @param acrossImages  channel-vector tiles run over the batch's pixels as one sequence (small maps)
 * @param epilogue      how results reach the output
 * @param threads       threads the call uses (1 below {@link KernelConfig#parallelMinMacs()})
 * @param tasks         tasks of the parallel loop
 * @param split         the split's details, per algorithm (see {@link #describe})
 * @param scratchFloats scratch the call needs: tasks x per-task floats (channel-vector: of the per-image
 *                      split, which a split across images never exceeds)
 * @param kBlock        channel-vector: the panel's whole tiles run K in blocks of this many input channels,
 *                      block after block ({@link #kBlock}); 0 for one pass over the whole K
 */
record ConvPlan(Algorithm algorithm, int panelVectors, int panelChannels, int tilePixels, Set<Tile> tiles, Staging staging,
                boolean columnMajor, boolean acrossImages, Epilogue epilogue, int threads, int tasks, Split split, long scratchFloats,
                int kBlock) {

    /** Output channels per pixel-vector panel (the pixel-vector tile's rows). */
    static final int MR = 6;
    /** Vectors per pixel-vector tile; channel vectors per narrow channel-vector panel. */
    static final int NR = 2;
    /** Pixels per channel-vector tile. */
    static final int MT = 6;
    /** Channel vectors per wide panel (the 6x4 tile: 24 accumulators, 32-register machines). */
    static final int NRW = 4;
    /** Channel vectors per five-vector panel (the 4x5 tile: 20 accumulators, 32-register machines). */
    static final int NR5 = 5;
    /**
     * Lane use from which wide and five-vector panels are taken: 90%. The wide tile halves the
     * broadcasts per FMA of the 6x2 one; five-vector panels took conv2d_3b (Cout 80: five 16-lane
     * vectors, 83% of the lanes in 2-vector panels) from 0.169-0.170 to 0.125-0.142 ms at batch 1.
     */
    static final double PANEL_LANE_USE = 0.9;
    /** Below this lane use of 2-vector panels a conv runs pixel-vector: channel vectors would idle too many lanes. */
    static final double CHANNEL_MIN_LANE_USE = 0.75;
    /** Wide tiles take 5 pixels when that wastes over this share of the pixels' tile slots less than 6 (49: 10 tiles of 5, not 9 of 6). */
    static final double FIVE_PIXEL_GAIN = 0.05;

    /** The algorithms, by orientation. */
    enum Algorithm {
        PIXEL_VECTOR("pixel-vector GEMM"), CHANNEL_VECTOR("channel-vector implicit GEMM"), WINOGRAD("Winograd F(2x2,3x3)");
        final String label;
        Algorithm(String label) { this.label = label; }
    }

    /** How the input reaches the tiles. */
    enum Staging {
        /** Pixel-vector, 1x1 stride 1: B is the input itself (a final partial vector copied out). */
        INPUT_AS_B("input is B"),
        /** Pixel-vector: im2col blocks of B in the task's scratch. */
        IM2COL("im2col blocks"),
        /** Channel-vector: read in place (1x1, or windows all inside the input), per-K offsets. */
        IN_PLACE("input in place"),
        /** Channel-vector: a zero-padded NCHW copy per image (only the rows and columns windows touch). */
        PADDED_COPY("padded copy"),
        /** Channel-vector: a zero-padded channels-last copy (of a channels-last input, or an NCHW input for wide panels). */
        CHANNELS_LAST_COPY("padded channels-last copy"),
        /** Winograd: the input transform of each block of tiles. */
        TRANSFORM("input transform");
        final String label;
        Staging(String label) { this.label = label; }
    }

    /** How results reach the output. */
    enum Epilogue {
        /** Pixel-vector: tile buffer, then bias, residual and ReLU into NCHW rows. */
        BIAS_ROWS("bias+residual rows"),
        /** Channel-vector, NCHW output: tile buffer, then a transposing store. */
        TRANSPOSE("transpose to NCHW"),
        /** Channel-vector, channels-last output: whole tiles store straight to it, others through the buffer. */
        CHANNELS_LAST("store channels-last"),
        /** Channel-vector, output and residual in different layouts: scalar, correct (the executor avoids it). */
        MIXED("mixed layouts, scalar"),
        /** Winograd: the output transform, ReLU fused. */
        TRANSFORM("output transform");
        final String label;
        Epilogue(String label) { this.label = label; }
    }

    /** The register tiles (generated: ChannelTiles, PixelTiles), by the name the plan prints. */
    enum Tile {
        P6X2("6x2 pixel"), P6X1("6x1 pixel"), SCALAR("scalar"),
        T6X2("6x2"), T6X2_TAPS("6x2 taps"), T6X4_TAPS("6x4 taps"), T5X4("5x4"), T4X5("4x5"),
        T6X4_ACC("6x4 acc"), T6X4_ACC_TAPS("6x4 acc taps"), T5X4_ACC("5x4 acc"), T6X2_SLIDE3("6x2 slide3"), T5X2_SLIDE3("5x2 slide3"), T5X4_SLIDE3("5x4 slide3");
        final String label;
        Tile(String label) { this.label = label; }
    }

    /** A forced orientation (tests and experiments); {@link #AUTO} lets the plan choose. */
    enum Forced { AUTO, PIXEL_VECTOR, CHANNEL_VECTOR, CHANNEL_VECTOR_WIDE, CHANNEL_VECTOR_FIVE }

    /**
     * The shapes and layouts of one call. {@code residualInPlace}: the output is written over the
     * residual (one buffer, same addressing).
     */
    record Call(int n, int h, int w, int oh, int ow, boolean xChannelsLast, boolean outChannelsLast, boolean hasResidual,
                boolean residualChannelsLast, boolean residualInPlace, int threads) {
        int p() { return oh * ow; }

        /** NCHW tensors, nothing in place: what {@code scratchFloats} plans with (it sees shapes only). */
        static Call nchw(int n, int h, int w, int oh, int ow, boolean hasResidual, int threads) {
            return new Call(n, h, w, oh, ow, false, false, hasResidual, false, false, threads);
        }
    }

    /**
     * The split's details. Pixel-vector: per image {@code pixelChunks} x {@code coutChunks} tasks, im2col
     * blocks of {@code blockVectors} pixel vectors. Channel-vector: per image (or over the batch, across
     * images) the (panel, tile) units cut into {@code chunks} runs. Winograd: {@code blocks} blocks of
     * tiles per image, shared out whole ({@code chunks} 1). {@code perTaskFloats}: scratch per task.
     */
    record Split(int pixelChunks, int coutChunks, int blockVectors, int chunks, int blocks, int perTaskFloats) {}

    // ------------------------------------------------------------------ choices per conv

    /** The fraction of the lanes of panels of {@code vectors} channel vectors that hold one of {@code cout} channels. */
    static double laneUse(int cout, int vectors, int lanes) {
        int w = vectors * lanes;
        return cout / (double) ((cout + w - 1) / w * w);
    }

    /**
     * Channel vectors per channel-vector panel: the wide 6x4 tile (32 registers) when Cout nearly fills
     * 4-vector panels, else the 4x5 tile (32 registers) when it nearly fills 5-vector panels and
     * 2-vector ones would waste more, else 2 (the 6x2 tile).
     */
    static int channelPanelVectors(ConvSpec s, KernelConfig cfg, Forced forced) {
        int lanes = cfg.lanes();
        if (cfg.scalar()) return NR;
        switch (forced) {
            case CHANNEL_VECTOR_WIDE: return NRW;
            case CHANNEL_VECTOR_FIVE: return NR5;
            case AUTO: break;
            default: return NR;
        }
        if (!cfg.wideRegisterFile()) return NR;
        if (laneUse(s.cout(), NRW, lanes) >= PANEL_LANE_USE) return NRW;
        double five = laneUse(s.cout(), NR5, lanes);
        return five >= PANEL_LANE_USE && five > laneUse(s.cout(), NR, lanes) ? NR5 : NR;
    }

    /**
     * Whether channel-vector tiles along one output row may slide (windows 3 wide, stride and
     * dilation 1 across: each input value broadcast once for the three taps that read it). Wide
     * panels only from {@link KernelConfig#slideWideMinChannels()} input channels.
     */
    static boolean slides(ConvSpec s, KernelConfig cfg, int panelVectors) {
        return !cfg.scalar() && s.kw() == 3 && s.sw() == 1 && s.dw() == 1
                && (panelVectors == NR || panelVectors == NRW && s.cin() >= cfg.slideWideMinChannels());
    }

    /** 3x3, stride 1, dilation 1, groups 1: the convs F(2x2, 3x3) computes. */
    static boolean winogradShape(ConvSpec s) {
        return s.kh() == 3 && s.kw() == 3 && s.sh() == 1 && s.sw() == 1 && s.dh() == 1 && s.dw() == 1;
    }

    /**
     * Winograd's channel vectors per panel for this Cout: 4 (the 6x4 tile, 32 registers) when Cout
     * fills 4-vector panels to {@link #PANEL_LANE_USE}, else 2 when it fills 2-vector ones so, else 0
     * (not a Winograd conv).
     */
    static int winogradPanelVectors(int cout, KernelConfig cfg) {
        if (cfg.wideRegisterFile() && laneUse(cout, NRW, cfg.lanes()) >= PANEL_LANE_USE) return NRW;
        return laneUse(cout, NR, cfg.lanes()) >= PANEL_LANE_USE ? NR : 0;
    }

    /** Whether a conv gets a Winograd kernel (which still runs maps below the threshold direct). */
    static boolean winograd(ConvSpec s, KernelConfig cfg) {
        return !cfg.scalar() && winogradShape(s) && !s.residual() && winogradPanelVectors(s.cout(), cfg) > 0;
    }

    // ------------------------------------------------------------------ choices per call

    /** Threads worth using for a call: tiny convs are not worth a parallel dispatch. */
    static int threads(ConvSpec s, KernelConfig cfg, int n, int p, int threads) {
        return s.macs(n, p) < cfg.parallelMinMacs() ? 1 : threads;
    }

    /**
     * Whether a direct call with {@code p} output pixels runs channel-vector. Channel vectors need no
     * im2col and waste no lanes on ragged pixel counts, but waste lanes when Cout is not close to a
     * multiple of 2 vectors. Measured: better for every conv that needs im2col (the stem's K = 27
     * conv2d_1a too, K being tap-major: batch 1 0.24 -> 0.15 ms), and for 1x1 convs up to
     * {@link KernelConfig#directSmallP()} pixels; pixel vectors are better for 1x1 convs on larger
     * maps (B is the input itself), on 32-register machines: with 16 the pixel tile ran at half speed.
     */
    static boolean channelVectors(ConvSpec s, KernelConfig cfg, Forced forced, int p) {
        if (cfg.scalar()) return false;
        if (forced != Forced.AUTO) return forced != Forced.PIXEL_VECTOR;
        if (laneUse(s.cout(), NR, cfg.lanes()) < CHANNEL_MIN_LANE_USE) return false;
        return !s.direct() || p <= cfg.directSmallP() || !cfg.wideRegisterFile();
    }

    /**
     * Whether a channel-vector call reads the input itself rather than a zero-padded copy: 1x1 convs,
     * and convs without top/left padding whose windows all lie inside the input (the unpadded 3x3 and
     * stride-2 convs of the stem and the reductions, whose copy was the input again).
     */
    static boolean readsInPlace(ConvSpec s, int h, int w, int oh, int ow) {
        if (s.direct()) return true;
        int th = (oh - 1) * s.sh() + (s.kh() - 1) * s.dh() + 1, tw = (ow - 1) * s.sw() + (s.kw() - 1) * s.dw() + 1;
        return s.pt() == 0 && s.pl() == 0 && th <= h && tw <= w;
    }

    /**
     * Whether a channel-vector call copies its input channels-last: an NCHW input for wide panels
     * (the 6x4 tap-form tile reads channels-last pixels only), transposed while padded.
     */
    static boolean transposingCopy(boolean xChannelsLast, int panelVectors) { return !xChannelsLast && panelVectors == NRW; }

    /** Whether a channel-vector call reads its input in place (no copy of any kind). */
    static boolean inPlace(ConvSpec s, boolean xChannelsLast, int h, int w, int oh, int ow, int panelVectors) {
        return !transposingCopy(xChannelsLast, panelVectors) && readsInPlace(s, h, w, oh, ow);
    }

    /** Padded 1xN convs tile their pixels column by column (see the record's {@code columnMajor}). */
    static boolean columnMajor(ConvSpec s, boolean inPlace) { return !inPlace && s.kh() == 1 && s.kw() > 1; }

    /** Whether a channel-vector call tiles the batch's pixels as one sequence across images. */
    static boolean acrossImages(KernelConfig cfg, Call c, boolean inPlace) { return c.n() > 1 && inPlace && c.p() <= cfg.acrossImagesMaxP(); }

    /**
     * Pixels per channel-vector tile ({@code ow}: the output width, 0 when tiles span images): 5 for
     * sliding tiles on wide panels, and on rows that 5 divides and 6 does not (67x67's 65, 15x15:
     * every tile then lies inside one row); 4 for five-vector panels; for other wide panels 5 when
     * that wastes clearly fewer tile slots (49 pixels: 10 tiles of 5 instead of 9 of 6) and the CPU's
     * config takes 5-pixel tiles ({@link KernelConfig#fivePixelTiles()}); else 6.
     */
    static int tilePixels(int panelVectors, boolean slide3, int p, int ow, boolean fivePixelTiles) {
        if (slide3 && ow > 0 && (panelVectors == NRW || ow % MT != 0 && ow % 5 == 0)) return 5;
        if (panelVectors == NR5) return 4;
        if (panelVectors != NRW || !fivePixelTiles) return MT;
        int waste6 = (p + MT - 1) / MT * MT - p, waste5 = (p + 4) / 5 * 5 - p;
        return waste6 - waste5 > FIVE_PIXEL_GAIN * p ? 5 : MT;
    }

    /** Input channels per K block of a blocked panel ({@link #kBlock}): 128 x 64 floats, a 32 KB block of weights. */
    static final int K_BLOCK = 128;

    /**
     * K blocking of a channel-vector conv: {@link #K_BLOCK}, or 0 (one pass). A panel of 6x4 tap tiles
     * whose weights just miss L1 (K up to twice the block: 64 KB at K = 256, L1 48 KB on Zen 5) runs
     * its whole tiles block by block, the partial sums kept in the channels-last output between blocks
     * (the same FMA order: the same bits); only for 1x1 convs read in place from a channels-last source,
     * one image at a time. Block17's up-projections (1x1 256 -> 896 at 7x7, batch 1, one thread, AMD
     * Zen 5, 3 alternated runs of LayerProfile): their sum 1.692/1.714/1.721 against 1.802/1.800/1.908
     * ms, the whole network within its spread (13.19/13.73/13.37 against 13.33/13.28/13.82). Longer K
     * (896 -> 256, 896 -> 128 at 7x7) measured no better blocked: its panel streams from L2 at the
     * tiles' pace, and every block adds a round trip of the accumulators.
     */
    static int kBlock(ConvSpec s, int panelVectors, int tilePixels, boolean inPlaceChannelsLast, boolean slide3, boolean acrossImages) {
        boolean shape = s.kh() == 1 && s.kw() == 1 && s.k() > K_BLOCK && s.k() <= 2 * K_BLOCK;
        return shape && panelVectors == NRW && tilePixels == MT && inPlaceChannelsLast && !slide3 && !acrossImages ? K_BLOCK : 0;
    }

    /** Channel-vector epilogue by the output's and residual's layouts. */
    static Epilogue channelEpilogue(Call c) {
        boolean resNchw = !c.hasResidual() || !c.residualChannelsLast(), resCl = !c.hasResidual() || c.residualChannelsLast();
        if (!c.outChannelsLast() && resNchw) return Epilogue.TRANSPOSE;
        return c.outChannelsLast() && resCl ? Epilogue.CHANNELS_LAST : Epilogue.MIXED;
    }

    // ------------------------------------------------------------------ choices per tile

    /** Whether a tile of pixels [p0, p0 + mt) of one image slides: allowed, a channels-last row-major source, inside one row. */
    static boolean slideable(boolean slide3, boolean channelsLastSource, boolean columnMajor, int p0, int mt, int ow) {
        return slide3 && channelsLastSource && !columnMajor && p0 % ow + mt <= ow;
    }

    /**
     * Whether a residual tile starts from the output ({@code t6x4Acc}, {@code t5x4Acc}): a plain (not
     * sliding) wide tile of a conv written in place over its residual.
     */
    static boolean accumulates(boolean residual, boolean residualInPlace, boolean plainTile, int panelVectors) {
        return residual && residualInPlace && plainTile && panelVectors == NRW;
    }

    /**
     * Whether a channel-vector tile stores straight to the output (ReLU then applied in place; no tile
     * buffer, no epilogue pass): a channels-last output, a full panel, a whole tile of consecutive
     * pixels; with a residual only where the tile starts from it ({@link #accumulates}).
     */
    static boolean storesToOutput(Epilogue e, boolean wholeTile, boolean fullPanel, boolean residual, boolean accumulates) {
        return e == Epilogue.CHANNELS_LAST && wholeTile && fullPanel && (!residual || accumulates);
    }

    /** The channel-vector tile for a sliding tile of {@code mt} pixels. */
    static Tile slideTile(int panelVectors, int mt) {
        return panelVectors == NRW ? Tile.T5X4_SLIDE3 : mt == MT ? Tile.T6X2_SLIDE3 : Tile.T5X2_SLIDE3;
    }

    /** The channel-vector tile for a plain (not sliding) tile. */
    static Tile plainTile(int panelVectors, int mt, boolean accumulate, boolean channelsLastSource) {
        if (accumulate) return mt == 5 ? Tile.T5X4_ACC : channelsLastSource ? Tile.T6X4_ACC_TAPS : Tile.T6X4_ACC;
        if (panelVectors == NR5) return Tile.T4X5;
        if (panelVectors == NRW) return mt == 5 ? Tile.T5X4 : Tile.T6X4_TAPS;
        return channelsLastSource ? Tile.T6X2_TAPS : Tile.T6X2;
    }

    // ------------------------------------------------------------------ the record

    /** Floats of the per-task tile buffer: raw accumulators of one tile, either orientation. */
    static int tileBufferFloats(int lanes) { return Math.max(MR * NR, MT * NRW) * lanes; }

    /**
     * The plan of a direct (pixel- or channel-vector) call.
     *
     * @param s        the conv
     * @param cfg      the config (lanes, registers, thresholds)
     * @param forced   a forced orientation, or AUTO
     * @param c        the call's shapes and layouts
     * @param threads  the pool's threads
     */
    static ConvPlan direct(ConvSpec s, KernelConfig cfg, Forced forced, Call c) {
        int p = c.p(), lanes = cfg.lanes(), t = threads(s, cfg, c.n(), p, c.threads());
        if (!channelVectors(s, cfg, forced, p)) {
            Split sp = pixelSplit(s, cfg, c.n(), p, t);
            Set<Tile> tiles = cfg.scalar() ? EnumSet.of(Tile.SCALAR) : pixelTiles(s, sp, p, lanes);
            int tasks = c.n() * sp.pixelChunks() * sp.coutChunks();
            return new ConvPlan(Algorithm.PIXEL_VECTOR, 0, MR, NR * lanes, tiles, s.direct() ? Staging.INPUT_AS_B : Staging.IM2COL,
                    false, false, Epilogue.BIAS_ROWS, t, tasks, sp, (long) tasks * sp.perTaskFloats(), 0);
        }
        int nv = channelPanelVectors(s, cfg, forced), nrl = nv * lanes;
        boolean slide3 = slides(s, cfg, nv), inPlace = inPlace(s, c.xChannelsLast(), c.h(), c.w(), c.oh(), c.ow(), nv), columns = columnMajor(s, inPlace);
        boolean across = acrossImages(cfg, c, inPlace);
        boolean clSource = c.xChannelsLast() || transposingCopy(c.xChannelsLast(), nv);
        Staging staging = inPlace ? Staging.IN_PLACE : clSource ? Staging.CHANNELS_LAST_COPY : Staging.PADDED_COPY;
        Epilogue e = channelEpilogue(c);
        int panels = s.panels(nrl), perTask = channelPerTask(s, cfg, nv, c.h(), c.w(), c.oh(), c.ow());
        // per image: the (panel, tile) units cut into chunks so that images x chunks divides among the threads
        int mt = tilePixels(nv, slide3, p, c.ow(), cfg.fivePixelTiles() == 1);
        int chunks = Math.min(t / gcd(c.n(), t), panels * ((p + mt - 1) / mt)), tasks = c.n() * chunks;
        long scratch = (long) tasks * perTask; // a split across images never has more tasks
        Set<Tile> tiles = EnumSet.noneOf(Tile.class);
        if (across) { // one sequence of tiles over the batch, threads taking contiguous runs
            int total = c.n() * p;
            mt = tilePixels(nv, slide3, total, 0, cfg.fivePixelTiles() == 1);
            tasks = Math.max(1, Math.min(t, (total + mt - 1) / mt));
            chunks = tasks;
            for (int pn = 0; pn < panels; pn++) {
                boolean full = (pn + 1) * nrl <= s.cout();
                for (int q0 = 0; q0 < total; q0 += mt) {
                    boolean whole = q0 + mt <= (q0 / p + 1) * p; // inside one image
                    boolean acc = accumulates(s.residual(), c.residualInPlace(), true, nv);
                    boolean out = storesToOutput(e, whole, full, s.residual(), acc);
                    tiles.add(plainTile(nv, mt, out && s.residual(), clSource));
                }
            }
        } else {
            for (int pn = 0; pn < panels; pn++) {
                boolean full = (pn + 1) * nrl <= s.cout();
                for (int p0 = 0; p0 < p; p0 += mt) {
                    boolean slide = slideable(slide3, clSource, columns, p0, mt, c.ow());
                    boolean acc = accumulates(s.residual(), c.residualInPlace(), !slide, nv);
                    boolean out = storesToOutput(e, p0 + mt <= p, full, s.residual(), acc) && !columns && (slide || nv != NR || mt == MT);
                    tiles.add(slide ? slideTile(nv, mt) : plainTile(nv, mt, out && s.residual(), clSource));
                }
            }
        }
        int kb = kBlock(s, nv, mt, inPlace && c.xChannelsLast(), slide3, across);
        if (kb > 0) tiles.add(Tile.T6X4_ACC_TAPS); // the blocks after the first start from the partial sums
        return new ConvPlan(Algorithm.CHANNEL_VECTOR, nv, nrl, mt, tiles, staging, columns, across, e, t, tasks,
                new Split(0, 0, 0, chunks, 0, perTask), scratch, kb);
    }

    /** Winograd's blocks of tiles ({@link #MT} 2x2 output tiles each) per image. */
    private static int winogradBlocks(int oh, int ow) { return (((oh + 1) / 2) * ((ow + 1) / 2) + MT - 1) / MT; }

    /** Whether a Winograd call of {@code n} images of {@code p} output pixels runs on more than one thread (enough work to split). */
    private static boolean winogradParallel(ConvSpec s, KernelConfig cfg, int n, int p, int threads) {
        return threads > 1 && s.macs(n, p) >= cfg.parallelMinMacs();
    }

    /**
     * Whether Winograd suits a call on this many threads: its threads share the blocks of tiles, two
     * or more each (or it runs on one thread). With fewer blocks (a 7x7 map at batch 1 has three) the
     * threads would have to split the panels, each repeating the blocks' input transform, and the
     * direct conv is faster: mixed_7a branch 2's 3x3 at 7x7, batch 1, two threads, AMD Zen 5, 3
     * alternated runs: direct 0.219/0.212/0.208 ms, Winograd split by panels 0.304/0.288/0.244 (on one
     * thread Winograd is ahead, 0.323 against 0.444).
     */
    static boolean winogradSharesBlocks(ConvSpec s, KernelConfig cfg, int n, int oh, int ow, int threads) {
        return !winogradParallel(s, cfg, n, oh * ow, threads) || n * winogradBlocks(oh, ow) >= 2 * threads;
    }

    /**
     * The plan of a Winograd call with {@code nv}-vector panels (see WinogradConv): the threads take
     * runs of blocks ({@link #winogradSharesBlocks}).
     */
    static ConvPlan winograd(ConvSpec s, KernelConfig cfg, int nv, Call c) {
        int lanes = cfg.lanes(), pw = nv * lanes;
        int blocks = winogradBlocks(c.oh(), c.ow());
        int tasks = 1, threads = 1;
        if (winogradParallel(s, cfg, c.n(), c.p(), c.threads())) {
            threads = c.threads();
            tasks = Math.min(threads, c.n() * blocks);
        }
        Tile tile = nv == NRW ? Tile.T6X4_TAPS : Tile.T6X2_TAPS;
        int perTask = winogradPerTask(s.cin(), pw, lanes);
        return new ConvPlan(Algorithm.WINOGRAD, nv, pw, MT * 4, EnumSet.of(tile), Staging.TRANSFORM, false, false, Epilogue.TRANSFORM,
                threads, tasks, new Split(0, 0, 0, 1, blocks, perTask), (long) tasks * perTask, 0);
    }

    /**
     * Winograd scratch per task: V (16 points x {@link #MT} tiles x Cin), M (16 x MT x the panel's
     * floats), and a small buffer for the element-wise paths.
     */
    static int winogradPerTask(int cin, int panelFloats, int lanes) { return 16 * MT * (cin + panelFloats) + Math.max(4 * lanes, 16); }

    /**
     * Pixel-vector split: per image, pixel chunks x Cout chunks so that images x chunks divides evenly
     * among the threads, cutting pixels first (no duplicated im2col) while chunks keep >= 4 tiles.
     */
    static Split pixelSplit(ConvSpec s, KernelConfig cfg, int n, int p, int threads) {
        int lanes = cfg.lanes(), k = s.k(), panels = s.panels(MR), tile = tileBufferFloats(lanes);
        int nv = (p + lanes - 1) / lanes;
        int pixelTiles = (nv + NR - 1) / NR;
        int ps = 1, cs = 1;
        int want = threads / gcd(n, threads);
        if (want > 1) {
            ps = Math.max(1, Math.min(want, pixelTiles / 4));
            cs = Math.min(panels, (want + ps - 1) / ps);
            if (ps * cs < want) ps = Math.min(pixelTiles, (want + cs - 1) / cs);
        }
        int blockVectors, perTask;
        if (s.direct()) {
            blockVectors = 1; // only the final partial vector is copied
            perTask = tile + (p % lanes == 0 ? 0 : k * lanes);
        } else {
            int chunkVectors = (pixelTiles + ps - 1) / ps * NR;
            blockVectors = Math.max(NR, cfg.im2colBlockFloats() / (k * lanes) / NR * NR);
            blockVectors = Math.min(blockVectors, Math.min(chunkVectors, nv));
            perTask = tile + k * blockVectors * lanes;
        }
        return new Split(ps, cs, blockVectors, 0, 0, perTask);
    }

    /**
     * The pixel-vector tiles a call runs: 6x2 over pairs of pixel vectors, 6x1 for a block's odd last
     * vector (the blocks as PixelVectorConv.runTask cuts each task's vectors: a direct conv's full
     * vectors then its partial last one, else im2col blocks of {@code blockVectors}).
     */
    static Set<Tile> pixelTiles(ConvSpec s, Split sp, int p, int lanes) {
        int nv = (p + lanes - 1) / lanes, pixelTiles = (nv + NR - 1) / NR, full = p / lanes;
        boolean odd = false;
        for (int pc = 0; pc < sp.pixelChunks(); pc++) {
            int v0 = (int) ((long) pixelTiles * pc / sp.pixelChunks()) * NR;
            int v1 = Math.min(nv, (int) ((long) pixelTiles * (pc + 1) / sp.pixelChunks()) * NR);
            if (v0 >= v1) continue;
            if (s.direct()) {
                odd |= (Math.min(v1, full) - v0) % NR != 0 && Math.min(v1, full) > v0 || v1 > full;
            } else {
                for (int vb = v0; vb < v1; vb += sp.blockVectors()) odd |= Math.min(sp.blockVectors(), v1 - vb) % NR != 0;
            }
        }
        return odd ? EnumSet.of(Tile.P6X2, Tile.P6X1) : EnumSet.of(Tile.P6X2);
    }

    /**
     * Channel-vector scratch per task: the tile buffer and, unless the input is always read in place
     * (1x1 convs but for wide panels), a padded copy: the planned size for an NCHW input (the copy of a
     * channels-last input is never larger).
     */
    static int channelPerTask(ConvSpec s, KernelConfig cfg, int nv, int h, int w, int oh, int ow) {
        int tile = tileBufferFloats(cfg.lanes());
        if (s.direct() && nv != NRW) return tile;
        boolean copy = transposingCopy(false, nv) || !readsInPlace(s, h, w, oh, ow);
        int hp = copy ? (oh - 1) * s.sh() + (s.kh() - 1) * s.dh() + 1 : h;
        int wp = copy ? (ow - 1) * s.sw() + (s.kw() - 1) * s.dw() + 1 : w;
        return tile + s.cin() * hp * wp;
    }

    static int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }

    /**
     * One line, fields separated by " | ": algorithm, panel, tiles, input staging, epilogue, split;
     * e.g. "channel-vector implicit GEMM | 64 (4 vectors) | 6x4 taps, 5x4 | input in place | store
     * channels-last | 2 tasks".
     */
    String describe() {
        StringBuilder b = new StringBuilder(algorithm.label).append(" | ").append(panelChannels);
        b.append(algorithm == Algorithm.PIXEL_VECTOR ? " channels" : " (" + panelVectors + " vectors)").append(" | ");
        int i = 0;
        for (Tile t : tiles) b.append(i++ > 0 ? ", " : "").append(t.label);
        b.append(" | ").append(staging.label);
        if (columnMajor) b.append(", column-major");
        if (acrossImages) b.append(", across images");
        if (kBlock > 0) b.append(", K in blocks of ").append(kBlock);
        b.append(" | ").append(epilogue.label);
        b.append(" | ").append(tasks).append(tasks == 1 ? " task" : " tasks");
        switch (algorithm) {
            case PIXEL_VECTOR -> b.append(" (").append(split.pixelChunks()).append(" pixel x ").append(split.coutChunks()).append(" Cout chunks per image)");
            case WINOGRAD -> b.append(" (").append(split.blocks()).append(" blocks per image)");
            default -> { }
        }
        return b.toString();
    }
}
