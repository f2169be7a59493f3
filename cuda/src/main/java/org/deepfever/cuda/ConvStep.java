package org.deepfever.cuda;

import java.lang.foreign.MemorySegment;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.Conv2d;

/**
 * A convolution with its epilogue: {@code act(conv(x) + bias [+ z])}. With ReLU it is one
 * cudnnConvolutionBiasActivationForward (the residual, already scaled into the weights, is the z
 * input with alpha2 = 1; without a residual z is y with alpha2 = 0, as PyTorch calls it). Without an
 * activation it is cudnnConvolutionForward (beta = 1 over the residual copied into y) then
 * cudnnAddTensor for the bias: cuDNN fuses the identity activation only with one algorithm.
 * Strided tensors (channel slices of a concat) are given to cuDNN as they are; only when no algorithm
 * takes them are they staged through packed copies.
 */
final class ConvStep extends Step {
    private final CudaContext ctx;
    private final boolean relu, residual;
    private final TensorLayout x, y, z;          // where the values live
    private final TensorLayout xRun, yRun, zRun; // what cuDNN sees (packed staging copies where needed)
    private final boolean stageX, stageY, stageZ;
    private final long stageXAt, stageYAt, stageZAt, stagingBytes;
    private final long weight, bias;
    private final Owned xDesc, yDesc, zDesc, wDesc, convDesc, biasDesc, actDesc;
    private final ConvAlgo.Choice choice;

    /** Describes, chooses the algorithm (cached per shape by {@code planner}) and stages what must be. */
    ConvStep(PlanBuilder planner, int nodeIndex, String node, Conv2d conv, TensorLayout x, TensorLayout y, TensorLayout z) {
        super(node);
        this.ctx = planner.ctx();
        this.relu = conv.activation() == Activation.RELU;
        this.residual = conv.residual();
        this.x = x;
        this.y = y;
        this.z = z;
        this.weight = planner.weights().address(nodeIndex, 0);
        this.bias = planner.weights().address(nodeIndex, 1);
        ConvGeometry g = ConvGeometry.of(conv);
        Cudnn dnn = ctx.dnn;
        Owned w = null, cd = null, xd = null, yd = null, zd = null, bd = null, ad = null;
        try {
            w = dnn.filter(g.k(), g.cPerGroup(), g.kh(), g.kw());
            cd = dnn.convolution(g);
            ConvAlgo.Choice c = planner.choose(node, x, w, cd, g, y, relu, planner.addressOf(x), weight, planner.addressOf(y));
            boolean sx = false, sy = false;
            TensorLayout xr = x, yr = y;
            if (c == null && (!x.isPacked() || !y.isPacked())) {
                sx = !x.isPacked();
                sy = !y.isPacked();
                xr = sx ? TensorLayout.packed(shape(x), 0) : x;
                yr = sy ? TensorLayout.packed(shape(y), 0) : y;
                long need = (sx ? BufferPlan.align(x.n() * x.rowBytes()) : 0) + (sy ? BufferPlan.align(y.n() * y.rowBytes()) : 0);
                long base = planner.staging(need);
                long xa = sx ? base : planner.addressOf(x);
                long ya = sy ? base + (sx ? BufferPlan.align(x.n() * x.rowBytes()) : 0) : planner.addressOf(y);
                c = planner.choose(node, xr, w, cd, g, yr, relu, xa, weight, ya);
            }
            if (c == null) throw new IllegalStateException("node " + node + ": cuDNN has no forward algorithm for x " + x + ", y " + y + " " + g
                    + " within the workspace limit of " + planner.workspaceLimit() + " bytes");
            boolean sz = residual && !(z.nStride() == yr.nStride() && z.cStride() == yr.cStride() && z.hStride() == yr.hStride());
            stageX = sx;
            stageY = sy;
            stageZ = sz;
            long at = 0;
            stageXAt = at;
            at += sx ? BufferPlan.align(x.n() * x.rowBytes()) : 0;
            stageYAt = at;
            at += sy ? BufferPlan.align(y.n() * y.rowBytes()) : 0;
            stageZAt = at;
            at += sz ? BufferPlan.align(z.n() * z.rowBytes()) : 0;
            stagingBytes = at;
            xRun = sx ? TensorLayout.packed(shape(x), 0) : x;
            yRun = sy ? TensorLayout.packed(shape(y), 0) : y;
            zRun = !residual ? null : sz ? new TensorLayout(z.n(), z.c(), z.h(), z.w(), yRun.nStride(), yRun.cStride(), yRun.hStride(), yRun.wStride(), 0) : z;
            xd = dnn.tensor(xRun);
            yd = dnn.tensor(yRun);
            if (residual) zd = dnn.tensor(zRun);
            bd = dnn.tensor(TensorLayout.channels(g.k(), 0));
            if (relu) ad = dnn.activation(Cudnn.ACTIVATION_RELU, 0);
            int[] dims = dnn.convolutionOutputDim(cd.get(), xd.get(), w.get());
            if (dims[0] != y.n() || dims[1] != y.c() || dims[2] != y.h() || dims[3] != y.w()) {
                throw new IllegalStateException("node " + node + ": cuDNN computes output [" + dims[0] + "," + dims[1] + "," + dims[2] + "," + dims[3]
                        + "], the graph says " + y);
            }
            choice = c;
        } catch (RuntimeException e) {
            Closer.closeAll(e, ad, bd, zd, yd, xd, cd, w);
            throw e;
        }
        wDesc = w;
        convDesc = cd;
        xDesc = xd;
        yDesc = yd;
        zDesc = zd;
        biasDesc = bd;
        actDesc = ad;
    }

