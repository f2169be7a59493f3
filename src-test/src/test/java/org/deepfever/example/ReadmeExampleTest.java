package org.deepfever.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The README's Java example is this module's {@link Example}, compiled by the build: the test checks
 * that the README's code block is the class verbatim, then runs it as a user would, on the samples.
 */
class ReadmeExampleTest {
    static final Path REPO = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();

    @Test
    void readmeShowsTheCompiledExample() throws IOException {
        String source = Files.readString(REPO.resolve("src-test/src/test/java/org/deepfever/example/Example.java"));
        String example = source.substring(source.indexOf("// README:BEGIN\n") + "// README:BEGIN\n".length(), source.indexOf("// README:END"));
        String readme = Files.readString(REPO.resolve("README.md"));
        assertTrue(readme.contains("```java\n" + example + "```\n"), "README.md's java block differs from Example.java; copy it over");
    }

    @Test
    void exampleRunsOnASamplePhoto() throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            Example.main(new String[] {REPO.resolve("samples/messi5.jpg").toString()});
        } finally {
            System.setOut(saved);
        }
        String[] lines = buf.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertEquals(1, lines.length, "one face in messi5.jpg: " + buf);
        assertTrue(lines[0].matches("FaceBox\\[.*\\] (neutral|happy|sad|angry|fearful|disgusted|surprised) [0-9.E-]+, 256 features"), lines[0]);
    }
}
