package org.deepfever.cuda;

import org.deepfever.core.op.Gemm;

/**
 * A fully connected layer through cuBLAS: y [N,M] = x [N,K] W^T + b with W [M,K] row-major (PyTorch's
 * Linear layout). In cuBLAS's column-major terms that is C [M,N] = op(A) B with A = W read as [K,M]
 * (lda = K) transposed, B = x read as [K,N] (ldb = x's row stride) and C = y (ldc = y's row stride);
 * the bias is added with cudnnAddTensor.
 */
final class GemmStep extends Step {
    private final CudaContext ctx;
    private final TensorLayout x, y;
    private final int m, k;
    private final long weight, bias;
    private final Owned biasDesc, yDesc;

    GemmStep(CudaContext ctx, DeviceWeights weights, int nodeIndex, String node, Gemm g, TensorLayout x, TensorLayout y) {
        super(node);
        this.ctx = ctx;
        this.x = x;
        this.y = y;
        this.m = g.outFeatures();
        this.k = g.inFeatures();
        this.weight = weights.address(nodeIndex, 0);
        boolean hasBias = weights.has(nodeIndex, 1);
        this.bias = hasBias ? weights.address(nodeIndex, 1) : 0;
        Owned bd = null, yd = null;
        try {
            if (hasBias) {
                bd = ctx.dnn.tensor(TensorLayout.channels(m, 0));
                yd = ctx.dnn.tensor(y);
            }
        } catch (RuntimeException e) {
            Closer.closeAll(e, yd, bd);
            throw e;
        }
        biasDesc = bd;
        yDesc = yd;
    }

    /** The cuBLAS leading dimensions {lda, ldb, ldc} for these layouts (tests check them). */
    static int[] leadingDims(int k, TensorLayout x, TensorLayout y) {
        return new int[] {k, x.nStride(), y.nStride()};
    }

    @Override
    void enqueue(Exec e) {
        int[] ld = leadingDims(k, x, y);
        long ya = y.address(e.arena());
        ctx.blas.sgemm(ctx.cublas(), Cublas.OP_T, Cublas.OP_N, m, x.n(), k, ctx.one, weight, ld[0], x.address(e.arena()), ld[1], ctx.zero, ya, ld[2]);
        if (biasDesc != null) ctx.dnn.addTensor(node, ctx.cudnn(), ctx.one, biasDesc.get(), bias, ctx.one, yDesc.get(), ya);
    }

    @Override public void close() { Closer.closeAll(null, yDesc, biasDesc); }
}
