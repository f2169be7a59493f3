package org.deepfever.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code --device} and {@code info --devices} as a user meets them on a machine without the NVIDIA
 * libraries: {@code -Dfever.cuda.path} points at an empty folder, so the result is the same on
 * every machine.
 */
class DeviceOptionTest {
    @TempDir Path empty;
    @TempDir Path images;
    private String saved;

    @BeforeEach
    void pointAtEmptyFolder() {
        saved = System.getProperty("fever.cuda.path");
        System.setProperty("fever.cuda.path", empty.toString());
    }

    @AfterEach
    void restore() {
        if (saved == null) System.clearProperty("fever.cuda.path");
        else System.setProperty("fever.cuda.path", saved);
    }

    /** A grey 140x140 crop: a real image, so that only the device can fail. */
    private Path face() throws java.io.IOException {
        Path p = images.resolve("face.png");
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(140, 140, java.awt.image.BufferedImage.TYPE_INT_RGB);
        javax.imageio.ImageIO.write(img, "png", p.toFile());
        return p;
    }

    @Test
    void extractOnCudaWithoutItsLibrariesExitsTwoNamingWhatIsMissing() throws Exception {
        Path face = face();
        CommandLine cl = FeverCommand.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("extract", "--device", "cuda", face.toString());
        assertEquals(FeverCommand.EXIT_USAGE, code, err.toString());
        String msg = err.toString();
        assertTrue(msg.startsWith("fever: device 'cuda' is not available: libcudart.so.13 or libcudart.so.12 (CUDA runtime) not found"), msg);
        assertTrue(msg.contains("libcudnn.so.9") && msg.contains(empty.toString()), msg);
    }

    @Test
    void unknownDeviceExitsTwo() throws Exception {
        CommandLine cl = FeverCommand.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        Path face = face();
        assertEquals(FeverCommand.EXIT_USAGE, cl.execute("extract", "--device", "tpu", face.toString()));
        assertTrue(err.toString().contains("no device named 'tpu'; found [cpu, cuda]"), err.toString());
    }

    @Test
    void infoDevicesSaysWhatIsMissingAndWhere() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = FeverCommand.commandLine().execute("info", "--devices");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(FeverCommand.EXIT_OK, code);
        assertTrue(out.startsWith("cpu: available, "), out);
        assertTrue(out.contains("\ncuda: not available: libcudart.so.13 or libcudart.so.12 (CUDA runtime) not found"), out);
        assertTrue(out.contains("  searched: " + empty + " (-Dfever.cuda.path)"), out);
    }
}
