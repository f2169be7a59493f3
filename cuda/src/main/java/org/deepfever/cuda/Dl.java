package org.deepfever.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The dynamic loader's own reason for a library that does not open (a missing dependency, a wrong
 * architecture): the JDK's message only says that it did not. Asked of libc's dlopen/dlerror.
 */
final class Dl {
    private static final int RTLD_NOW = 2;

    private Dl() {}

    /** Why {@code pathOrName} does not open, in the loader's words; a plain sentence when that cannot be asked. */
    static String whyNot(String pathOrName) {
        Linker linker = Linker.nativeLinker();
        var open = linker.defaultLookup().find("dlopen");
        var error = linker.defaultLookup().find("dlerror");
        var close = linker.defaultLookup().find("dlclose");
        if (open.isEmpty() || error.isEmpty() || close.isEmpty()) return "the dynamic loader refused it";
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle dlopen = linker.downcallHandle(open.get(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            MethodHandle dlerror = linker.downcallHandle(error.get(), FunctionDescriptor.of(ValueLayout.ADDRESS));
            MethodHandle dlclose = linker.downcallHandle(close.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MemorySegment h = (MemorySegment) dlopen.invokeExact(arena.allocateFrom(pathOrName), RTLD_NOW);
            if (!h.equals(MemorySegment.NULL)) {
                int ignored = (int) dlclose.invokeExact(h);
                return "the dynamic loader opens it now (it failed the first time)";
            }
            return NativeLib.string((MemorySegment) dlerror.invokeExact());
        } catch (Throwable t) {
            return "the dynamic loader refused it (" + t + ")";
        }
    }
}