    private static org.deepfever.core.Shape shape(TensorLayout l) {
        return org.deepfever.core.Shape.of(l.n(), l.c(), l.h(), l.w());
    }

    @Override long workspaceBytes() { return choice.workspaceBytes(); }

    @Override long stagingBytes() { return stagingBytes; }

    /** The algorithm chosen (for reports and tests). */
    ConvAlgo.Choice choice() { return choice; }

    @Override
    void enqueue(Exec e) {
        Cudnn dnn = ctx.dnn;
        MemorySegment h = ctx.cudnn();
        long xa = x.address(e.arena()), ya = y.address(e.arena());
        long xIn = xa, yOut = ya;
        if (stageX) {
            xIn = e.staging() + stageXAt;
            copy(e, xRun, xIn, x, xa);
        }
        if (stageY) yOut = e.staging() + stageYAt;
        long zIn = 0;
        if (residual) {
            zIn = z.address(e.arena());
            if (stageZ) {
                long staged = e.staging() + stageZAt;
                copy(e, zRun, staged, z, zIn);
                zIn = staged;
            }
        }
        if (relu) {
            dnn.convolutionBiasActivationForward(node, h, ctx.one, xDesc.get(), xIn, wDesc.get(), weight, convDesc.get(), choice.algo(),
                    e.workspace(), choice.workspaceBytes(), residual ? ctx.one : ctx.zero, residual ? zDesc.get() : yDesc.get(),
                    residual ? zIn : yOut, biasDesc.get(), bias, actDesc.get(), yDesc.get(), yOut);
        } else {
            if (residual && zIn != yOut) copy(e, yRun, yOut, zRun, zIn);
            dnn.convolutionForward(node, h, ctx.one, xDesc.get(), xIn, wDesc.get(), weight, convDesc.get(), choice.algo(), e.workspace(),
                    choice.workspaceBytes(), residual ? ctx.one : ctx.zero, yDesc.get(), yOut);
            dnn.addTensor(node, h, ctx.one, biasDesc.get(), bias, ctx.one, yDesc.get(), yOut);
        }
        if (stageY) copy(e, y, ya, yRun, yOut);
    }

    @Override
    public void close() {
        Closer.closeAll(null, actDesc, biasDesc, zDesc, yDesc, xDesc, convDesc, wDesc);
    }
}
