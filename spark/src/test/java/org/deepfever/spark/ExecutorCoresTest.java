package org.deepfever.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The executor's cores from each form of master URL and spark.executor.cores. */
class ExecutorCoresTest {
    @Test
    void localModesTakeTheirCoresFromTheMasterUrl() {
        assertEquals(1, ExecutorCores.of("local", null, 16));
        assertEquals(2, ExecutorCores.of("local[2]", "7", 16), "spark.executor.cores means nothing in local mode");
        assertEquals(16, ExecutorCores.of("local[*]", null, 16));
        assertEquals(3, ExecutorCores.of("local[3,4]", null, 16), "with max failures");
        assertEquals(16, ExecutorCores.of("local[*, 2]", null, 16));
        assertEquals(2, ExecutorCores.of("local-cluster[3, 2, 1024]", null, 16), "cores per worker");
    }

    @Test
    void clustersTakeSparkExecutorCoresElseTheMachine() {
        assertEquals(4, ExecutorCores.of("yarn", "4", 64));
        assertEquals(4, ExecutorCores.of("k8s://https://host:443", " 4 ", 64));
        assertEquals(64, ExecutorCores.of("spark://host:7077", null, 64), "standalone without the setting: a whole worker");
    }

    @Test
    void aBadSettingIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExecutorCores.of("yarn", "four", 8));
        assertEquals("spark.executor.cores must be a positive integer, got 'four'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ExecutorCores.of("yarn", "0", 8));
    }
}
