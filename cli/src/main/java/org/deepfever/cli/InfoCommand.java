package org.deepfever.cli;

import java.util.concurrent.Callable;
import org.deepfever.api.FaceModel;
import org.deepfever.core.backend.Device;
import org.deepfever.core.backend.Devices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fever info}: what the engine makes of a model. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a model's source, format, inputs and outputs, GFLOP per face and, for DeepFEVER, the inferred layout and planned peak activation memory.")
final class InfoCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    @Option(names = "--devices", description = "List the compute devices instead: the CPU, and each GPU with its memory, compute capability, "
            + "driver and library versions, or what is missing and where it was looked for.")
    boolean devices;

    @Override
    public Integer call() {
        if (devices) {
            System.out.println(Devices.CPU + ": available, " + Runtime.getRuntime().availableProcessors() + " cores");
            for (Device d : Devices.all()) d.describe().forEach(System.out::println);
            if (Devices.all().stream().noneMatch(d -> d.name().equals("cuda"))) System.out.println("cuda: not built in (the fever-cuda jar is not on the class path)");
            return FeverCommand.EXIT_OK;
        }
        long t0 = System.nanoTime();
        try (FaceModel m = model.load()) {
            long loadMs = (System.nanoTime() - t0) / 1_000_000;
            for (String line : m.describe()) System.out.println(line);
            System.out.println("load time: " + loadMs + " ms");
            if (m.note() != null) System.out.println("note: " + m.note());
        }
        return FeverCommand.EXIT_OK;
    }
}
