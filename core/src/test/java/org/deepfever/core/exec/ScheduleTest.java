package org.deepfever.core.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.deepfever.core.Shape;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;
import org.deepfever.core.op.Concat;
import org.deepfever.core.op.MaxPool2d;
import org.deepfever.core.op.Relu;
import org.deepfever.core.op.Sigmoid;
import org.junit.jupiter.api.Test;

/** Max-pools move up to just after their input's producer; everything else keeps the graph's order. */
class ScheduleTest {
    private static final MaxPool2d POOL = new MaxPool2d(3, 3, 2, 2, 0, 0, 0, 0, false);

    private static List<String> names(Graph g) {
        List<String> out = new ArrayList<>();
        for (Node n : g.nodes()) out.add(n.name());
        return out;
    }

    /** An Inception-like block: x -> stem; branches a (two nodes), b (one), pool listed last; concat. */
    private static Graph block() {
        Graph.Builder b = Graph.builder();
        int x = b.input("x", Shape.of(-1, 4, 9, 9));
        int stem = b.add("stem", new Relu(), x);
        int a0 = b.add("a0", new Sigmoid(), stem);
        int a1 = b.add("a1", POOL, a0);
        int bb = b.add("b", POOL, stem);
        int inputPool = b.add("inputPool", POOL, x);
        int p = b.add("pool", POOL, stem);
        b.output("y", b.add("concat", new Concat(1, 3), a1, bb, p));
        b.output("z", inputPool);
        return b.build();
    }

    @Test
    void poolsRunRightAfterTheirInputsProducer() {
        Graph g = block();
        assertEquals(List.of("stem", "a0", "a1", "b", "inputPool", "pool", "concat"), names(g));
        Graph s = Schedule.poolsEarly(g);
        // stem's pools (b, pool) follow it in their own order; a1 already followed a0; a pool of a
        // graph input keeps its place
        assertEquals(List.of("stem", "b", "pool", "a0", "a1", "inputPool", "concat"), names(s));
        assertSame(g.nodes().get(0), s.nodes().get(0));
        assertEquals(g.outputs(), s.outputs());
    }

    @Test
    void graphWithoutPoolsIsUnchanged() {
        Graph.Builder b = Graph.builder();
        int x = b.input("x", Shape.of(-1, 4));
        b.output("y", b.add("s", new Sigmoid(), b.add("r", new Relu(), x)));
        Graph g = b.build();
        assertSame(g, Schedule.poolsEarly(g));
    }

    @Test
    void anOrderThatReadsAValueBeforeItExistsIsRefused() {
        Graph g = block();
        List<Node> swapped = new ArrayList<>(g.nodes());
        java.util.Collections.swap(swapped, 0, 1); // a0 before stem
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.withNodeOrder(swapped));
        assertEquals("node order: a0 runs before its input stem exists", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> g.withNodeOrder(g.nodes().subList(1, g.nodes().size())));
    }
}
