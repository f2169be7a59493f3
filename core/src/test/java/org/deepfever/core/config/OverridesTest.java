package org.deepfever.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OverridesTest {
    private static final List<String> KEYS = List.of("a", "b", "flag");

    @Test
    void parsesPairsIgnoringBlanksAndSpaces() {
        Overrides o = Overrides.parse("p", " a = 3 ,, flag=true ", KEYS);
        assertEquals(Map.of("a", "3", "flag", "true"), o.values());
        assertEquals(3, o.intOf("a", 7));
        assertEquals(7, o.intOf("b", 7));
        assertTrue(o.booleanOf("flag", false));
        assertTrue(Overrides.parse("p", "  ", KEYS).isEmpty());
        assertFalse(o.isEmpty());
    }

    @Test
    void refusesWithThePropertyAndThePart() {
        assertMessage("p: expected key=value, got 'a' (keys: [a, b, flag])", () -> Overrides.parse("p", "a", KEYS));
        assertMessage("p: unknown key 'c'", () -> Overrides.parse("p", "c=1", KEYS));
        assertMessage("p: a given twice", () -> Overrides.parse("p", "a=1,a=2", KEYS));
        assertMessage("p: a must be a whole number, got 'x'", () -> Overrides.parse("p", "a=x", KEYS).intOf("a", 0));
        assertMessage("p: a must be in 0..9, got 10", () -> Overrides.parse("p", "a=10", KEYS).longOf("a", 0, 0, 9));
        assertMessage("p: b must be in -2147483648..2147483647, got 3000000000", () -> Overrides.parse("p", "b=3000000000", KEYS).intOf("b", 0));
        assertMessage("p: flag must be true or false, got 'yes'", () -> Overrides.parse("p", "flag=yes", KEYS).booleanOf("flag", false));
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
