package org.deepfever.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** DetectBench as `./fever bench detect` runs it: options, and a short real run against OpenCV where it is installed. */
class DetectBenchTest {
    private static final String IMAGES = "../faces/src/test/resources/images/";
    private static final String SCRIPT = "src/main/python/opencv_detect.py";

    @Test
    void badOptionsAreUsageErrors() {
        String[][] bad = {{"--rounds", "0"}, {"--reps", "x"}, {"--frobnicate", "1"}, {"--warmup"},
                {"--images", IMAGES + "missing.png", "--script", SCRIPT, "--python", "python3"},
                {"--images", IMAGES + "chelsea.png", "--script", "missing.py", "--python", "python3"}};
        for (String[] argv : bad) {
            assertThrows(IllegalArgumentException.class, () -> DetectBench.parse(argv), String.join(" ", argv));
        }
    }

    /** Two images, one short round: both detectors agree, and each image gets a RESULT line whose ratio is java/opencv. */
    @Test
    void shortRunAgreesWithOpenCv() throws Exception {
        String python = DetectBench.findPython();
        assumeTrue(python != null, "a python3 with OpenCV (Debian's python3-opencv)");
        DetectBench.Args a = DetectBench.parse(new String[] {"--images", IMAGES + "messi5.jpg," + IMAGES + "chelsea.png",
                "--rounds", "1", "--reps", "3", "--warmup", "1", "--script", SCRIPT, "--python", python});
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = DetectBench.run(a, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String said = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, said);
        List<Map<String, String>> results = new ArrayList<>();
        int same = 0;
        for (String line : said.split("\n")) {
            if (line.endsWith("(same as OpenCV)")) same++;
            if (!line.startsWith("RESULT ")) continue;
            Map<String, String> kv = new HashMap<>();
            for (String field : line.substring(7).split(" ")) {
                int eq = field.indexOf('=');
                kv.put(field.substring(0, eq), field.substring(eq + 1));
            }
            results.add(kv);
        }
        assertEquals(2, same, said);
        assertEquals(List.of("messi5.jpg", "chelsea.png"), results.stream().map(r -> r.get("image")).toList(), said);
        assertEquals("548x342", results.get(0).get("size"));
        for (Map<String, String> r : results) {
            double java = Double.parseDouble(r.get("java_ms")), cv = Double.parseDouble(r.get("opencv_ms"));
            assertTrue(java > 0 && cv > 0, said);
            assertEquals(java / cv, Double.parseDouble(r.get("ratio")), 0.01 * java / cv + 0.002, said);
        }
    }
}
