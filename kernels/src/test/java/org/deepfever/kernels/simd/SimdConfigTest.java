package org.deepfever.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The species follows fever.simd / fever.simd.bits (the surefire executions rely on it). */
class SimdConfigTest {
    @Test
    void speciesFollowsProperties() {
        String bits = System.getProperty("fever.simd.bits", "");
        boolean scalar = "scalar".equalsIgnoreCase(System.getProperty("fever.simd", "")) || bits.equals("0");
        assertEquals(scalar, Simd.SCALAR, Simd.describe());
        if (scalar) {
            assertEquals(1, Simd.LANES);
            assertEquals(0, Simd.loopBound(1000));
        } else {
            assertFalse(Simd.SCALAR);
            if (!bits.isEmpty()) assertEquals(Integer.parseInt(bits) / 32, Simd.LANES, Simd.describe());
            assertTrue(Simd.LANES >= 4);
            assertEquals(1000 / Simd.LANES * Simd.LANES, Simd.loopBound(1000));
        }
        System.out.println("SIMD species under test: " + Simd.describe());
    }
}
