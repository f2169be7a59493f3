package org.deepfever.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** /proc/cpuinfo texts of the machine kinds the kernels are planned for. */
class CpuInfoTest {
    static String cpuinfo(String vendor, int family, int model, String name, String flags) {
        return "processor\t: 0\nvendor_id\t: " + vendor + "\ncpu family\t: " + family + "\nmodel\t\t: " + model
                + "\nmodel name\t: " + name + "\nflags\t\t: " + flags + "\n\nprocessor\t: 1\nvendor_id\t: Other\nflags\t\t: sse\n";
    }

    @Test
    void namesTheFmaWidthByFamily() {
        CpuInfo zen5 = CpuInfo.parse(cpuinfo("AuthenticAMD", 26, 2, "AMD EPYC", "fpu avx2 fma avx512f avx512vl"));
        assertEquals(CpuInfo.Fma512.FULL_WIDTH, zen5.fma512());
        assertTrue(zen5.avx512() && zen5.avx2());
        assertEquals("AMD EPYC (AuthenticAMD family 26 model 2; AVX-512, 512-bit FMA full width)", zen5.describe());
        assertEquals(CpuInfo.Fma512.DOUBLE_PUMPED, CpuInfo.parse(cpuinfo("AuthenticAMD", 25, 17, "AMD EPYC 9R14", "avx2 avx512f")).fma512());
        assertEquals(CpuInfo.Fma512.NONE, CpuInfo.parse(cpuinfo("AuthenticAMD", 25, 1, "AMD EPYC 7R13", "avx2 fma")).fma512());
        assertEquals(CpuInfo.Fma512.FULL_WIDTH, CpuInfo.parse(cpuinfo("GenuineIntel", 6, 143, "Xeon", "avx2 avx512f")).fma512());
        assertEquals("GenuineIntel", CpuInfo.parse(cpuinfo("GenuineIntel", 6, 143, "Xeon", "avx2 avx512f")).vendor()); // first processor only
    }

    @Test
    void oddTextReadsAsUnknown() {
        assertEquals(CpuInfo.UNKNOWN, CpuInfo.parse(""));
        CpuInfo odd = CpuInfo.parse("vendor_id : X\ncpu family : ?\nflags : avx2\n");
        assertEquals(-1, odd.family());
        assertEquals(CpuInfo.Fma512.NONE, odd.fma512());
    }
}
