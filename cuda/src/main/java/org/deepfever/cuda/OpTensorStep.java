package org.deepfever.cuda;

import java.lang.foreign.MemorySegment;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.Binary;
import org.deepfever.core.op.ResidualAdd;

/**
 * Element-wise ops through cudnnOpTensor, C = op(alpha1 A, alpha2 B): ResidualAdd as
 * ADD(x, scale * y) then ReLU in place when it has one; Binary ADD, SUB (ADD with alpha2 = -1) and
 * MUL, with B broadcast over dims of size 1 (A is the full-size operand; ADD and MUL swap theirs when
 * the first one is the broadcast one).
 */
final class OpTensorStep extends Step {
    private final CudaContext ctx;
    private final TensorLayout a, b, c;
    private final MemorySegment alpha1, alpha2;
    private final Owned opDesc, aDesc, bDesc, cDesc, actDesc;

    private OpTensorStep(CudaContext ctx, String node, int op, TensorLayout a, float alpha1, TensorLayout b, float alpha2, TensorLayout c, boolean relu) {
        super(node);
        this.ctx = ctx;
        this.a = a;
        this.b = b;
        this.c = c;
        this.alpha1 = ctx.scalar(alpha1);
        this.alpha2 = ctx.scalar(alpha2);
        Owned od = null, ad = null, bd = null, cd = null, act = null;
        try {
            od = ctx.dnn.opTensor(op);
            ad = ctx.dnn.tensor(a);
            bd = ctx.dnn.tensor(b);
            cd = ctx.dnn.tensor(c);
            if (relu) act = ctx.dnn.activation(Cudnn.ACTIVATION_RELU, 0);
        } catch (RuntimeException e) {
            Closer.closeAll(e, act, cd, bd, ad, od);
            throw e;
        }
        opDesc = od;
        aDesc = ad;
        bDesc = bd;
        cDesc = cd;
        actDesc = act;
    }

    /** act(x + scale * y). */
    static OpTensorStep residualAdd(CudaContext ctx, String node, ResidualAdd r, TensorLayout x, TensorLayout y, TensorLayout out) {
        return new OpTensorStep(ctx, node, Cudnn.OP_TENSOR_ADD, x, 1f, y, r.scale(), out, r.activation() == Activation.RELU);
    }

    /** {@code in0 fn in1}; {@code b0}/{@code b1} are the operands' layouts as broadcast descriptors (see {@link PlanBuilder}). */
    static OpTensorStep binary(CudaContext ctx, String node, Binary bin, TensorLayout in0, boolean in0Full, TensorLayout in1, TensorLayout out) {
        return switch (bin.fn()) {
            case ADD -> in0Full ? new OpTensorStep(ctx, node, Cudnn.OP_TENSOR_ADD, in0, 1f, in1, 1f, out, false)
                    : new OpTensorStep(ctx, node, Cudnn.OP_TENSOR_ADD, in1, 1f, in0, 1f, out, false);
            case MUL -> in0Full ? new OpTensorStep(ctx, node, Cudnn.OP_TENSOR_MUL, in0, 1f, in1, 1f, out, false)
                    : new OpTensorStep(ctx, node, Cudnn.OP_TENSOR_MUL, in1, 1f, in0, 1f, out, false);
            case SUB -> new OpTensorStep(ctx, node, Cudnn.OP_TENSOR_ADD, in0, 1f, in1, -1f, out, false);
            case DIV -> throw new IllegalArgumentException("node " + node + ": division does not run on the device");
        };
    }

    @Override
    void enqueue(Exec e) {
        long ca = c.address(e.arena());
        ctx.dnn.opTensor(node, ctx.cudnn(), opDesc.get(), alpha1, aDesc.get(), a.address(e.arena()), alpha2, bDesc.get(), b.address(e.arena()),
                ctx.zero, cDesc.get(), ca);
        if (actDesc != null) ctx.dnn.activationForward(node, ctx.cudnn(), actDesc.get(), ctx.one, cDesc.get(), ca, ctx.zero, cDesc.get(), ca);
    }

    @Override public void close() { Closer.closeAll(null, actDesc, cDesc, bDesc, aDesc, opDesc); }
}
