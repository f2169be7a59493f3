package org.deepfever.core.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Finds accelerator {@link Device}s with {@link ServiceLoader}. "cpu" is not one of them: it is the
 * engine itself, always present ({@link #CPU}).
 */
public final class Devices {
    /** The name of the CPU, which runs graphs through {@link org.deepfever.core.exec.CompiledGraph}. */
    public static final String CPU = "cpu";

    private Devices() {}

    /** Every device on the class path, available or not, in class path order. */
    public static List<Device> all() {
        List<Device> list = new ArrayList<>();
        ServiceLoader.load(Device.class).forEach(list::add);
        return list;
    }

    /** Whether {@code name} means the CPU (null and blank do too: the default). */
    public static boolean isCpu(String name) {
        return name == null || name.isBlank() || name.trim().equalsIgnoreCase(CPU);
    }

    /**
     * The available device called {@code name}.
     *
     * @throws IllegalArgumentException when no device of that name is on the class path (the message
     *         lists the names that are, and says that the cuda device comes with the fever-cuda jar)
     * @throws IllegalStateException when it is there but cannot run here; the message is its
     *         {@link Device#unavailableReason()}
     */
    public static Device byName(String name) {
        List<Device> all = all();
        for (Device d : all) {
            if (d.name().equalsIgnoreCase(name.trim())) {
                if (!d.available()) throw new IllegalStateException("device '" + d.name() + "' is not available: " + d.unavailableReason());
                return d;
            }
        }
        List<String> names = new ArrayList<>(List.of(CPU));
        all.forEach(d -> names.add(d.name()));
        throw new IllegalArgumentException("no device named '" + name + "'; found " + names
                + (name.trim().equalsIgnoreCase("cuda") ? " (the cuda device comes with the fever-cuda jar, which is not on the class path)" : ""));
    }
}
