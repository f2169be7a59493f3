package org.deepfever.cli;

import java.util.concurrent.Callable;
import org.deepfever.api.FaceModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code fever info}: what the engine makes of a model. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a model's source, format, inputs and outputs, GFLOP per face and, for DeepFEVER, the inferred layout and planned peak activation memory.")
final class InfoCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    @Override
    public Integer call() {
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
