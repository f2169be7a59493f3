package org.deepfever.cli;

import java.util.concurrent.Callable;
import org.deepfever.api.DeepFever;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code fever info}: what the engine makes of a model file. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a model's format, parameter count, inferred layout, inputs and outputs, GFLOP per face and planned peak activation memory.")
final class InfoCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        try (DeepFever m = model.load()) {
            long loadMs = (System.nanoTime() - t0) / 1_000_000;
            for (String line : m.info().lines()) System.out.println(line);
            System.out.println("load time: " + loadMs + " ms");
            if (model.isDefault()) System.out.println("note: " + ModelOption.UNTRAINED_NOTE);
        }
        return FeverCommand.EXIT_OK;
    }
}
