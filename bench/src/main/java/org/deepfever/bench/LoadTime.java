package org.deepfever.bench;

import java.nio.file.Path;
import org.deepfever.api.DeepFever;
import org.deepfever.api.ModelFiles;
import org.deepfever.core.backend.Backend;
import org.deepfever.core.backend.Backends;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.exec.CompiledGraph;

/**
 * Cold model load time, to be run in a fresh JVM per measurement:
 * {@code java --add-modules jdk.incubator.vector -cp fever-bench.jar org.deepfever.bench.LoadTime MODEL [phases|api] [threads] [warm]}.
 *
 * <p>{@code phases} (default) times the steps of {@code DeepFever.load} one by one: reading the file
 * and building the graph ({@code ModelFiles.load}), kernel preparation ({@code CompiledGraph}
 * construction) and the first {@code plan(1)} (activation planning and the weight packing the
 * kernels do there). {@code api} times {@code DeepFever.load} as a whole and then a first
 * {@code plan(1)}-equivalent ({@code info()}), so "ready to run" is load + plan. {@code warm} further
 * loads repeated in the same JVM, for comparison (default 0).
 */
public final class LoadTime {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: LoadTime MODEL [phases|api] [threads] [warm]");
            System.exit(2);
        }
        Path path = Path.of(args[0]);
        String mode = args.length > 1 ? args[1] : "phases";
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int warm = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        for (int rep = 0; rep <= warm; rep++) {
            String tag = rep == 0 ? "cold" : "warm" + rep;
            if (mode.equals("api")) api(path, threads, tag);
            else phases(path, threads, tag);
        }
    }

    private static void phases(Path path, int threads, String tag) {
        long t0 = System.nanoTime();
        ModelFiles.Loaded loaded = ModelFiles.load(path);
        long t1 = System.nanoTime();
        Backend preferred = Backends.preferred();
        Backend fallback = preferred.name().equals(Backends.REFERENCE) ? null : Backends.reference();
        CompiledGraph compiled = new CompiledGraph(loaded.graph(), preferred, fallback, new ThreadPool(threads), true);
        long t2 = System.nanoTime();
        compiled.plan(1);
        long t3 = System.nanoTime();
        System.out.printf("%s %-12s read+build %6.1f ms  compile %6.1f ms  plan(1) %6.1f ms  ready %6.1f ms  (%d nodes)%n",
                tag, ext(path), ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), ms(t3 - t0), loaded.graph().nodes().size());
        compiled.close();
        loaded.close();
    }

    private static void api(Path path, int threads, String tag) {
        long t0 = System.nanoTime();
        DeepFever model = DeepFever.load(path, DeepFever.Options.defaults().withThreads(threads));
        long t1 = System.nanoTime();
        model.info(); // plans batch 1 (packs the weights) among a few cheap things
        long t2 = System.nanoTime();
        System.out.printf("%s %-12s DeepFever.load %6.1f ms  +info/plan(1) %6.1f ms  ready %6.1f ms%n",
                tag, ext(path), ms(t1 - t0), ms(t2 - t1), ms(t2 - t0));
        model.close();
    }

    private static String ext(Path p) {
        String s = p.getFileName().toString();
        int dot = s.lastIndexOf('.');
        return dot < 0 ? s : s.substring(dot + 1);
    }

    private static double ms(long ns) { return ns / 1e6; }
}
