package org.deepfever.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deepfever.core.op.Op;
import org.junit.jupiter.api.Test;

/**
 * Backend discovery when a backend cannot run (the SIMD backend in a JVM without the Vector API
 * module): forcing it names the reason, and the automatic choice passes over it. The only backend
 * on this module's test class path is {@link Unavailable} (registered in the test resources).
 */
class BackendsTest {
    /** A backend that never runs here. */
    public static final class Unavailable implements Backend {
        @Override public String name() { return "unavailable-test"; }
        @Override public int priority() { return 1000; }
        @Override public boolean available() { return false; }
        @Override public String unavailableReason() { return "the test says so"; }
        @Override public boolean supports(Op op) { return false; }
        @Override public Kernel prepare(Op op) { throw new UnsupportedOperationException(); }
    }

    @Test
    void forcingAnUnavailableBackendSaysWhy() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.byName("unavailable-test"));
        assertEquals("backend 'unavailable-test' is not available: the test says so", e.getMessage());
    }

    @Test
    void theAutomaticChoicePassesOverIt() {
        assertTrue(Backends.all().stream().anyMatch(b -> b.name().equals("unavailable-test")));
        // nothing else is on this class path, so nothing is left to choose
        IllegalStateException e = assertThrows(IllegalStateException.class, Backends::preferred);
        assertTrue(e.getMessage().startsWith("no backend found"), e.getMessage());
    }
}
