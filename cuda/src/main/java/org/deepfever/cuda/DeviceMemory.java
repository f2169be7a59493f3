package org.deepfever.cuda;

/**
 * A device buffer that grows on demand (freed and allocated again, contents not kept). The arena,
 * the workspace and the staging area are each one of these, shared by every batch plan of a model:
 * runs are serialised, and plans hold offsets, not addresses.
 */
final class DeviceMemory implements AutoCloseable {
    private final Cudart cuda;
    private final String what;
    private DeviceBuffer buffer;

    DeviceMemory(Cudart cuda, String what) {
        this.cuda = cuda;
        this.what = what;
    }

    /** The address of at least {@code bytes} bytes. @throws CudaException when the device is out of memory */
    long ensure(long bytes) {
        if (buffer == null || buffer.bytes() < bytes) {
            if (buffer != null) {
                buffer.close();
                buffer = null;
            }
            try {
                buffer = new DeviceBuffer(cuda, bytes);
            } catch (CudaException e) {
                throw new IllegalStateException("cannot allocate " + bytes + " bytes of GPU memory for the " + what + ": " + e.getMessage(), e);
            }
        }
        return buffer.address();
    }

    /** Current size in bytes (0 before the first {@link #ensure}). */
    long bytes() { return buffer == null ? 0 : buffer.bytes(); }

    /** The current address. @throws IllegalStateException before the first {@link #ensure} */
    long address() {
        if (buffer == null) throw new IllegalStateException("the " + what + " is not allocated");
        return buffer.address();
    }

    @Override
    public void close() {
        if (buffer != null) {
            DeviceBuffer b = buffer;
            buffer = null;
            b.close();
        }
    }
}
