package org.deepfever.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The CUDA backend's tunables and their one override, {@code -Dfever.cuda} (no GPU needed). */
class CudaConfigTest {
    @Test
    void defaultsAndOverrides() {
        assertEquals(new CudaConfig(1024, 8, false), CudaConfig.defaults());
        assertEquals(new CudaConfig(256, 3, true), CudaConfig.defaults().with("workspaceMiB=256, plans=3,inPlaceResidual=true"));
        assertEquals(1024L << 20, CudaConfig.defaults().workspaceLimitBytes());
        assertEquals(CudaConfig.defaults(), CudaConfig.defaults().with(""));
    }

    @Test
    void badOverridesNameTheKeyAndValue() {
        assertMessage("fever.cuda: unknown key 'inPlace'", "inPlace=true");
        assertMessage("fever.cuda: plans must be at least 1, got 0", "plans=0");
        assertMessage("fever.cuda: workspaceMiB must be in 1..1048576, got 0", "workspaceMiB=0");
        assertMessage("fever.cuda: inPlaceResidual must be true or false, got '1'", "inPlaceResidual=1");
    }

    private static void assertMessage(String part, String spec) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaConfig.defaults().with(spec));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
