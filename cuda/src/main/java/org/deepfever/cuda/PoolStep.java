package org.deepfever.cuda;

import org.deepfever.core.op.GlobalAvgPool;
import org.deepfever.core.op.MaxPool2d;

/** cudnnPoolingForward: a max pool (padding never wins), or the global average pool as one window over H x W. */
final class PoolStep extends Step {
    private final CudaContext ctx;
    private final TensorLayout x, y;
    private final Owned xDesc, yDesc, poolDesc;

    private PoolStep(CudaContext ctx, String node, TensorLayout x, TensorLayout y, Owned pool) {
        super(node);
        this.ctx = ctx;
        this.x = x;
        this.y = y;
        Owned xd = null, yd = null;
        try {
            xd = ctx.dnn.tensor(x);
            yd = ctx.dnn.tensor(y);
        } catch (RuntimeException e) {
            Closer.closeAll(e, xd, pool);
            throw e;
        }
        this.xDesc = xd;
        this.yDesc = yd;
        this.poolDesc = pool;
    }

    static PoolStep max(CudaContext ctx, String node, MaxPool2d p, TensorLayout x, TensorLayout y) {
        return new PoolStep(ctx, node, x, y, ctx.dnn.pooling(Cudnn.POOLING_MAX, p.kernelH(), p.kernelW(), p.padTop(), p.padLeft(), p.strideH(), p.strideW()));
    }

    /** Mean over H x W: one window the size of the map; y is [N,C,1,1] whether or not the op keeps the dims. */
    static PoolStep globalAverage(CudaContext ctx, String node, GlobalAvgPool g, TensorLayout x, TensorLayout y) {
        return new PoolStep(ctx, node, x, y, ctx.dnn.pooling(Cudnn.POOLING_AVERAGE_INCLUDE_PADDING, x.h(), x.w(), 0, 0, x.h(), x.w()));
    }

    @Override
    void enqueue(Exec e) {
        ctx.dnn.poolingForward(node, ctx.cudnn(), poolDesc.get(), ctx.one, xDesc.get(), x.address(e.arena()), ctx.zero, yDesc.get(), y.address(e.arena()));
    }

    @Override public void close() { Closer.closeAll(null, poolDesc, yDesc, xDesc); }
}
