package org.deepfever.core.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Discovers backends with {@link ServiceLoader}. The system property {@code fever.backend} forces
 * one by name; otherwise the available backend with the highest priority is chosen.
 */
public final class Backends {
    public static final String PROPERTY = "fever.backend";
    public static final String REFERENCE = "reference";

    private Backends() {}

    public static List<Backend> all() {
        List<Backend> list = new ArrayList<>();
        ServiceLoader.load(Backend.class).forEach(list::add);
        list.sort(Comparator.comparingInt(Backend::priority).reversed());
        return list;
    }

    public static Backend byName(String name) {
        List<Backend> all = all();
        for (Backend b : all) {
            if (b.name().equalsIgnoreCase(name)) {
                if (!b.available()) throw new IllegalStateException("backend '" + name + "' is not available: " + b.unavailableReason());
                return b;
            }
        }
        throw new IllegalArgumentException("no backend named '" + name + "'; found " + all.stream().map(Backend::name).toList());
    }

    /** The forced backend ({@code -Dfever.backend=NAME}) or the best available one. */
    public static Backend preferred() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null && !forced.isBlank()) return byName(forced.trim());
        for (Backend b : all()) {
            if (b.available()) return b;
            warnOnce(b);
        }
        throw new IllegalStateException("no backend found: is fever-kernels on the class path?");
    }

    private static final java.util.Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A preferred backend passed over: said once per backend and JVM (System.Logger, level WARNING). */
    private static void warnOnce(Backend b) {
        if (WARNED.add(b.name())) {
            System.getLogger("org.deepfever").log(System.Logger.Level.WARNING,
                    "fever: backend '" + b.name() + "' is not available (" + b.unavailableReason() + "); using the next one");
        }
    }

    /** The scalar reference backend, used for ops the preferred backend does not support. */
    public static Backend reference() { return byName(REFERENCE); }
}
