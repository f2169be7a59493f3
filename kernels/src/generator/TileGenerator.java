import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the conv register tiles (micro-kernels): {@code ChannelTiles} and {@code PixelTiles}, under
 * {@code target/generated-sources/tiles} (the kernels module's build runs this at generate-sources;
 * the generated files are never edited or committed). One template per loop shape, instantiated per
 * tile size, so a tile's arithmetic is written once here instead of once per size by hand.
 *
 * <p>Why generated rather than one loop over arrays of accumulators: C2 keeps a tile's accumulators
 * in registers only when each is its own local variable. An array of vectors, or helpers that take or
 * return vectors, get boxed as soon as C2's inlining budget (NodeCountInliningCutoff) leaves one of
 * them out of line: the vector code then runs 10x slower or worse. So every tile is one method of
 * straight-line FMAs on named locals, with no calls but the Vector API's intrinsics, and no
 * data-dependent branch (a branch never taken while profiling compiles to a trap, and the code after
 * the deoptimisation runs boxed until it is recompiled).
 *
 * <p>Why instance methods of a per-conv object holding the sizes the loops need ({@code cin},
 * {@code kh}, {@code dh}; {@code k}) in final fields: that is the form the hand-written tiles had (methods
 * of the conv kernel, sizes read from its fields), and C2's register allocation of these loops depends
 * on it. As static methods taking the sizes as arguments, every argument moved a register, and C2 kept
 * the input array's pointer in an XMM register (moved back before each broadcast) and spilled the 6x4
 * tile's accumulators at every tap: measured alone (CPU time, alternated), the 5x4 tile 30% and the 6x4
 * tap tile 15% slower, the whole network about 6%.
 *
 * <p>Run: {@code java TileGenerator.java OUTPUT_DIR PACKAGE} (Java 17 or later: the build runs it
 * with the JVM that runs Maven).
 */
public final class TileGenerator {
    private TileGenerator() {}

    /** How a channel tile walks K (see the generated javadoc of each). */
    enum Loop { FLAT, TAPS, SLIDE3 }

    /** Where a channel tile's accumulators start. */
    enum Start { BIAS, BIAS_PLUS_OUTPUT }

    /**
     * A channel-vector tile: {@code pixels} output pixels x {@code vectors} channel vectors.
     * {@code hold}: for SLIDE3, broadcast the window's inputs once and hold them (else broadcast each
     * input when it first serves, streaming).
     */
    record Channel(String name, int pixels, int vectors, Loop loop, Start start, boolean hold, String doc) {}

    /** A pixel-vector tile: {@code rows} output channels x {@code vectors} pixel vectors. */
    record Pixel(String name, int rows, int vectors, String doc) {}

