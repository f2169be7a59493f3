package org.deepfever.cuda;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

/**
 * A native object (a cuDNN descriptor or handle, a cuBLAS handle, a stream, pinned host memory) and
 * the call that releases it. Closing releases it once; a second close does nothing; using it after
 * close throws.
 */
final class Owned implements AutoCloseable {
    private final String what;
    private final Consumer<MemorySegment> release;
    private MemorySegment ptr;

    Owned(String what, MemorySegment ptr, Consumer<MemorySegment> release) {
        this.what = what;
        this.ptr = ptr;
        this.release = release;
    }

    /** The native pointer. @throws IllegalStateException after {@link #close} */
    MemorySegment get() {
        MemorySegment p = ptr;
        if (p == null) throw new IllegalStateException(what + " is closed");
        return p;
    }

    boolean isOpen() { return ptr != null; }

    /** Releases the object; the release call's error, if any, is thrown (a {@link CudaException}). */
    @Override
    public void close() {
        MemorySegment p = ptr;
        if (p == null) return;
        ptr = null;
        release.accept(p);
    }

    @Override public String toString() { return what; }
}
