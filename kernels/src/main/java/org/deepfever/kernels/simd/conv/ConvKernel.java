package org.deepfever.kernels.simd.conv;

import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.Conv2d;
import org.deepfever.kernels.simd.KernelConfig;

/**
 * The direct convolution (groups 1): per call, the {@link ConvPlan} for the call's shapes, layouts
 * and threads, run by the {@link PixelVectorConv} or the {@link ChannelVectorConv} orientation.
 *
 * <p>Each orientation's packed weights are made once, when first needed: normally at plan time, from
 * {@link #scratchFloats}, the first moment the output size (hence the orientation) is known; a conv
 * thus holds only the layout it uses. Channel-vector calls read and write the executor's channels-last
 * layout ({@link Tensor#isChannelsLast()}), which the kernel declares in {@link #acceptsChannelsLast}.
 * Every output is written once, honouring the batch stride of the input, output and residual views.
 *
 * <p>A plan-only kernel ({@code planOnly}) plans for a config other than this JVM's (another vector
 * width): it answers the executor's layout questions and describes its plans, packs nothing and
 * refuses to run.
 */
final class ConvKernel implements Kernel {
    private final Conv2d op;
    private final ConvSpec s;
    private final KernelConfig cfg;
    private final ConvPlan.Forced forced;
    private final boolean planOnly;
    private final PixelVectorConv pixel;
    private final ChannelVectorConv channel;

    /** The last call's geometry, threads and plan (immutable once published; see {@link #plan(CallGeometry, int)}). */
    private record Planned(CallGeometry g, int threads, ConvPlan plan) {}
    private volatile Planned last;

    /**
     * A direct conv kernel planning with {@code cfg}, the orientation {@code forced} (tests) or chosen
     * per call ({@code AUTO}); {@code planOnly} for a config this JVM cannot run (see the class comment).
     *
     * @throws IllegalArgumentException for a grouped conv
     */
    ConvKernel(Conv2d c, KernelConfig cfg, ConvPlan.Forced forced, boolean planOnly) {
        op = c;
        s = ConvSpec.of(c);
        this.cfg = cfg;
        this.forced = forced;
        this.planOnly = planOnly;
        float[] bias = c.bias() == null ? new float[s.cout()] : c.bias().toFloatArray();
        int nv = ConvPlan.channelPanelVectors(s, cfg, forced);
        pixel = new PixelVectorConv(c, s, bias);
        channel = new ChannelVectorConv(c, s, bias, nv, ConvPlan.slides(s, cfg, nv), cfg.fivePixelTiles() == 1);
    }

    /** The plan of a call with these shapes, NCHW tensors (what the executor's scratch sizing sees). */
    private ConvPlan shapePlan(Shape[] inputs, Shape output, int threads) {
        Shape x = inputs[0];
        return ConvPlan.direct(s, cfg, forced, ConvPlan.Call.nchw(output.dim(0), x.dim(2), x.dim(3), output.dim(2), output.dim(3),
                s.residual(), threads));
    }

    @Override
    public long scratchFloats(Shape[] inputs, Shape output, int threads) {
        ConvPlan plan = shapePlan(inputs, output, threads);
        // plan time: pack the weights for the orientation this shape will use, so the first run does not
        if (!planOnly) {
            if (plan.algorithm() == ConvPlan.Algorithm.CHANNEL_VECTOR) channel.packed(); else pixel.packed();
        }
        return plan.scratchFloats();
    }

    /** Whether calls with this output shape take and write channels-last tensors (channel-vector calls do). */
    boolean handlesChannelsLast(Shape output) {
        return ConvPlan.channelVectors(s, cfg, forced, output.dim(2) * output.dim(3));
    }

    @Override
    public boolean acceptsChannelsLast(int input, Shape[] inputs, Shape output) { return handlesChannelsLast(output); }

    @Override
    public boolean writesChannelsLast(Shape[] inputs, Shape output) { return handlesChannelsLast(output); }

    /**
     * The residual: every epilogue (and the tiles starting from the output) reads a residual element
     * only to write the output element at the same index, so the output may be written over the
     * residual's buffer.
     */
    @Override
    public int inPlaceInput(Shape[] inputs, Shape output) { return s.residual() ? 1 : -1; }

    /**
     * The call's geometry: the last one again while the same tensor objects come back (a plan's
     * buffers do), and its plan for {@code threads}.
     */
    private ConvPlan plan(CallGeometry g, int threads) {
        Planned p = last;
        if (p != null && p.g() == g && p.threads() == threads) return p.plan();
        ConvPlan plan = ConvPlan.direct(s, cfg, forced, g.call(threads));
        last = new Planned(g, threads, plan);
        return plan;
    }

    private CallGeometry geometry(Tensor x, Tensor res, Tensor out) {
        Planned p = last;
        CallGeometry g = p == null ? null : p.g();
        if (g != null && g.x() == x && g.res() == res && g.out() == out) return g;
        return CallGeometry.of(x, res, out);
    }

    /**
     * The plan a call on these tensors would run with {@code threads} threads (layouts and shared
     * buffers taken from the tensors).
     */
    ConvPlan plan(Tensor[] inputs, Tensor output, int threads) {
        return ConvPlan.direct(s, cfg, forced, CallGeometry.of(inputs[0], s.residual() ? inputs[1] : null, output).call(threads));
    }

    /** The conv's geometry and the plan a call on these tensors would run: {@code ConvSpec.describe() | ConvPlan.describe()}. */
    @Override
    public String describe(Tensor[] inputs, Tensor output, int threads) {
        return s.describe() + " | " + plan(inputs, output, threads).describe();
    }

    /**
     * Runs the conv.
     *
     * @throws IllegalStateException    for a plan-only kernel, or when the executor's scratch is too small
     * @throws IllegalArgumentException when a pixel-vector call is handed channels-last tensors
     */
    @Override
    public void run(Tensor[] inputs, Tensor output, ExecContext ctx) {
        if (planOnly) throw new IllegalStateException("conv " + op + ": this kernel plans for " + cfg.target() + " and cannot run on this JVM");
        Tensor x = inputs[0];
        Tensor res = s.residual() ? inputs[1] : null;
        CallGeometry g = geometry(x, res, output);
        ConvPlan plan = plan(g, ctx.pool().threads());
        if (plan.algorithm() == ConvPlan.Algorithm.CHANNEL_VECTOR) {
            channel.run(plan, g, ctx);
            return;
        }
        if (x.isChannelsLast() || output.isChannelsLast() || res != null && res.isChannelsLast()) {
            throw new IllegalArgumentException("conv " + op + ": the pixel-vector orientation needs NCHW tensors (acceptsChannelsLast said no)");
        }
        pixel.run(plan, g, ctx);
    }

    @Override public String toString() { return "ConvKernel[" + op + "]"; }
}
