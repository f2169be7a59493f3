package org.deepfever.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.deepfever.api.DeepFever;
import org.deepfever.api.FaceModel;
import org.deepfever.core.backend.Backends;
import org.deepfever.core.backend.Device;
import org.deepfever.core.backend.Devices;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.exec.KernelChoice;
import org.deepfever.kernels.simd.CpuInfo;
import org.deepfever.kernels.simd.KernelConfig;
import org.deepfever.kernels.simd.SimdBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code fever info}: what the engine makes of a model, with {@code --kernels} how it runs each conv, with {@code --devices} what it can run on. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a model's source, format, inputs and outputs, GFLOP per face and, for DeepFEVER, the inferred layout and planned peak activation memory.")
final class InfoCommand implements Callable<Integer> {
    @Mixin ModelOption model;
    @Spec CommandSpec spec;

    @Option(names = "--kernels", arity = "0..1", fallbackValue = "this", paramLabel = "FOR",
            description = "Instead of the summary, print each conv layer's kernel plan (algorithm, panel, register tiles, input staging, "
                    + "epilogue, split) as a Markdown table: for this JVM (the default), or as an 'avx512' or 'avx2' machine would "
                    + "plan it, or 'all' three. Tunables: -Dfever.kernels=key=value,... (see docs/kernels.md).")
    String kernels;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", description = "Batch size the kernel plans are made for (with --kernels; default 1).")
    int batch;

    @Option(names = "--devices", description = "List the compute devices instead: the CPU, and each GPU with its memory, compute capability, "
            + "driver and library versions, or what is missing and where it was looked for.")
    boolean devices;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (devices) {
            out.println(Devices.CPU + ": available, " + Runtime.getRuntime().availableProcessors() + " cores");
            for (Device d : Devices.all()) d.describe().forEach(out::println);
            if (Devices.all().stream().noneMatch(d -> d.name().equals("cuda"))) out.println("cuda: not built in (the fever-cuda jar is not on the class path)");
            out.flush();
            return FeverCommand.EXIT_OK;
        }
        List<String> targets = kernels == null ? List.of() : switch (kernels) {
            case "this" -> List.of("this");
            case "avx512", "avx2" -> List.of(kernels);
            case "all" -> List.of("this", "avx512", "avx2");
            default -> throw new IllegalArgumentException("--kernels must be this, avx512, avx2 or all, got '" + kernels + "'");
        };
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        long t0 = System.nanoTime();
        try (FaceModel m = model.load()) {
            long loadMs = (System.nanoTime() - t0) / 1_000_000;
            if (targets.isEmpty()) {
                for (String line : m.describe()) out.println(line);
                out.println("load time: " + loadMs + " ms");
            } else if (!(m instanceof DeepFever)) {
                throw new IllegalArgumentException("--kernels lists DeepFEVER's conv plans: add --model deepfever-untrained or --model with your DeepFEVER weights");
            }
            CpuInfo cpu = CpuInfo.detect();
            for (String target : targets) {
                for (String line : report((DeepFever) m, target, cpu)) out.println(line);
                out.println();
            }
            if (m.note() != null) out.println("note: " + m.note());
        }
        out.flush();
        return FeverCommand.EXIT_OK;
    }

    /** The kernel table for this JVM (the loaded model's own kernels) or a preset machine kind (a planning-only compile). */
    private List<String> report(DeepFever m, String target, CpuInfo cpu) {
        if (target.equals("this")) {
            String backend = m.info().backendNodeCounts().keySet().toString();
            return KernelReport.lines("this JVM", cpu, KernelConfig.current(), backend, batch, m.threads(), m.kernelChoices(batch));
        }
        KernelConfig cfg = target.equals("avx512") ? KernelConfig.avx512() : KernelConfig.avx2();
        List<KernelChoice> choices;
        try (CompiledGraph g = new CompiledGraph(m.graph(), SimdBackend.planning(cfg), Backends.reference(), new ThreadPool(m.threads()), true)) {
            choices = g.plan(batch).kernelChoices();
        }
        return KernelReport.lines("an " + cfg.target() + " machine, as planned here", cpu, cfg, "simd", batch, m.threads(), choices);
    }
}
