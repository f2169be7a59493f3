package org.deepfever.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The one override mechanism (-Dfever.kernels=key=value,...) and the per-machine defaults. */
class KernelConfigTest {
    @Test
    void presetsDescribeTheTwoMachineKinds() {
        KernelConfig a = KernelConfig.avx512(), b = KernelConfig.avx2();
        assertEquals(16, a.lanes());
        assertTrue(a.wideRegisterFile());
        assertEquals(8, b.lanes());
        assertEquals(false, b.wideRegisterFile());
        assertEquals(1200, a.directSmallP());
        assertEquals(a.winogradMinPixels(), b.winogradMinPixels());
    }

    @Test
    void overridesReplaceOnlyTheNamedFields() {
        KernelConfig c = KernelConfig.avx512().with(" directSmallP=256, acrossImagesMaxP=0 ");
        assertEquals(256, c.directSmallP());
        assertEquals(0, c.acrossImagesMaxP());
        assertEquals(KernelConfig.avx512().winogradMinPixels(), c.winogradMinPixels());
        assertEquals(512, c.bits());
        assertTrue(c.target().contains("directSmallP=256"), c.target());
        KernelConfig same = KernelConfig.avx2();
        assertSame(same, same.with(""));
        assertEquals(1, KernelConfig.avx512().with("bits=0").lanes());
        assertTrue(KernelConfig.avx512().with("bits=0").scalar());
        assertEquals(false, KernelConfig.avx512().with("registers=16").wideRegisterFile());
    }

    @Test
    void badOverridesNameTheKeyAndWhatIsAllowed() {
        assertMessage("unknown key 'five'", () -> KernelConfig.avx512().with("five=0"));
        assertMessage("keys: [bits, registers", () -> KernelConfig.avx512().with("five=0"));
        assertMessage("expected key=value, got 'bits'", () -> KernelConfig.avx512().with("bits"));
        assertMessage("bits must be a whole number, got 'wide'", () -> KernelConfig.avx512().with("bits=wide"));
        assertMessage("bits must be 0 (scalar), 128, 256 or 512, got 300", () -> KernelConfig.avx512().with("bits=300"));
        assertMessage("registers must be 16 or 32, got 8", () -> KernelConfig.avx512().with("registers=8"));
        assertMessage("directSmallP must be >= 0, got -1", () -> KernelConfig.avx512().with("directSmallP=-1"));
        assertMessage("winogradMinPixels given twice", () -> KernelConfig.avx512().with("winogradMinPixels=1,winogradMinPixels=2"));
        assertMessage("acrossImagesMaxP must be in -2147483648..2147483647, got 9999999999", () -> KernelConfig.avx512().with("acrossImagesMaxP=9999999999"));
    }

    @Test
    void intelAvx512CoresRunTheSevenBySevenMapsDirect() {
        CpuInfo xeon = CpuInfo.parse(CpuInfoTest.cpuinfo("GenuineIntel", 6, 167, "Intel(R) Xeon(R) Processor", "avx2 fma avx512f"));
        CpuInfo zen5 = CpuInfo.parse(CpuInfoTest.cpuinfo("AuthenticAMD", 26, 2, "AMD EPYC", "avx2 fma avx512f"));
        assertEquals(50, KernelConfig.winogradMinPixels(xeon, 512));
        assertEquals(40, KernelConfig.winogradMinPixels(xeon, 256)); // under -XX:UseAVX=2: not measured, the common default
        assertEquals(40, KernelConfig.winogradMinPixels(zen5, 512));
        assertEquals(40, KernelConfig.winogradMinPixels(CpuInfo.UNKNOWN, 512));
        assertEquals(40, KernelConfig.avx512().winogradMinPixels());
        // this JVM on either CPU: the vendor's threshold unless the property names one
        int bits = KernelConfig.forThisJvm("", xeon).bits(); // the JVM's preferred width (the surefire runs at other widths override it after)
        assertEquals(bits == 512 ? 50 : 40, KernelConfig.forThisJvm("", xeon).winogradMinPixels());
        assertEquals(40, KernelConfig.forThisJvm("", zen5).winogradMinPixels());
        assertEquals(7, KernelConfig.forThisJvm("winogradMinPixels=7", xeon).winogradMinPixels());
        // the threshold sits between the 7x7 (49) and the 15x15 (225) maps
        assertTrue(49 < KernelConfig.winogradMinPixels(xeon, 512) && KernelConfig.winogradMinPixels(xeon, 512) <= 225);
        assertTrue(49 >= KernelConfig.winogradMinPixels(zen5, 512));
    }

    @Test
    void zen5TakesSixPixelTilesOnRaggedMaps() {
        CpuInfo zen5 = CpuInfo.parse(CpuInfoTest.cpuinfo("AuthenticAMD", 26, 2, "AMD EPYC", "avx2 fma avx512f"));
        CpuInfo zen4 = CpuInfo.parse(CpuInfoTest.cpuinfo("AuthenticAMD", 25, 17, "AMD EPYC 9454", "avx2 fma avx512f"));
        CpuInfo xeon = CpuInfo.parse(CpuInfoTest.cpuinfo("GenuineIntel", 6, 167, "Intel(R) Xeon(R) Processor", "avx2 fma avx512f"));
        assertEquals(0, KernelConfig.forThisJvm("", zen5).fivePixelTiles());
        assertEquals(1, KernelConfig.forThisJvm("", zen4).fivePixelTiles());
        assertEquals(1, KernelConfig.forThisJvm("", xeon).fivePixelTiles());
        assertEquals(1, KernelConfig.avx512().fivePixelTiles());
        assertEquals(1, KernelConfig.forThisJvm("fivePixelTiles=1", zen5).fivePixelTiles());
        assertMessage("fivePixelTiles must be 0 or 1, got 2", () -> KernelConfig.avx512().with("fivePixelTiles=2"));
    }

    @Test
    void aShortRunNeverSwitchesAConfigInUse() {
        KernelConfig inUse = KernelConfig.current(); // the kernels of this JVM were planned with it
        assertEquals(inUse.scalar(), KernelConfig.preferScalarForShortRun());
        assertSame(inUse, KernelConfig.current());
    }

    @Test
    void thisJvmReadsTheProperty() {
        assertEquals(KernelConfig.current(), KernelConfig.forThisJvm(System.getProperty(KernelConfig.PROPERTY, "")));
        assertTrue(KernelConfig.current().lines().get(0).startsWith("target = this JVM"));
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().startsWith(KernelConfig.PROPERTY + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
