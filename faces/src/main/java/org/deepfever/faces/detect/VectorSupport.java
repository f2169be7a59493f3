package org.deepfever.faces.detect;

import org.deepfever.kernels.simd.KernelConfig;

/**
 * Whether the detector may run its cascade on {@link VectorStumps}: the JVM has the Vector API's
 * incubator module ({@code --add-modules jdk.incubator.vector}, as {@code ./fever} starts it) and
 * the kernels' vector width ({@link KernelConfig#bits()}, {@code -Dfever.kernels=bits=...}) is 256
 * or 512 bits. Kept apart from VectorStumps so that asking links no Vector API class: without the
 * module the detector stays on its scalar path, with the same results.
 */
final class VectorSupport {
    private VectorSupport() {}

    /** Whether {@link VectorStumps} may be used. */
    static final boolean AVAILABLE = check();

    private static boolean check() {
        try {
            Class.forName("jdk.incubator.vector.IntVector", false, VectorSupport.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
        // KernelConfig reads the preferred species: only touched once the module is known to be there
        return KernelConfig.current().bits() >= 256;
    }
}
