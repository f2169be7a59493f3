package org.deepfever.cuda;

import org.deepfever.core.op.Clip;
import org.deepfever.core.op.Op;
import org.deepfever.core.op.Relu;
import org.deepfever.core.op.Sigmoid;

/** cudnnActivationForward: ReLU, sigmoid, or clip(0, max) as cuDNN's clipped ReLU (NaN propagated, as Math.max does). */
final class ActivationStep extends Step {
    private final CudaContext ctx;
    private final TensorLayout x, y;
    private final Owned xDesc, yDesc, actDesc;

    ActivationStep(CudaContext ctx, String node, Op op, TensorLayout x, TensorLayout y) {
        super(node);
        this.ctx = ctx;
        this.x = x;
        this.y = y;
        Owned ad = null, xd = null, yd = null;
        try {
            ad = switch (op) {
                case Relu r -> ctx.dnn.activation(Cudnn.ACTIVATION_RELU, 0);
                case Sigmoid s -> ctx.dnn.activation(Cudnn.ACTIVATION_SIGMOID, 0);
                case Clip c -> ctx.dnn.activation(Cudnn.ACTIVATION_CLIPPED_RELU, c.max());
                default -> throw new IllegalArgumentException("not an activation: " + op.kind());
            };
            xd = ctx.dnn.tensor(x);
            yd = ctx.dnn.tensor(y);
        } catch (RuntimeException e) {
            Closer.closeAll(e, yd, xd, ad);
            throw e;
        }
        actDesc = ad;
        xDesc = xd;
        yDesc = yd;
    }

    @Override
    void enqueue(Exec e) {
        ctx.dnn.activationForward(node, ctx.cudnn(), actDesc.get(), ctx.one, xDesc.get(), x.address(e.arena()), ctx.zero, yDesc.get(), y.address(e.arena()));
    }

    @Override public void close() { Closer.closeAll(null, yDesc, xDesc, actDesc); }
}
