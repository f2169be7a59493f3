package org.deepfever.kernels.simd;

import java.util.ArrayList;
import java.util.List;
import org.deepfever.core.config.Overrides;
import jdk.incubator.vector.FloatVector;

/**
 * Every tunable of the SIMD kernels, in one record: the vector unit they plan for and the thresholds
 * that pick one algorithm or split over another. {@link #current()} is chosen once per JVM from what
 * the JVM may use on this CPU (its preferred vector species: 512-bit on AVX-512 machines, 256-bit on
 * AVX2 ones or under {@code -XX:UseAVX=2}); {@link #avx512()} and {@link #avx2()} are the same
 * defaults for the other two machine kinds, for planning only ({@code fever info --kernels=...}).
 *
 * <p>A short run may take the scalar path instead, before anything has used the config
 * ({@link #preferScalarForShortRun()}: {@code fever extract} on a few images). Experiments override
 * fields through one system property, and only through it:
 * {@code -Dfever.kernels=key=value,key=value}, keys as the record's component names (see
 * {@link #KEYS}), e.g. {@code -Dfever.kernels=bits=256} or {@code -Dfever.kernels=winogradMinPixels=1000000}
 * (every 3x3 on the direct conv). A bad key or value fails at the first use of the SIMD backend
 * with the key, the value and what is allowed.
 *
 * <p>The fixed rules of the conv plan (lane-use thresholds of the panel widths) are not knobs: they
 * are constants of {@code ConvPlan}, each with its measurement. The CPU ({@link CpuInfo}) decides
 * two knobs: the Winograd threshold on Intel's AVX-512 cores, and 5-pixel tiles, which AMD Zen 5
 * does without (docs/performance-history.md, "KernelConfig on Intel Xeon" and "AMD Zen 5,
 * 2026-12-08"). The CPU is printed beside the plan so that a measurement on another machine kind can be
 * read against it.
 *
 * @param target               what this config is for, in words ("this JVM", "AVX-512", "AVX2")
 * @param bits                 vector width in bits: 512, 256 or 128; 0 for the scalar path (one lane).
 *                             Default: the JVM's preferred species, scalar when that is under 128 bits.
 * @param registers            vector registers the JIT may use: 32 with AVX-512 encodings, else 16.
 *                             With 16 the wide register tiles (6x4, 5x4, 4x5: 20-24 accumulators) would
 *                             spill, so only 2-vector panels are planned, and the pixel-vector tile
 *                             (measured at half speed there) only where channel vectors waste lanes.
 *                             Default: 32 when the preferred species is 512-bit, else 16.
 * @param directSmallP         1x1 stride-1 convs use channel vectors up to this many output pixels, pixel
 *                             vectors above. Default 1200: takes in 33x33 (1089), so maxpool_3a reads and
 *                             writes channels-last (1.62 -> 0.84 ms) though conv2d_3b is slower that way
 *                             (1.29 -> 1.50 ms); full model, two alternations, batch 8 one thread p10
 *                             165.9-166.6 vs 166.8-167.7 ms, batch 1 21.7-21.9 vs 21.9-22.0 ms.
 *                             (256, taking in 15x15, against 100: batch 8 176.3-177.1 vs 179.1-181.4 ms.)
 * @param acrossImagesMaxP     batches on maps up to this many pixels, in convs that read their input in
 *                             place, are tiled across image boundaries. Default 64 (the 7x7 and 3x3
 *                             stages): LayerProfile batch 8 one thread, sum of node medians 166.4 vs
 *                             169.9 ms; at 15x15 (256) it was slower. 0 turns it off.
 * @param winogradMinPixels    3x3 stride-1 convs use Winograd F(2x2, 3x3) from this many output pixels
 *                             up. Default 40 (takes in 7x7: ConvBench 256 -> 256 channels at 7x7, one
 *                             thread, 2606 vs 1800-1810 convs/s on Zen 4; 3x3, four tiles in a block of
 *                             six, would lose), 50 on Intel's AVX-512 cores (7x7 direct there; see
 *                             {@link #winogradMinPixels(CpuInfo, int)}). A value above every map
 *                             (1000000) runs every conv direct.
 * @param parallelMinMacs      a conv call with fewer multiply-adds runs on the calling thread only: a
 *                             parallel loop costs a few microseconds to start and join.
 *                             Default 400000 (not measured against other values).
 * @param im2colBlockFloats    floats of one im2col block of the pixel-vector orientation per task.
 *                             Default 98304 (384 KB: the block stays in L2 while the panels stream).
 * @param slideWideMinChannels wide sliding tiles (5x4 slide3) only for convs with at least this many
 *                             input channels, which amortise the seven held broadcasts. Default 64:
 *                             conv2d_2b (32 channels) measured 1-3% slower with them; conv2d_4a and
 *                             Mixed_6a's 3x3 faster (-4%, -2.5% at batch 8).
 * @param fivePixelTiles       1: wide channel-vector panels take 5-pixel tiles where 6 would waste over 5%
 *                             more of a map's tile slots (49 pixels: 10 tiles of 5, not 9 of 6); 0:
 *                             always 6. The 5-pixel tile is the flat form (an offset load per K step: its
 *                             tap form spilled), the 6-pixel one the tap form. Default 1, 0 on AMD Zen 5
 *                             (see {@link #fivePixelTiles(CpuInfo)}).
 */
