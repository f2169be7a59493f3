package org.deepfever.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code fever} command line. Exit codes: 0 ok, 1 some inputs failed, 2 usage or model error, 130 interrupted. */
@Command(name = "fever", mixinStandardHelpOptions = true, version = "fever 0.1.0",
        description = "DeepFEVER facial-expression features in pure Java.",
        subcommands = {ExtractCommand.class, InfoCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Also: ./fever bench --model FILE.onnx  (side-by-side benchmark against ONNX Runtime; runs the bench module)",
                "Exit codes: 0 ok, 1 some inputs failed, 2 usage or model error, 130 interrupted (Ctrl-C; --resume continues)."})
public final class FeverCommand implements Runnable {
    public static final int EXIT_OK = 0, EXIT_INPUT_FAILED = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new FeverCommand());
        cl.setExitCodeExceptionMapper(t -> EXIT_USAGE);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("fever: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            return EXIT_USAGE;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
