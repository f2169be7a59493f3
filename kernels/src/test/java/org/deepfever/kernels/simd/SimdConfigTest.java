package org.deepfever.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The species follows -Dfever.kernels=bits=N (the surefire executions rely on it), else the JVM's preferred width. */
class SimdConfigTest {
    @Test
    void speciesFollowsTheConfig() {
        Matcher m = Pattern.compile("(?:^|,)\\s*bits=(\\d+)").matcher(System.getProperty(KernelConfig.PROPERTY, ""));
        String bits = m.find() ? m.group(1) : "";
        boolean scalar = bits.equals("0");
        assertEquals(scalar, Simd.SCALAR, Simd.describe());
        assertEquals(KernelConfig.current().lanes(), Simd.LANES);
        if (scalar) {
            assertEquals(1, Simd.LANES);
            assertEquals(0, Simd.loopBound(1000));
        } else {
            assertFalse(Simd.SCALAR);
            if (!bits.isEmpty()) assertEquals(Integer.parseInt(bits) / 32, Simd.LANES, Simd.describe());
            assertTrue(Simd.LANES >= 4);
            assertEquals(1000 / Simd.LANES * Simd.LANES, Simd.loopBound(1000));
        }
        System.out.println("SIMD species under test: " + Simd.describe() + "; config " + KernelConfig.current().lines());
    }
}
