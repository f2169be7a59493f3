package org.deepfever.cuda;

import org.deepfever.core.op.BatchNorm;

/** A batch norm not folded into a convolution (DenseNet's pre-activation norms): cudnnBatchNormalizationForwardInference. */
final class BatchNormStep extends Step {
    private final CudaContext ctx;
    private final TensorLayout x, y;
    private final long gamma, beta, mean, var;
    private final double eps;
    private final Owned xDesc, yDesc, paramDesc;

    BatchNormStep(CudaContext ctx, DeviceWeights weights, int nodeIndex, String node, BatchNorm bn, TensorLayout x, TensorLayout y) {
        super(node);
        this.ctx = ctx;
        this.x = x;
        this.y = y;
        this.gamma = weights.address(nodeIndex, 0);
        this.beta = weights.address(nodeIndex, 1);
        this.mean = weights.address(nodeIndex, 2);
        this.var = weights.address(nodeIndex, 3);
        this.eps = bn.eps();
        Owned xd = null, yd = null, pd = null;
        try {
            xd = ctx.dnn.tensor(x);
            yd = ctx.dnn.tensor(y);
            pd = ctx.dnn.tensor(TensorLayout.channels(bn.channels(), 0));
        } catch (RuntimeException e) {
            Closer.closeAll(e, pd, yd, xd);
            throw e;
        }
        xDesc = xd;
        yDesc = yd;
        paramDesc = pd;
    }

    @Override
    void enqueue(Exec e) {
        ctx.dnn.batchNormInference(node, ctx.cudnn(), ctx.one, ctx.zero, xDesc.get(), x.address(e.arena()), yDesc.get(), y.address(e.arena()),
                paramDesc.get(), gamma, beta, mean, var, eps);
    }

    @Override public void close() { Closer.closeAll(null, paramDesc, yDesc, xDesc); }
}
