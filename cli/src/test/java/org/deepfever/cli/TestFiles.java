package org.deepfever.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the command's tests find their inputs: the repository's golden sets and sample photos. */
final class TestFiles {
    private TestFiles() {}

    /** The repository root (the module's parent folder). */
    static Path repo() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
    }

    /** The golden fixtures ({@code -Dfever.fixtures}, set by the parent POM); skips the test if absent. */
    static Path fixtures() {
        String p = System.getProperty("fever.fixtures");
        Path dir = p != null ? Path.of(p) : repo().resolve("src-test/golden");
        assumeTrue(Files.isDirectory(dir), "fixtures not found at " + dir.toAbsolutePath());
        return dir;
    }

    /** A photo with one face (samples/messi5.jpg, see samples/README.md). */
    static Path photoWithFace() {
        return repo().resolve("samples/messi5.jpg");
    }

    /** A composed photo with two faces, from the faces module's test images. */
    static Path twoFaces() {
        return repo().resolve("faces/src/test/resources/images/two_faces.png");
    }
}
