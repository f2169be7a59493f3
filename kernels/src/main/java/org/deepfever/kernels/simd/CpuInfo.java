package org.deepfever.kernels.simd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * What this machine's CPU is, as far as the kernels care: read once from {@code /proc/cpuinfo}
 * (Linux; elsewhere every field is unknown and the JVM's own view of the vector unit decides alone).
 * {@link KernelConfig} takes the vector width and register count from the JVM (which knows whether it
 * may use AVX-512, e.g. under {@code -XX:UseAVX=2} it may not), the vendor's Winograd threshold from
 * here, and prints these facts beside them.
 *
 * @param vendor         {@code vendor_id}, e.g. "AuthenticAMD", "GenuineIntel"; "" when unknown
 * @param family         {@code cpu family}, -1 when unknown
 * @param model          {@code model}, -1 when unknown
 * @param modelName      {@code model name}; "" when unknown
 * @param avx512         whether the CPU has AVX-512 F (the JVM may still be told not to use it)
 * @param avx2           whether the CPU has AVX2
 * @param fma512         how 512-bit FMAs execute on this micro-architecture
 */
public record CpuInfo(String vendor, int family, int model, String modelName, boolean avx512, boolean avx2, Fma512 fma512) {

    /** How a 512-bit FMA executes. */
    public enum Fma512 {
        /** Native 512-bit FMA units (AMD Zen 5 desktop/server, Intel AVX-512 server cores). */
        FULL_WIDTH,
        /** Split into two 256-bit halves (AMD Zen 4): same FLOP/cycle as AVX2, fewer instructions. */
        DOUBLE_PUMPED,
        /** No AVX-512 on this CPU. */
        NONE,
        /** Not known (no /proc/cpuinfo, or a CPU this table does not name). */
        UNKNOWN
    }

    /** Nothing known (no /proc/cpuinfo). */
    static final CpuInfo UNKNOWN = new CpuInfo("", -1, -1, "", false, false, Fma512.UNKNOWN);

    /** This machine's CPU, read from {@code /proc/cpuinfo}; {@link #UNKNOWN} where that cannot be read. */
    public static CpuInfo detect() {
        try {
            Path p = Path.of("/proc/cpuinfo");
            return Files.isReadable(p) ? parse(Files.readString(p)) : UNKNOWN;
        } catch (IOException | RuntimeException e) {
            return UNKNOWN; // the kernels still run, with the thresholds of an unknown CPU (KernelConfig.defaults)
        }
    }

    /**
     * The first processor's entry of a {@code /proc/cpuinfo} text. Unparseable numbers read as -1;
     * never throws for odd text (the file's format is the kernel's, not ours).
     */
    public static CpuInfo parse(String cpuinfo) {
        String vendor = "", name = "", flags = "";
        int family = -1, model = -1;
        for (String line : cpuinfo.split("\n")) {
            if (line.isBlank()) {
                if (!vendor.isEmpty() || !flags.isEmpty()) break; // end of the first processor
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon).trim(), value = line.substring(colon + 1).trim();
            switch (key) {
                case "vendor_id" -> vendor = value;
                case "cpu family" -> family = parseInt(value);
                case "model" -> model = parseInt(value);
                case "model name" -> name = value;
                case "flags" -> flags = value;
                default -> { }
            }
        }
        Set<String> f = Set.of(flags.toLowerCase(Locale.ROOT).split("\\s+"));
        boolean avx512 = f.contains("avx512f"), avx2 = f.contains("avx2");
        return new CpuInfo(vendor, family, model, name, avx512, avx2, fma512(vendor, family, avx512, !flags.isEmpty()));
    }

    /**
     * AMD family 25 (0x19) with AVX-512 is Zen 4 (double-pumped), family 26 (0x1A) Zen 5 (full width
     * on desktop and server parts); Intel's AVX-512 cores run 512-bit FMAs natively.
     */
    private static Fma512 fma512(String vendor, int family, boolean avx512, boolean flagsKnown) {
        if (!flagsKnown) return Fma512.UNKNOWN;
        if (!avx512) return Fma512.NONE;
        if (vendor.equals("AuthenticAMD")) return family == 25 ? Fma512.DOUBLE_PUMPED : family >= 26 ? Fma512.FULL_WIDTH : Fma512.UNKNOWN;
        if (vendor.equals("GenuineIntel")) return Fma512.FULL_WIDTH;
        return Fma512.UNKNOWN;
    }

    private static int parseInt(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** E.g. "AMD EPYC (AuthenticAMD family 26 model 2; AVX-512, 512-bit FMA full width)". */
    public String describe() {
        if (this.equals(UNKNOWN)) return "unknown (no /proc/cpuinfo)";
        String isa = avx512 ? "AVX-512" : avx2 ? "AVX2" : "no AVX2";
        String fma = switch (fma512) {
            case FULL_WIDTH -> ", 512-bit FMA full width";
            case DOUBLE_PUMPED -> ", 512-bit FMA double-pumped";
            default -> "";
        };
        return (modelName.isEmpty() ? "?" : modelName) + " (" + vendor + " family " + family + " model " + model + "; " + isa + fma + ")";
    }
}