    /** The tiles the conv kernels use (the conv plan picks among them per call and per tile). */
    static final List<Channel> CHANNEL = List.of(
            new Channel("t6x2", 6, 2, Loop.FLAT, Start.BIAS, false,
                    "The narrow tile: 2-vector panels, any source layout (the padded NCHW copy among them)."),
            new Channel("t6x2Taps", 6, 2, Loop.TAPS, Start.BIAS, false,
                    "{@link #t6x2} over a channels-last source. Alone (hot, K = 256): 90-101 against 74-88 GFLOP/s\n"
                            + " * for the flat form at 16 lanes, 76 against 56-66 at 8."),
            new Channel("t6x4Taps", 6, 4, Loop.TAPS, Start.BIAS, false,
                    "The wide tile (32-register machines): twice the channels per broadcast of {@link #t6x2}. In\n"
                            + " * tap form against the flat form, whole network, medians of 5-6 alternated LayerProfile\n"
                            + " * runs, twice: batch 1 one thread 0.92-0.96, batch 8 two threads 0.97. A whole kernel row per\n"
                            + " * inner loop, and the tap form for the 5-pixel tiles, made C2 keep accumulators on the stack\n"
                            + " * (the 5x4 tile 40 against 99 GFLOP/s alone): not done."),
            new Channel("t5x4", 5, 4, Loop.FLAT, Start.BIAS, false,
                    "{@link #t6x4Taps} less a row, for pixel counts that 6 leaves ragged (7x7, 3x3)."),
            new Channel("t4x5", 4, 5, Loop.FLAT, Start.BIAS, false,
                    "Five-vector panels (Cout close to a multiple of 5 vectors, conv2d_3b's 80 at 16 lanes): 20\n"
                            + " * accumulators, 4 broadcasts and 5 weight vectors per 20 FMAs."),
            new Channel("t6x4Acc", 6, 4, Loop.FLAT, Start.BIAS_PLUS_OUTPUT, false,
                    "A residual conv written in place over its residual: the accumulators start from the residual\n"
                            + " * already in the output plus the bias, so the tile stores the finished sum (no tile buffer, no\n"
                            + " * epilogue pass; batch 8 one thread: the residual convs 4% faster)."),
            new Channel("t5x4Acc", 5, 4, Loop.FLAT, Start.BIAS_PLUS_OUTPUT, false, "{@link #t6x4Acc} for 5-pixel tiles."),
            new Channel("t6x4AccTaps", 6, 4, Loop.TAPS, Start.BIAS_PLUS_OUTPUT, false,
                    "{@link #t6x4Acc} over a channels-last source (the residual 1x1 convs, read in place)."),
            new Channel("t6x2Slide3", 6, 2, Loop.SLIDE3, Start.BIAS, false,
                    "Per kernel row and input channel 8 broadcasts and 6 weight vectors feed 36 FMAs, where\n"
                            + " * {@link #t6x2} needs 18 broadcasts for the same work (with two channel vectors each of its\n"
                            + " * broadcasts feeds only two FMAs): conv2d_2a 0.96-0.98 -> 0.83-0.87 ms at batch 1."),
            new Channel("t5x2Slide3", 5, 2, Loop.SLIDE3, Start.BIAS, false,
                    "{@link #t6x2Slide3} for rows that 5 divides and 6 does not (65, 15)."),
            new Channel("t5x4Slide3", 5, 4, Loop.SLIDE3, Start.BIAS, true,
                    "Wide panels: the seven inputs the three taps read are broadcast once and held (20 accumulators,\n"
                            + " * 7 inputs, 4 weights: 31 registers), then each tap's 4 weight vectors feed 20 FMAs: 7\n"
                            + " * broadcasts per 60 FMAs where {@link #t5x4} needs 15."));

    static final List<Pixel> PIXEL = List.of(
            new Pixel("p6x2", 6, 2, "The pixel-vector tile: 6 output channels x 2 vectors of pixels."),
            new Pixel("p6x1", 6, 1, "{@link #p6x2} for the last single vector of a block."));

    /** The scalar path's pixel-vector tiles (one lane: a "vector" is one pixel), plain floats and {@code Math.fma}. */
    static final List<Pixel> PIXEL_SCALAR = List.of(
            new Pixel("s6x2", 6, 2, "{@link #p6x2} on the scalar path: twelve independent sums in scalar registers, so that the loop\n"
                    + " * is bound by FMA throughput rather than by one chain's latency; each sums over K in order from 0.\n"
                    + " * Small and simple, so C2 compiles it within milliseconds: the short-run path (KernelConfig bits = 0)."));

