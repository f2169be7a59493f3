package org.deepfever.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.deepfever.core.Shape;
import org.deepfever.core.exec.KernelChoice;
import org.deepfever.kernels.simd.CpuInfo;
import org.deepfever.kernels.simd.KernelConfig;

/**
 * The per-layer kernel table of {@code fever info --kernels}: a Markdown table (so that docs/kernels.md
 * can be made from it as printed) of the nodes whose kernels make choices, i.e. the convs, under a
 * header naming the CPU and every field of the config they were planned with.
 */
final class KernelReport {
    private KernelReport() {}

    /** The conv description's fields, after the node, output and layout columns (see ConvKernel.describe). */
    static final List<String> COLUMNS = List.of("node", "conv", "output", "layout", "algorithm", "panel", "tiles", "input", "epilogue", "split");

    /**
     * The report: a title, the CPU and config lines, the table, and a count of the convs per algorithm
     * and of the other nodes.
     */
    static List<String> lines(String title, CpuInfo cpu, KernelConfig cfg, String backend, int batch, int threads, List<KernelChoice> choices) {
        List<String> out = new ArrayList<>();
        out.add("### " + title + " (batch " + batch + ", " + threads + (threads == 1 ? " thread" : " threads") + ", backend " + backend + ")");
        out.add("");
        out.add("- cpu (this machine): " + cpu.describe());
        out.add("- config: " + String.join(", ", cfg.lines()));
        out.add("");
        out.add("| " + String.join(" | ", COLUMNS) + " |");
        out.add("|" + "---|".repeat(COLUMNS.size()));
        Map<String, Integer> byAlgorithm = new TreeMap<>();
        int others = 0;
        for (KernelChoice c : choices) {
            if (c.kernel() == null) {
                others++;
                continue;
            }
            String[] fields = c.kernel().split(" \\| ", 2);
            out.add("| " + c.node() + " | " + fields[0] + " | " + chw(c.output()) + " | " + c.layout() + " | " + (fields.length > 1 ? fields[1] : "") + " |");
            byAlgorithm.merge(fields.length > 1 ? fields[1].split(" \\| ")[0] : "?", 1, Integer::sum);
        }
        out.add("");
        out.add("layers with a plan: " + (choices.size() - others) + " " + byAlgorithm + "; other nodes: " + others
                + " (element-wise, pooling, concat, heads: no tiling choices)");
        return out;
    }

    /** [N, C, H, W] as "CxHxW". */
    private static String chw(Shape s) {
        if (s == null || s.rank() != 4) return String.valueOf(s);
        return s.dim(1) + "x" + s.dim(2) + "x" + s.dim(3);
    }
}