public record KernelConfig(String target, int bits, int registers, int directSmallP, int acrossImagesMaxP,
                           int winogradMinPixels, long parallelMinMacs, int im2colBlockFloats, int slideWideMinChannels,
                           int fivePixelTiles) {

    /** The system property, the one way to override a field (see the class comment). */
    public static final String PROPERTY = "fever.kernels";
    /** The keys {@link #PROPERTY} accepts: every component but {@code target}. */
    public static final List<String> KEYS = List.of("bits", "registers", "directSmallP", "acrossImagesMaxP",
            "winogradMinPixels", "parallelMinMacs", "im2colBlockFloats", "slideWideMinChannels", "fivePixelTiles");

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException for a width other than 0, 128, 256, 512, registers other than 16
     *                                  or 32, a negative threshold, or fivePixelTiles other than 0 or 1
     */
    public KernelConfig {
        if (bits != 0 && bits != 128 && bits != 256 && bits != 512) throw bad("bits", bits, "0 (scalar), 128, 256 or 512");
        if (registers != 16 && registers != 32) throw bad("registers", registers, "16 or 32");
        if (directSmallP < 0) throw bad("directSmallP", directSmallP, ">= 0");
        if (acrossImagesMaxP < 0) throw bad("acrossImagesMaxP", acrossImagesMaxP, ">= 0");
        if (winogradMinPixels < 0) throw bad("winogradMinPixels", winogradMinPixels, ">= 0");
        if (parallelMinMacs < 0) throw bad("parallelMinMacs", parallelMinMacs, ">= 0");
        if (im2colBlockFloats < 1) throw bad("im2colBlockFloats", im2colBlockFloats, ">= 1");
        if (slideWideMinChannels < 0) throw bad("slideWideMinChannels", slideWideMinChannels, ">= 0");
        if (fivePixelTiles != 0 && fivePixelTiles != 1) throw bad("fivePixelTiles", fivePixelTiles, "0 or 1");
    }

    private static IllegalArgumentException bad(String key, long value, String allowed) {
        return new IllegalArgumentException(PROPERTY + ": " + key + " must be " + allowed + ", got " + value);
    }

    /** The defaults for a vector unit of {@code bits} bits (0: scalar) and {@code registers} registers on {@code cpu}. */
    static KernelConfig defaults(String target, int bits, int registers, CpuInfo cpu) {
        return new KernelConfig(target, bits, registers, 1200, 64, winogradMinPixels(cpu, bits), 400_000, 96 * 1024, 64, fivePixelTiles(cpu));
    }

    /**
     * Whether 5-pixel tiles are taken on ragged maps: not on AMD Zen 5 (family 26 and later with
     * full-width 512-bit FMAs). There the 6-pixel tap tile on the 7x7 and 3x3 maps made full-size
     * DeepFEVER 8% faster at batch 1 on one thread (LayerProfile, 3 alternated pairs: 13.46/15.93/16.28
     * against 14.72/17.11/17.46 ms), 3-6% on two, 1% at batch 8 on two. On Zen 4 the two were level
     * (1.000 at batch 1); on an Intel Xeon (AVX-512) within the noise (7x7 convs 2.6% faster at batch
     * 8, 3x3 mixed), so both keep 5.
     */
    static int fivePixelTiles(CpuInfo cpu) {
        return cpu.vendor().equals("AuthenticAMD") && cpu.fma512() == CpuInfo.Fma512.FULL_WIDTH ? 0 : 1;
    }

    /**
     * The Winograd threshold for {@code bits}-bit vectors on {@code cpu}: 50 output pixels on Intel
     * cores running 512-bit vectors, so that the 7x7 maps (49) run direct, 40 elsewhere (7x7 on
     * Winograd). On an Intel Xeon (family 6 model 167 as its hypervisor reports it, AVX-512), the 7x7
     * 256 -> 288 conv of full-size DeepFEVER took 0.645-0.680 ms direct against 0.913-0.986 on Winograd
     * at batch 1, 4.35-4.47 against 4.74-5.78 ms at batch 8 (one thread, {@code LayerProfile}), while
     * the 15x15 ones stayed faster on Winograd at batch 8; on AMD Zen 4 Winograd won at 7x7 by 44%.
     * Intel's AVX2-only cores (and AVX-512 ones under {@code -XX:UseAVX=2}) were not measured and keep 40.
     */
    static int winogradMinPixels(CpuInfo cpu, int bits) {
        return cpu.vendor().equals("GenuineIntel") && bits == 512 ? 50 : 40;
    }

    /** The defaults of an AVX-512 machine other than Intel's: 512-bit vectors, 32 registers (planning only, unless this JVM is one). */
    public static KernelConfig avx512() { return defaults("AVX-512", 512, 32, CpuInfo.UNKNOWN); }

    /** The defaults of an AVX2 machine: 256-bit vectors, 16 registers (planning only, unless this JVM is one). */
    public static KernelConfig avx2() { return defaults("AVX2", 256, 16, CpuInfo.UNKNOWN); }

    /** This JVM's config once made (immutable; made again only while the property is malformed, which throws). */
    private static volatile KernelConfig current;

    /**
     * The config the kernels of this JVM run with: chosen once, from the JVM's preferred species and
     * {@code -Dfever.kernels}. Not a class initialiser, so that a malformed property reaches the user
     * as this method's exception, with its message, rather than as an ExceptionInInitializerError.
     *
     * @throws IllegalArgumentException when {@code -Dfever.kernels} is malformed (naming the key and value)
     */
    public static KernelConfig current() {
        KernelConfig c = current;
        if (c == null) current = c = forThisJvm(System.getProperty(PROPERTY, ""));
        return c;
    }

    /**
     * Makes this JVM's kernels take the scalar path ({@code bits = 0}) for a short run, where the first
     * results count and throughput does not: its plain loops are compiled by C2 within milliseconds,
     * while the vector kernels run boxed (~100x slower) until C2 has compiled each of them, about a
     * second into a run. Full-size DeepFEVER, one 140x140 face, whole {@code fever extract}, AMD EPYC
     * (Zen 5), 2 threads: 1.07-1.09 s against 2.08-2.10 s, peak RSS 231 against 344 MB; from about
     * 16 faces on the vector kernels are ahead (docs/cold-start.md). Results differ from the vector
     * kernels' by float rounding (the scalar path sums in another order and runs 3x3 convs direct).
     * Does nothing when {@code -Dfever.kernels} is set (the user's choice stands) or when this JVM's
     * config is already in use; call it before the first model is loaded.
     *
     * @return whether this JVM's kernels run the scalar path now
     * @throws IllegalArgumentException when {@code -Dfever.kernels} is malformed (as {@link #current()})
     */
    public static synchronized boolean preferScalarForShortRun() {
        if (current == null && System.getProperty(PROPERTY, "").isBlank()) current = forThisJvm("bits=0");
        return current().scalar();
    }

    /** This JVM's defaults on this CPU with the overrides of {@code spec} ({@code key=value,...}, may be empty). */
    static KernelConfig forThisJvm(String spec) {
        return forThisJvm(spec, CpuInfo.detect());
    }

    /** This JVM's defaults on {@code cpu} with the overrides of {@code spec} (tests pass another CPU's facts). */
    static KernelConfig forThisJvm(String spec, CpuInfo cpu) {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize(), bits = preferred < 128 ? 0 : preferred;
        return defaults("this JVM", bits, preferred >= 512 ? 32 : 16, cpu).with(spec);
    }

    /**
     * This config with the fields named in {@code spec} replaced: {@code key=value} pairs separated by
     * commas, keys from {@link #KEYS}; blank means no change.
     *
     * @throws IllegalArgumentException naming the key and value for an unknown key, a missing '=', a
     *                                  repeated key, a value that is not a whole number, or one out of range
     */
    public KernelConfig with(String spec) {
        Overrides o = Overrides.parse(PROPERTY, spec, KEYS);
        if (o.isEmpty()) return this;
        return new KernelConfig(target + " with " + spec.trim(),
                o.intOf("bits", bits), o.intOf("registers", registers), o.intOf("directSmallP", directSmallP),
                o.intOf("acrossImagesMaxP", acrossImagesMaxP), o.intOf("winogradMinPixels", winogradMinPixels),
                o.longOf("parallelMinMacs", parallelMinMacs, Long.MIN_VALUE, Long.MAX_VALUE), o.intOf("im2colBlockFloats", im2colBlockFloats),
                o.intOf("slideWideMinChannels", slideWideMinChannels), o.intOf("fivePixelTiles", fivePixelTiles));
    }

    /** Floats per vector: bits / 32, 1 on the scalar path. */
    public int lanes() { return bits == 0 ? 1 : bits / 32; }

    /** Whether this is the scalar path (no vectors). */
    public boolean scalar() { return bits == 0; }

    /** Whether the JIT has 32 vector registers (the wide register tiles fit). */
    public boolean wideRegisterFile() { return registers >= 32; }

    /** One line per field: {@code name = value}, for {@code fever info --kernels}. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add("target = " + target);
        out.add("bits = " + bits + (bits == 0 ? " (scalar)" : " (" + lanes() + " floats per vector)"));
        out.add("registers = " + registers);
        out.add("directSmallP = " + directSmallP);
        out.add("acrossImagesMaxP = " + acrossImagesMaxP);
        out.add("winogradMinPixels = " + winogradMinPixels);
        out.add("parallelMinMacs = " + parallelMinMacs);
        out.add("im2colBlockFloats = " + im2colBlockFloats);
        out.add("slideWideMinChannels = " + slideWideMinChannels);
        out.add("fivePixelTiles = " + fivePixelTiles);
        return out;
    }
}