    /**
     * Writes ChannelTiles.java and PixelTiles.java of package {@code args[1]} under directory {@code args[0]}.
     *
     * @throws IllegalArgumentException without exactly those two arguments
     * @throws IOException              when a file cannot be written
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) throw new IllegalArgumentException("usage: TileGenerator OUTPUT_DIR PACKAGE");
        Path dir = Path.of(args[0]).resolve(args[1].replace('.', '/'));
        Files.createDirectories(dir);
        write(dir.resolve("ChannelTiles.java"), file(args[1], "ChannelTiles", CHANNEL_DOC, sizes("ChannelTiles", "cin", "kh", "dh"),
                CHANNEL.stream().map(TileGenerator::channel).toList()));
        List<String> pixelTiles = new ArrayList<>(PIXEL.stream().map(TileGenerator::pixel).toList());
        PIXEL_SCALAR.stream().map(TileGenerator::pixelScalar).forEach(pixelTiles::add);
        write(dir.resolve("PixelTiles.java"), file(args[1], "PixelTiles", PIXEL_DOC, sizes("PixelTiles", "k"), pixelTiles));
    }

    /** Writes only when the text changed, so an unchanged generator does not make the module recompile. */
    private static void write(Path file, String text) throws IOException {
        if (Files.isRegularFile(file) && Files.readString(file, StandardCharsets.UTF_8).equals(text)) return;
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** Final int fields for the sizes of one conv, and the constructor setting them (see the class comment). */
    private static String sizes(String cls, String... names) {
        StringBuilder b = new StringBuilder("    /** The conv's sizes the loops read: " + String.join(", ", names) + ". */\n");
        b.append("    private final int ").append(String.join(", ", names)).append(";\n\n");
        b.append("    /** The tiles of a conv with these sizes. */\n");
        b.append("    ").append(cls).append("(int ").append(String.join(", int ", names)).append(") {\n");
        for (String n : names) b.append("        this.").append(n).append(" = ").append(n).append(";\n");
        return b.append("    }\n\n").toString();
    }

    /** A generated class: the header, the sizes, then the methods. */
    private static String file(String pkg, String cls, String doc, String fields, List<String> methods) {
        StringBuilder s = new StringBuilder("// GENERATED by kernels/src/generator/TileGenerator.java at build time: do not edit, change the generator.\n"
                + "package " + pkg + ";\n\n"
                + "import jdk.incubator.vector.FloatVector;\n"
                + "import jdk.incubator.vector.Vector;\n"
                + "import jdk.incubator.vector.VectorSpecies;\n"
                + "import org.deepfever.kernels.simd.Simd;\n\n"
                + "/**\n * " + doc + "\n */\n"
                + "final class " + cls + " {\n"
                + fields
                + "    private static final VectorSpecies<Float> S = Simd.SPECIES;\n"
                + "    private static final int L = Simd.LANES;\n"
                + "    /** Accumulators pass through {@code V.cast} where they are an FMA's addend: see {@link Simd#VECTOR}. */\n"
                + "    private static final Class<? extends Vector<Float>> V = Simd.VECTOR;\n");
        for (String m : methods) s.append('\n').append(m);
        return s.append("}\n").toString();
    }

    // ------------------------------------------------------------------ channel-vector tiles

    static final String CHANNEL_DOC = "Channel-vector register tiles: a few output pixels x a few vectors of output channels, the\n"
            + " * accumulators starting from the bias ({@code bias[bOff ..]}), stored to\n"
            + " * {@code dst[dOff + pixel * dStride + channel]} (the tile buffer, or a channels-last output).\n"
            + " * Weights are a panel {@code wt[wOff ..]}: per K index, the panel's channel vectors side by side.";

    private static String channel(Channel t) {
        int p = t.pixels(), v = t.vectors();
        StringBuilder b = new StringBuilder();
        b.append("    /**\n     * ").append(p).append(" pixels x ").append(v).append(" channel vectors, ").append(loopDoc(t.loop()))
                .append("\n     * ").append(t.doc().replace("\n * ", "\n     * ")).append("\n     */\n");
        List<String> params = new ArrayList<>();
        switch (t.loop()) {
            case FLAT -> params.addAll(List.of("float[] x", "int base", "int[] koff", "int k0", "int k1"));
            case TAPS -> params.addAll(List.of("float[] x", "int base", "int[] koff", "int tap0", "int tap1"));
            case SLIDE3 -> params.addAll(List.of("float[] x", "int o", "int pix", "int rowStride"));
        }
        if (t.loop() != Loop.SLIDE3) for (int i = 0; i < p; i++) params.add("int o" + i);
        params.addAll(List.of("float[] wt", "int wOff", "float[] bias", "int bOff", "float[] dst", "int dOff", "int dStride"));
        b.append("    void ").append(t.name()).append('(').append(String.join(", ", params)).append(") {\n");
        b.append("        int r = ").append(v).append(" * L;\n");
        for (int j = 0; j < v; j++) b.append("        FloatVector b").append(j).append(" = FloatVector.fromArray(S, bias, bOff").append(plusL(j)).append(");\n");
        for (int i = 0; i < p; i++) {
            b.append("        FloatVector ");
            for (int j = 0; j < v; j++) {
                if (j > 0) b.append(", ");
                b.append(acc(i, j)).append(" = b").append(j);
                if (t.start() == Start.BIAS_PLUS_OUTPUT) b.append(".add(FloatVector.fromArray(S, dst, dOff").append(row(i)).append(plusL(j)).append("))");
            }
            b.append(";\n");
        }
        switch (t.loop()) {
            case FLAT -> {
                b.append("        for (int kk = k0, wi = wOff; kk < k1; kk++, wi += r) {\n");
                b.append("            int b = base + koff[kk];\n");
                weights(b, "            ", v, "wi");
                for (int i = 0; i < p; i++) broadcastAndFma(b, "            ", i == 0, "x[b + o" + i + "]", i, v);
                b.append("        }\n");
            }
            case TAPS -> {
                b.append("        int n = cin;\n");
                b.append("        for (int tap = tap0, wt0 = wOff; tap < tap1; tap++, wt0 += n * r) {\n");
                b.append("            int t = base + koff[tap * n];\n");
                b.append("            int ");
                for (int i = 0; i < p; i++) b.append(i > 0 ? ", " : "").append("p").append(i).append(" = t + o").append(i);
                b.append(";\n");
                b.append("            for (int ci = 0; ci < n; ci++) {\n");
                b.append("                int wi = wt0 + ci * r;\n");
                weights(b, "                ", v, "wi");
                for (int i = 0; i < p; i++) broadcastAndFma(b, "                ", i == 0, "x[p" + i + " + ci]", i, v);
                b.append("            }\n");
                b.append("        }\n");
            }
            case SLIDE3 -> slide3(b, t);
        }
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < v; j++) b.append("        ").append(acc(i, j)).append(".intoArray(dst, dOff").append(row(i)).append(plusL(j)).append(");\n");
        }
        return b.append("    }\n").toString();
    }

    private static String loopDoc(Loop loop) {
        return switch (loop) {
            case FLAT -> "over K range [k0, k1): pixel i of K index kk at {@code x[base + koff[kk] + oi]}.";
            case TAPS -> "over whole taps [tap0, tap1) of a channels-last source (a tap's cin channels\n"
                    + "     * consecutive), the channel loop innermost: each pixel's input index is a per-tap base plus the\n"
                    + "     * loop counter, whose range C2 checks once per tap instead of once per pixel per step.";
            case SLIDE3 -> "consecutive pixels of one output row of a conv whose windows are 3 wide with stride\n"
                    + "     * and dilation 1 across, over the whole K (a channels-last source of pixel stride {@code pix} and row\n"
                    + "     * stride {@code rowStride}, the first pixel's window at {@code o}): each input value is broadcast\n"
                    + "     * once and serves every tap that reads it.";
        };
    }

    /**
     * The sliding K loop: per kernel row and input channel, the three taps' weight vectors; each input
     * m of the row's window (P + 2 of them) serves pixel m - t through tap t. Per accumulator the taps
     * come in order 0, 1, 2, so holding and streaming give the same sums.
     */
    private static void slide3(StringBuilder b, Channel t) {
        int p = t.pixels(), v = t.vectors();
        b.append("        int tap = cin * r; // weights: one K row = r floats, the next tap cin rows on\n");
        b.append("        for (int ky = 0; ky < kh; ky++) {\n");
        b.append("            int row = o + ky * dh * rowStride, wRow = wOff + ky * 3 * tap;\n");
        b.append("            for (int ci = 0; ci < cin; ci++) {\n");
        b.append("                int xi = row + ci, wi = wRow + ci * r;\n");
        String in = "                ";
        if (t.hold()) {
            for (int m = 0; m < p + 2; m++) b.append(in).append("FloatVector a").append(m).append(" = FloatVector.broadcast(S, x[xi").append(inputAt(m)).append("]);\n");
            for (int tap = 0; tap < 3; tap++) {
                for (int j = 0; j < v; j++) {
                    b.append(in).append(tap == 0 ? "FloatVector " : "").append("w").append(j).append(" = FloatVector.fromArray(S, wt, wi")
                            .append(tap == 0 ? "" : tap == 1 ? " + tap" : " + 2 * tap").append(plusL(j)).append(");\n");
                }
                for (int i = 0; i < p; i++) {
                    for (int j = 0; j < v; j++) b.append(in).append(fma("a" + (i + tap), "w" + j, acc(i, j)));
                }
            }
        } else {
            for (int tap = 0; tap < 3; tap++) {
                b.append(in).append("FloatVector ");
                for (int j = 0; j < v; j++) {
                    if (j > 0) b.append(", ");
                    b.append("w").append(tap).append(j).append(" = FloatVector.fromArray(S, wt, wi")
                            .append(tap == 0 ? "" : tap == 1 ? " + tap" : " + 2 * tap").append(plusL(j)).append(")");
                }
                b.append(";\n");
            }
            for (int m = 0; m < p + 2; m++) {
                b.append(in).append(m == 0 ? "FloatVector a = " : "a = ").append("FloatVector.broadcast(S, x[xi").append(inputAt(m)).append("]);\n");
                for (int tap = 0; tap < 3; tap++) {
                    int i = m - tap;
                    if (i < 0 || i >= p) continue;
                    for (int j = 0; j < v; j++) b.append(in).append(fma("a", "w" + tap + j, acc(i, j)));
                }
            }
        }
        b.append("            }\n");
        b.append("        }\n");
    }

    // ------------------------------------------------------------------ pixel-vector tiles

    static final String PIXEL_DOC = "Pixel-vector register tiles: output channels x vectors of consecutive output pixels, over the\n"
            + " * whole K: weights broadcast from a packed panel {@code wp[wOff + kk * rows + row]}, B rows\n"
            + " * ({@code b[bOff + kk * bStride ..]}: the input itself or an im2col block) loaded as vectors. The\n"
            + " * raw sums go to the tile buffer ({@code tile[tOff + row * 2 * L + vector * L]}); the epilogue adds\n"
            + " * bias and residual and applies ReLU.";

    private static String pixel(Pixel t) {
        int rows = t.rows(), v = t.vectors();
        StringBuilder b = new StringBuilder();
        b.append("    /** ").append(t.doc()).append(" */\n");
        b.append("    void ").append(t.name()).append("(float[] wp, float[] b, int bOff, int bStride, int wOff, float[] tile, int tOff) {\n");
        for (int i = 0; i < rows; i++) {
            b.append("        FloatVector ");
            for (int j = 0; j < v; j++) b.append(j > 0 ? ", " : "").append(acc(i, j)).append(" = FloatVector.zero(S)");
            b.append(";\n");
        }
        b.append("        int wEnd = wOff + k * ").append(rows).append(";\n");
        b.append("        for (int wi = wOff, bi = bOff; wi < wEnd; wi += ").append(rows).append(", bi += bStride) {\n");
        for (int j = 0; j < v; j++) b.append("            FloatVector b").append(j).append(" = FloatVector.fromArray(S, b, bi").append(plusL(j)).append(");\n");
        for (int i = 0; i < rows; i++) {
            b.append("            ").append(i == 0 ? "FloatVector a = " : "a = ").append("FloatVector.broadcast(S, wp[wi").append(i == 0 ? "" : " + " + i).append("]);\n");
            for (int j = 0; j < v; j++) b.append("            ").append(fma("a", "b" + j, acc(i, j)));
        }
        b.append("        }\n");
        b.append("        // rows 2 vectors apart whatever the tile's width (one tile buffer layout)\n");
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < v; j++) {
                int at = 2 * i + j;
                b.append("        ").append(acc(i, j)).append(".intoArray(tile, tOff").append(at == 0 ? "" : at == 1 ? " + L" : " + " + at + " * L").append(");\n");
            }
        }
        return b.append("    }\n").toString();
    }

    /** A scalar-path tile: as {@link #pixel} with one lane, in plain floats (rows 2 apart in the tile buffer). */
    private static String pixelScalar(Pixel t) {
        int rows = t.rows(), v = t.vectors();
        StringBuilder b = new StringBuilder();
        b.append("    /**\n     * ").append(t.doc().replace("\n * ", "\n     * ")).append("\n     */\n");
        b.append("    void ").append(t.name()).append("(float[] wp, float[] b, int bOff, int bStride, int wOff, float[] tile, int tOff) {\n");
        for (int i = 0; i < rows; i++) {
            b.append("        float ");
            for (int j = 0; j < v; j++) b.append(j > 0 ? ", " : "").append(acc(i, j)).append(" = 0f");
            b.append(";\n");
        }
        b.append("        int wEnd = wOff + k * ").append(rows).append(";\n");
        b.append("        for (int wi = wOff, bi = bOff; wi < wEnd; wi += ").append(rows).append(", bi += bStride) {\n");
        for (int j = 0; j < v; j++) b.append("            float b").append(j).append(" = b[bi").append(j == 0 ? "" : " + " + j).append("];\n");
        for (int i = 0; i < rows; i++) {
            b.append("            ").append(i == 0 ? "float a = " : "a = ").append("wp[wi").append(i == 0 ? "" : " + " + i).append("];\n");
            for (int j = 0; j < v; j++) b.append("            ").append(acc(i, j)).append(" = Math.fma(a, b").append(j).append(", ").append(acc(i, j)).append(");\n");
        }
        b.append("        }\n");
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < v; j++) {
                int at = 2 * i + j;
                b.append("        tile[tOff").append(at == 0 ? "" : " + " + at).append("] = ").append(acc(i, j)).append(";\n");
            }
        }
        return b.append("    }\n").toString();
    }

    // ------------------------------------------------------------------ spelling

    private static void weights(StringBuilder b, String in, int v, String wi) {
        for (int j = 0; j < v; j++) b.append(in).append("FloatVector w").append(j).append(" = FloatVector.fromArray(S, wt, ").append(wi).append(plusL(j)).append(");\n");
    }

    private static void broadcastAndFma(StringBuilder b, String in, boolean first, String value, int i, int v) {
        b.append(in).append(first ? "FloatVector a = " : "a = ").append("FloatVector.broadcast(S, ").append(value).append(");\n");
        for (int j = 0; j < v; j++) b.append(in).append(fma("a", "w" + j, acc(i, j)));
    }

    /**
     * One accumulation {@code acc = a * w + acc}, the accumulator passed through {@code V.cast} so that
     * C2 sees its exact vector class however it orders its late inlining (Simd.VECTOR says why).
     */
    private static String fma(String a, String w, String acc) {
        return acc + " = " + a + ".fma(" + w + ", (FloatVector) V.cast(" + acc + "));\n";
    }

    private static String acc(int i, int j) { return "c" + i + j; }

    private static String plusL(int j) { return j == 0 ? "" : j == 1 ? " + L" : " + " + j + " * L"; }

    private static String row(int i) { return i == 0 ? "" : i == 1 ? " + dStride" : " + " + i + " * dStride"; }

    private static String inputAt(int m) { return m == 0 ? "" : m == 1 ? " + pix" : " + " + m + " * pix"; }
}
