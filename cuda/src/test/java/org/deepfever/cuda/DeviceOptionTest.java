package org.deepfever.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.deepfever.api.DeepFever;
import org.deepfever.core.backend.Device;
import org.deepfever.core.backend.Devices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java API's device option, the way a user meets it: the cuda device is found through
 * ServiceLoader, and with {@code -Dfever.cuda.path} pointing at an empty folder a load fails before
 * the model file is read, naming each missing library and the folder.
 */
class DeviceOptionTest {
    @TempDir Path empty;
    private String saved;

    @BeforeEach
    void pointAtEmptyFolder() {
        saved = System.getProperty(LibraryPath.PROPERTY);
        System.setProperty(LibraryPath.PROPERTY, empty.toString());
    }

    @AfterEach
    void restore() {
        if (saved == null) System.clearProperty(LibraryPath.PROPERTY);
        else System.setProperty(LibraryPath.PROPERTY, saved);
    }

    @Test
    void cudaIsFoundOnTheClassPath() {
        List<Device> all = Devices.all();
        assertTrue(all.stream().anyMatch(d -> d instanceof CudaDevice), all.toString());
        Device cuda = all.stream().filter(d -> d.name().equals("cuda")).findFirst().orElseThrow();
        assertFalse(cuda.available());
        assertTrue(cuda.unavailableReason().contains("libcudart.so.13 or libcudart.so.12 (CUDA runtime) not found"), cuda.unavailableReason());
        List<String> lines = cuda.describe();
        assertTrue(lines.get(0).startsWith("cuda: not available: "), lines.toString());
        assertTrue(lines.get(lines.size() - 1).contains(empty.toString()), lines.toString());
    }

    @Test
    void loadOnAMissingDeviceFailsBeforeReadingTheFile() {
        Path noSuchModel = empty.resolve("no-such-model.pth");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> DeepFever.load(noSuchModel, DeepFever.Options.defaults().withDevice("cuda")));
        assertTrue(e.getMessage().startsWith("device 'cuda' is not available: "), e.getMessage());
        for (String lib : List.of("libcudart.so.13", "libcublas.so.13", "libcudnn.so.9")) assertTrue(e.getMessage().contains(lib), e.getMessage());
        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
    }

    @Test
    void unknownDeviceListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DeepFever.untrainedDefault(DeepFever.Options.defaults().withDevice("tpu")));
        assertEquals("no device named 'tpu'; found [cpu, cuda]", e.getMessage());
    }

    @Test
    void cpuIsTheDefault() {
        assertTrue(Devices.isCpu(null) && Devices.isCpu("CPU") && Devices.isCpu(" "));
        assertFalse(Devices.isCpu("cuda"));
    }
}
