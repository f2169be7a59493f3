package org.deepfever.cuda;

/**
 * One device node of one batch plan: its descriptors made and its algorithm chosen when the plan is
 * built, its work queued on the stream by {@link #enqueue} (nothing waits). Addresses are taken from
 * {@link Exec} at each run, so the arena and workspace may move between runs.
 */
abstract class Step implements AutoCloseable {
    /** The device memory of one run: arena base, workspace and staging areas (addresses and sizes). */
    record Exec(CudaContext ctx, long arena, long workspace, long workspaceBytes, long staging) {}

    final String node;

    Step(String node) { this.node = node; }

    /** Queues this node's work on the context's stream. @throws CudaException when a call is refused */
    abstract void enqueue(Exec e);

    /** Workspace bytes this step needs (cuDNN convolutions). */
    long workspaceBytes() { return 0; }

    /** Staging bytes this step needs (packed copies of strided tensors a convolution cannot take). */
    long stagingBytes() { return 0; }

    /** Destroys this step's descriptors. */
    @Override public void close() {}

    /** Copies {@code src} to {@code dst} image by image (either may be a channel slice), on the stream. */
    static void copy(Exec e, TensorLayout dst, long dstAddress, TensorLayout src, long srcAddress) {
        if (dst.perImage() != src.perImage() || dst.n() != src.n()) {
            if (dst.isPacked() && src.isPacked() && (long) dst.n() * dst.perImage() == (long) src.n() * src.perImage()) {
                e.ctx().cuda.memcpyAsync(dstAddress, srcAddress, (long) src.n() * src.rowBytes(), Cudart.MEMCPY_DEVICE_TO_DEVICE, e.ctx().stream());
                return;
            }
            throw new IllegalStateException("cannot copy " + src + " to " + dst);
        }
        if (dst.isPacked() && src.isPacked()) {
            e.ctx().cuda.memcpyAsync(dstAddress, srcAddress, (long) src.n() * src.rowBytes(), Cudart.MEMCPY_DEVICE_TO_DEVICE, e.ctx().stream());
        } else {
            e.ctx().cuda.memcpy2DAsync(dstAddress, dst.pitchBytes(), srcAddress, src.pitchBytes(), src.rowBytes(), src.n(),
                    Cudart.MEMCPY_DEVICE_TO_DEVICE, e.ctx().stream());
        }
    }

    /** Whether two layouts can be copied image by image or as one block ({@link #copy}). */
    static boolean copyable(TensorLayout dst, TensorLayout src) {
        if (dst.perImage() == src.perImage() && dst.n() == src.n()) return true;
        return dst.isPacked() && src.isPacked() && (long) dst.n() * dst.perImage() == (long) src.n() * src.perImage();
    }
}
