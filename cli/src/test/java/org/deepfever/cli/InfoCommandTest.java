package org.deepfever.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deepfever.api.DeepFever;
import org.deepfever.core.graph.Node;
import org.deepfever.core.op.Conv2d;
import org.deepfever.kernels.simd.KernelConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code fever info --kernels}: its Markdown tables parsed back row by row, one row per conv of the
 * model, for this JVM and as AVX-512 and AVX2 machines would plan them.
 */
class InfoCommandTest {
    static Path model;

    @BeforeAll
    static void locate() {
        model = TestFiles.fixtures().resolve("deepfever-mini/model.onnx");
    }

    record Run(int rc, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = FeverCommand.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute(args);
        return new Run(rc, out.toString(), err.toString());
    }

    /** The rows of each table (cells trimmed), by section title. */
    static List<List<List<String>>> tables(String text) {
        List<List<List<String>>> tables = new ArrayList<>();
        List<List<String>> current = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("### ")) tables.add(current = new ArrayList<>());
            if (!line.startsWith("|") || line.startsWith("|---") || current == null) continue;
            String[] cells = line.substring(1, line.length() - 1).split("\\|", -1);
            List<String> row = new ArrayList<>();
            for (String c : cells) row.add(c.trim());
            current.add(row);
        }
        return tables;
    }

    @Test
    void allPrintsOneRowPerConvForEachMachineKind() {
        Run r = run("info", "--model", model.toString(), "--kernels=all", "--threads", "2");
        assertEquals(0, r.rc(), r.err());
        List<String> convs = new ArrayList<>();
        try (DeepFever m = DeepFever.load(model, DeepFever.Options.defaults().withThreads(2))) {
            for (Node n : m.graph().nodes()) if (n.op() instanceof Conv2d) convs.add(n.name());
        }
        List<List<List<String>>> tables = tables(r.out());
        assertEquals(3, tables.size(), r.out());
        assertTrue(r.out().contains("### this JVM (batch 1, 2 threads"), r.out());
        assertTrue(r.out().contains("- config: " + String.join(", ", KernelConfig.current().lines())), r.out());
        assertTrue(r.out().contains("### an AVX2 machine, as planned here"), r.out());
        for (List<List<String>> t : tables) {
            assertEquals(KernelReport.COLUMNS, t.get(0));
            List<String> nodes = new ArrayList<>();
            for (List<String> row : t.subList(1, t.size())) {
                assertEquals(KernelReport.COLUMNS.size(), row.size(), row.toString());
                nodes.add(row.get(0));
                assertTrue(row.get(3).matches("(NCHW|NHWC)->(NCHW|NHWC)"), row.toString());
                assertTrue(row.get(9).matches("\\d+ tasks?.*"), row.toString());
            }
            assertEquals(convs.stream().sorted().toList(), nodes.stream().sorted().toList());
        }
        // 16 registers: no panel wider than two vectors of 8
        for (List<String> row : tables.get(2).subList(1, tables.get(2).size())) {
            assertTrue(row.get(5).endsWith("(2 vectors)") || row.get(5).endsWith("channels"), row.toString());
        }
    }

    @Test
    void badArgumentsFailWithTheirName() {
        Run r = run("info", "--model", model.toString(), "--kernels=avx1024");
        assertEquals(FeverCommand.EXIT_USAGE, r.rc());
        assertTrue(r.err().contains("--kernels must be this, avx512, avx2 or all, got 'avx1024'"), r.err());
        r = run("info", "--model", model.toString(), "--kernels", "--batch", "0");
        assertEquals(FeverCommand.EXIT_USAGE, r.rc());
        assertTrue(r.err().contains("--batch must be >= 1, got 0"), r.err());
        assertFalse(r.out().contains("|"), r.out());
    }
}
