package org.deepfever.cuda;

/**
 * Device memory from cudaMalloc, freed with cudaFree on {@link #close} (once). The address is a
 * plain number: plans hold offsets into a buffer and add them to {@link #address()} when they run.
 */
final class DeviceBuffer implements AutoCloseable {
    private final Cudart cuda;
    private final long bytes;
    private long address;

    /** Allocates {@code bytes} (at least 1) on the current device. @throws CudaException when out of memory */
    DeviceBuffer(Cudart cuda, long bytes) {
        this.cuda = cuda;
        this.bytes = Math.max(1, bytes);
        this.address = cuda.malloc(this.bytes);
    }

    /** @throws IllegalStateException after close */
    long address() {
        if (address == 0) throw new IllegalStateException("device buffer of " + bytes + " bytes is freed");
        return address;
    }

    long bytes() { return bytes; }

    @Override
    public void close() {
        long a = address;
        if (a == 0) return;
        address = 0;
        cuda.free(a);
    }
}
