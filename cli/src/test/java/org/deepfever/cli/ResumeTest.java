package org.deepfever.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.deepfever.cli.output.PartFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing lost: a {@code fever extract} run killed (SIGKILL) or interrupted (SIGINT) in a separate
 * JVM leaves no output file, only its {@code .part} file, and {@code --resume} finishes a file equal,
 * byte for byte, to an uninterrupted run's. The inputs (a few hundred images) mix face crops, photos
 * with one and two faces, a photo without a face and a file that is not an image, so that the cut
 * falls inside batches that span images.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ResumeTest {
    static final int IMAGES = 360;
    static final String[] OPTIONS = {"--batch", "4", "--threads", "2"};

    @TempDir static Path dir;
    static Path inputs;

    @BeforeAll
    static void makeInputs() throws IOException {
        Path repo = TestFiles.repo();
        Path crops = repo.resolve("src-test/reference/face-api/crops");
        Path images = repo.resolve("faces/src/test/resources/images");
        Path[] faces = {crops.resolve("astronaut-112.png"), crops.resolve("messi5-face.png"), crops.resolve("two-faces-left.png"),
                crops.resolve("astronaut-crop.png")};
        Path broken = dir.resolve("broken.png");
        Files.writeString(broken, "not an image");
        inputs = Files.createDirectories(dir.resolve("in"));
        for (int i = 0; i < IMAGES; i++) {
            Path src = i % 25 == 7 ? images.resolve("two_faces.png") : i % 50 == 13 ? broken : i % 50 == 31 ? images.resolve("chelsea.png")
                    : i % 40 == 19 ? images.resolve("messi5.jpg") : faces[i % faces.length];
            String name = String.format("img%04d-%s", i, src.getFileName());
            Files.copy(src, inputs.resolve(name));
        }
    }

    /** The command line of an extract run into {@code out}, with {@code extra} options. */
    static List<String> args(String format, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("extract", "--format", format, "--out", out.toString()));
        a.addAll(List.of(OPTIONS));
        a.addAll(List.of(extra));
        a.add(inputs.toString());
        return a;
    }

    /** An uninterrupted run in this JVM: the file every resumed run must equal. */
    static byte[] uninterrupted(String format) throws IOException {
        Path out = dir.resolve("whole." + format);
        if (!Files.exists(out)) ExtractCommandTest.run(args(format, out).toArray(String[]::new));
        assertTrue(Files.exists(out), out.toString());
        return Files.readAllBytes(out);
    }

    /** The command in a new JVM (this test JVM's java, flags and class path). */
    static Process start(List<String> args, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent")) cmd.add(a);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FeverCommand.class.getName()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits until {@code part} holds at least {@code lines} lines; fails if the process ends first. */
    static void awaitLines(Process p, Path part, int lines, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (System.nanoTime() < deadline) {
            if (Files.exists(part) && countLines(Files.readAllBytes(part)) >= lines) return;
            if (!p.isAlive()) throw new AssertionError("the run ended before it could be stopped: " + Files.readString(log));
            Thread.sleep(5);
        }
        throw new AssertionError("no output after 4 minutes: " + Files.readString(log));
    }

    static int countLines(byte[] b) {
        int n = 0;
        for (byte x : b) if (x == '\n') n++;
        return n;
    }

    @Test
    void aKilledJsonlRunResumesToTheUninterruptedFile() throws Exception {
        killThenResume("jsonl", 50);
    }

    @Test
    void aKilledCsvRunResumesToTheUninterruptedFile() throws Exception {
        killThenResume("csv", 90);
    }

    private void killThenResume(String format, int linesBeforeKill) throws Exception {
        byte[] whole = uninterrupted(format);
        Path out = dir.resolve("killed." + format), part = PartFile.partOf(out), log = dir.resolve("killed-" + format + ".log");
        Process p = start(args(format, out), log);
        awaitLines(p, part, linesBeforeKill, log);
        p.destroyForcibly(); // SIGKILL
        assertTrue(p.waitFor(1, TimeUnit.MINUTES));
        assertFalse(Files.exists(out), "a killed run left " + out);
        byte[] left = Files.readAllBytes(part);
        assertTrue(left.length < whole.length, "the run was killed before its end");
        int whoLines = 0;
        for (int i = 0; i < left.length && whole[i] == left[i]; i++) if (left[i] == '\n') whoLines++;
        assertTrue(whoLines >= countLines(left) - 1, "the killed run's lines are the uninterrupted run's");

        assertEquals(FeverCommand.EXIT_INPUT_FAILED, ExtractCommandTest.run(args(format, out, "--resume").toArray(String[]::new)));
        assertFalse(Files.exists(part), part + " stays after the resumed run");
        assertArrayEquals(whole, Files.readAllBytes(out), "the resumed file differs from an uninterrupted run's");
    }

    @Test
    void ctrlCFinishesTheBatchSaysHowToResumeAndResumes() throws Exception {
        byte[] whole = uninterrupted("jsonl");
        Path out = dir.resolve("interrupted.jsonl"), part = PartFile.partOf(out), log = dir.resolve("interrupted.log");
        Process p = start(args("jsonl", out), log);
        awaitLines(p, part, 40, log);
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the interrupted run did not end");
        String said = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(FeverCommand.EXIT_INTERRUPTED, p.exitValue(), said);
        assertTrue(said.contains("to continue, run the same command with --resume"), said);
        assertFalse(Files.exists(out));
        // what was written ends with a whole line, and is the start of the uninterrupted file
        byte[] left = Files.readAllBytes(part);
        assertTrue(left.length > 0 && left.length < whole.length && left[left.length - 1] == '\n', "part of " + left.length + " bytes");
        for (int i = 0; i < left.length; i++) if (left[i] != whole[i]) throw new AssertionError("the interrupted file differs at byte " + i);

        ExtractCommandTest.run(args("jsonl", out, "--resume").toArray(String[]::new));
        assertArrayEquals(whole, Files.readAllBytes(out));
        // nothing left to do: said, and the file stays
        assertEquals(FeverCommand.EXIT_OK, ExtractCommandTest.run(args("jsonl", out, "--resume").toArray(String[]::new)));
        assertArrayEquals(whole, Files.readAllBytes(out));
    }

    /** Runs the command in this JVM with stderr captured; returns the exit code and what it said. */
    static String[] runCapturingErr(List<String> args) {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(buf, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = FeverCommand.commandLine().setErr(new java.io.PrintWriter(System.err, true)).execute(args.toArray(String[]::new));
        } finally {
            System.setErr(saved);
        }
        return new String[] {Integer.toString(code), buf.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void resumingWhatCannotBeResumedSaysWhy() throws IOException {
        Path out = dir.resolve("other.jsonl");
        String[] r = runCapturingErr(List.of("extract", "--resume", inputs.toString()));
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("--resume needs --out FILE"), r[1]);
        r = runCapturingErr(List.of("extract", "--resume", "--format", "npy", "--out", dir.resolve("x.npy").toString(), inputs.toString()));
        assertTrue(r[1].contains("--resume works with --format jsonl or csv"), r[1]);
        // a .part file written by another model, or for other inputs
        Files.write(PartFile.partOf(out), Arrays.copyOf(uninterrupted("jsonl"), 20_000));
        r = runCapturingErr(args("jsonl", out, "--resume", "--model", "deepfever-untrained"));
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("features per face, this model gives 128: resume with the same --model"), r[1]);
        r = runCapturingErr(List.of("extract", "--resume", "--out", out.toString(), TestFiles.photoWithFace().toString()));
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("which is not among this run's inputs (in their order)"), r[1]);
        assertTrue(Files.exists(PartFile.partOf(out)), "a refused resume keeps the .part file");
    }
}
