package org.deepfever.core.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The overrides a backend's tunables accept from their one system property, such as
 * {@code -Dfever.kernels=bits=256,winogradMinPixels=1000000}: {@code key=value} pairs separated by
 * commas, keys from a fixed list. Every backend's config record parses its property through this
 * class, so that all of them accept the same syntax and fail with the same kind of message.
 */
public final class Overrides {
    private final String property;
    private final Map<String, String> values;

    private Overrides(String property, Map<String, String> values) {
        this.property = property;
        this.values = values;
    }

    /**
     * Parses {@code spec} (blank: no overrides).
     *
     * @param property the system property the spec came from, named in every error message
     * @param spec     {@code key=value,key=value}; blank parts are ignored
     * @param keys     the keys allowed
     * @throws IllegalArgumentException naming the property and the offending part for a missing '=',
     *                                  an unknown key or a key given twice
     */
    public static Overrides parse(String property, String spec, List<String> keys) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            if (part.isBlank()) continue;
            int eq = part.indexOf('=');
            if (eq < 0) throw new IllegalArgumentException(property + ": expected key=value, got '" + part.trim() + "' (keys: " + keys + ")");
            String key = part.substring(0, eq).trim(), value = part.substring(eq + 1).trim();
            if (!keys.contains(key)) throw new IllegalArgumentException(property + ": unknown key '" + key + "' (keys: " + keys + ")");
            if (values.put(key, value) != null) throw new IllegalArgumentException(property + ": " + key + " given twice");
        }
        return new Overrides(property, Collections.unmodifiableMap(values));
    }

    /** Whether no key was given. */
    public boolean isEmpty() { return values.isEmpty(); }

    /** The keys given, in the order given. */
    public Map<String, String> values() { return values; }

    /**
     * The whole number given for {@code key}, or {@code fallback} when it was not given.
     *
     * @throws IllegalArgumentException naming the key and value when the value is not a whole number
     *                                  within {@code min..max}
     */
    public long longOf(String key, long fallback, long min, long max) {
        String v = values.get(key);
        if (v == null) return fallback;
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(property + ": " + key + " must be a whole number, got '" + v + "'");
        }
        if (n < min || n > max) throw new IllegalArgumentException(property + ": " + key + " must be in " + min + ".." + max + ", got " + n);
        return n;
    }

    /** {@link #longOf} for an int. */
    public int intOf(String key, int fallback) {
        return (int) longOf(key, fallback, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /**
     * The {@code true} or {@code false} given for {@code key}, or {@code fallback}.
     *
     * @throws IllegalArgumentException naming the key and value for anything else
     */
    public boolean booleanOf(String key, boolean fallback) {
        String v = values.get(key);
        if (v == null) return fallback;
        if (v.equals("true")) return true;
        if (v.equals("false")) return false;
        throw new IllegalArgumentException(property + ": " + key + " must be true or false, got '" + v + "'");
    }
}
