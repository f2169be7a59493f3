package org.deepfever.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deepfever.core.Tensor;

/**
 * A state dict being consumed by a model builder: hands out tensors by key with shape checks,
 * remembers which keys were used, and names the key, the expected and the actual shape in every
 * error. A common prefix ({@code module.} from DataParallel, {@code model.} from wrappers) is
 * stripped first.
 */
final class StateDict {
    private static final List<String> PREFIXES = List.of("module.", "model.", "net.");

    private final String source;
    private final Map<String, Tensor> tensors;
    private final Set<String> used = new LinkedHashSet<>();
    private final String strippedPrefix;

    StateDict(String source, Map<String, Tensor> raw) {
        this.source = source;
        String prefix = "";
        Map<String, Tensor> current = raw;
        boolean stripped = true;
        while (stripped && !current.isEmpty()) {
            stripped = false;
            for (String p : PREFIXES) {
                if (allStartWith(current.keySet(), p)) {
                    Map<String, Tensor> next = new LinkedHashMap<>();
                    current.forEach((k, v) -> next.put(k.substring(p.length()), v));
                    current = next;
                    prefix += p;
                    stripped = true;
                    break;
                }
            }
        }
        this.tensors = current;
        this.strippedPrefix = prefix;
    }

    private static boolean allStartWith(Set<String> keys, String prefix) {
        for (String k : keys) if (!k.startsWith(prefix)) return false;
        return true;
    }

    String source() { return source; }
    String strippedPrefix() { return strippedPrefix; }

    boolean has(String key) { return tensors.containsKey(key); }

    Set<String> keys() { return tensors.keySet(); }

    /** The tensor at {@code key}; {@code expected} dims of -1 match anything. */
    Tensor take(String key, int... expected) {
        Tensor t = tensors.get(key);
        if (t == null) throw error("missing key '" + key + "'" + (expected.length > 0 ? " (expected shape " + fmt(expected) + ")" : ""));
        int[] actual = t.shape().dims();
        boolean ok = actual.length == expected.length;
        for (int i = 0; ok && i < expected.length; i++) ok = expected[i] < 0 || expected[i] == actual[i];
        if (!ok) throw error("key '" + key + "': expected shape " + fmt(expected) + ", got " + Arrays.toString(actual));
        used.add(key);
        return t;
    }

    /** Keys not consumed, ignoring BatchNorm's integer step counters. */
    List<String> unused() {
        List<String> out = new ArrayList<>();
        for (String k : tensors.keySet()) if (!used.contains(k) && !k.endsWith("num_batches_tracked")) out.add(k);
        return out;
    }

    ModelLoadException error(String message) { return new ModelLoadException(source + ": " + message); }

    private static String fmt(int[] dims) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) sb.append(i > 0 ? ", " : "").append(dims[i] < 0 ? "*" : String.valueOf(dims[i]));
        return sb.append(']').toString();
    }
}
