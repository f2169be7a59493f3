package org.deepfever.core.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Backend;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.op.Op;
import org.deepfever.core.op.Relu;
import org.deepfever.core.op.Sigmoid;
import org.junit.jupiter.api.Test;

/** Kernel preparation (spread over the pool) keeps the errors and results of a node-by-node pass. */
class CompiledGraphTest {
    /** A chain input -> relu0 -> sigmoid1 -> relu2 -> sigmoid3 -> ... of {@code n} nodes. */
    private static Graph chain(int n) {
        Graph.Builder b = Graph.builder();
        int v = b.input("x", Shape.of(-1, 4));
        for (int i = 0; i < n; i++) v = b.add((i % 2 == 0 ? "relu" : "sigmoid") + i, i % 2 == 0 ? new Relu() : new Sigmoid(), v);
        b.output("y", v);
        return b.build();
    }

    /** Copies its input; records the shapes it was asked to plan for. */
    private static final class Copy implements Kernel {
        final Set<String> planned = ConcurrentHashMap.newKeySet();

        @Override public void run(Tensor[] inputs, Tensor output, org.deepfever.core.backend.ExecContext ctx) { output.copyFrom(inputs[0]); }

        @Override
        public long scratchFloats(Shape[] inputs, Shape output, int threads) {
            planned.add(output.toString());
            return 0;
        }
    }

    private record Fake(String name, Class<? extends Op> supported, Map<String, Kernel> prepared) implements Backend {
        @Override public int priority() { return 0; }
        @Override public boolean supports(Op op) { return supported.isInstance(op); }

        @Override
        public Kernel prepare(Op op) {
            Copy k = new Copy();
            prepared.put(op.kind() + "@" + System.identityHashCode(op), k);
            return k;
        }
    }

    @Test
    void everyUnsupportedNodeIsListedInGraphOrder() {
        Backend onlyRelu = new Fake("relu-only", Relu.class, new ConcurrentHashMap<>());
        var e = assertThrows(UnsupportedOperationException.class,
                () -> new CompiledGraph(chain(6), onlyRelu, null, new ThreadPool(3), true));
        assertEquals("no backend supports: Sigmoid (node sigmoid1), Sigmoid (node sigmoid3), Sigmoid (node sigmoid5)", e.getMessage());
    }

    @Test
    void thePreparationFailureOfTheFirstNodeInGraphOrderIsThrown() {
        Backend failing = new Backend() {
            @Override public String name() { return "failing"; }
            @Override public int priority() { return 0; }
            @Override public boolean supports(Op op) { return op instanceof Relu; }
            @Override public Kernel prepare(Op op) { throw new IllegalArgumentException("cannot prepare " + op.kind()); }
        };
        var e = assertThrows(IllegalArgumentException.class, () -> new CompiledGraph(chain(6), failing, null, new ThreadPool(2), true));
        assertEquals("cannot prepare Relu", e.getMessage());
    }

    @Test
    void nodesGoToThePreferredOrTheFallbackBackendAndKernelsSeeTheirBatch1ShapesAtCompileTime() {
        Map<String, Kernel> fast = new ConcurrentHashMap<>(), slow = new ConcurrentHashMap<>();
        try (CompiledGraph g = new CompiledGraph(chain(40), new Fake("fast", Relu.class, fast), new Fake("slow", Op.class, slow),
                new ThreadPool(3), true)) {
            Map<String, String> byNode = g.backendByNode();
            assertEquals(40, byNode.size());
            for (var entry : byNode.entrySet()) {
                assertEquals(entry.getKey().startsWith("relu") ? "fast" : "slow", entry.getValue(), entry.getKey());
            }
            assertEquals(20, fast.size());
            assertEquals(20, slow.size());
            for (int i = 0; i < 40; i++) {
                Copy k = (Copy) g.kernel(i);
                assertEquals(Set.of(Shape.of(1, 4).toString()), k.planned, "node " + i + " was not planned at compile time");
            }
            Tensor x = Tensor.of(new float[] {1, -2, 3, -4}, 1, 4);
            Tensor y = g.run(Map.of("x", x)).get("y");
            assertEquals(4, y.size());
            for (int i = 0; i < 4; i++) assertEquals(x.getFlat(i), y.getFlat(i));
        }
    }

    @Test
    void aPoolOfOneThreadPreparesSerially() {
        Map<String, Kernel> all = new ConcurrentHashMap<>();
        ThreadPool pool = new ThreadPool(1);
        try (CompiledGraph g = new CompiledGraph(chain(5), new Fake("any", Op.class, all), null, pool, false)) {
            assertEquals(5, all.size());
            assertSame(pool, g.pool());
            assertTrue(g.backendByNode().values().stream().allMatch("any"::equals));
        }
        pool.close();
    }
}
