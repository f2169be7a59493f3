package org.deepfever.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One loaded shared library and the downcall handles made from it. Libraries are opened in the
 * global arena: the CUDA libraries stay loaded for the life of the process, as they do in any CUDA
 * program (unloading them under live contexts is not supported by NVIDIA).
 */
final class NativeLib {
    private static final Linker LINKER = Linker.nativeLinker();

    final String file;
    /** Where it was loaded from, or null when the dynamic loader found it by name. */
    final Path path;
    private final SymbolLookup lookup;

    private NativeLib(String file, Path path, SymbolLookup lookup) {
        this.file = file;
        this.path = path;
        this.lookup = lookup;
    }

    /**
     * Opens {@code path}.
     *
     * @throws IllegalStateException naming the file and the loader's reason (dlerror) when it cannot be opened
     */
    static NativeLib open(Path path) {
        try {
            return new NativeLib(path.getFileName().toString(), path, SymbolLookup.libraryLookup(path, Arena.global()));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("cannot load " + path + ": " + Dl.whyNot(path.toString()), e);
        }
    }

    /** Opens {@code file} by name through the dynamic loader's own search, or empty when it is not found. */
    static Optional<NativeLib> openByName(String file) {
        try {
            return Optional.of(new NativeLib(file, null, SymbolLookup.libraryLookup(file, Arena.global())));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Where it came from, for reports. */
    String where() { return path != null ? path.toString() : file + " (found by the dynamic loader)"; }

    /**
     * A downcall handle for {@code symbol}.
     *
     * @throws IllegalStateException when the library has no such symbol (a version this binding does not know)
     */
    MethodHandle function(String symbol, FunctionDescriptor fd) {
        MemorySegment addr = lookup.find(symbol).orElseThrow(() ->
                new IllegalStateException(where() + " has no function " + symbol + " (unsupported library version?)"));
        return LINKER.downcallHandle(addr, fd);
    }

    /** A downcall handle for {@code symbol}, or null when the library does not have it. */
    MethodHandle optionalFunction(String symbol, FunctionDescriptor fd) {
        return lookup.find(symbol).map(a -> LINKER.downcallHandle(a, fd)).orElse(null);
    }

    /** The C string at {@code p} (null pointer: "(null)"). */
    static String string(MemorySegment p) {
        return p.equals(MemorySegment.NULL) ? "(null)" : p.reinterpret(4096).getString(0);
    }

    /** Layouts used by every binding. */
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong SIZE_T = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE;
    static final java.lang.foreign.AddressLayout PTR = ValueLayout.ADDRESS;
}
