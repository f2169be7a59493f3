package org.deepfever.cuda;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What building one batch plan needs from its model: the context, the weights, the arena (already
 * large enough for the plan, so that algorithm searches run on the real buffers), the staging area,
 * and the per-shape cache of convolution algorithms. Searches get a temporary workspace of the
 * limit's size, freed by {@link #close}.
 */
final class PlanBuilder implements AutoCloseable {
    private final CudaContext ctx;
    private final DeviceWeights weights;
    private final DeviceMemory arena, staging;
    private final Map<ConvAlgo.Key, Optional<ConvAlgo.Choice>> cache;
    private final long workspaceLimit;
    private DeviceBuffer probe;

    PlanBuilder(CudaContext ctx, DeviceWeights weights, DeviceMemory arena, DeviceMemory staging,
                Map<ConvAlgo.Key, Optional<ConvAlgo.Choice>> cache, long workspaceLimit) {
        this.ctx = ctx;
        this.weights = weights;
        this.arena = arena;
        this.staging = staging;
        this.cache = cache;
        this.workspaceLimit = workspaceLimit;
    }

    CudaContext ctx() { return ctx; }
    DeviceWeights weights() { return weights; }
    long workspaceLimit() { return workspaceLimit; }

    /** The device address of a planned value now. */
    long addressOf(TensorLayout l) { return l.address(arena.address()); }

    /** The staging area's address, grown to at least {@code bytes}. */
    long staging(long bytes) { return staging.ensure(bytes); }

    /**
     * The algorithm for this convolution: from the cache, else timed by
     * cudnnFindConvolutionForwardAlgorithmEx on the given buffers (their contents are overwritten,
     * which is fine before a run). Null when no algorithm takes these tensors within the limit.
     */
    ConvAlgo.Choice choose(String node, TensorLayout x, Owned filter, Owned conv, ConvGeometry g, TensorLayout y, boolean relu,
                           long xAddress, long wAddress, long yAddress) {
        ConvAlgo.Key key = new ConvAlgo.Key(x, g, y, relu);
        Optional<ConvAlgo.Choice> known = cache.get(key);
        if (known != null) return known.orElse(null);
        Cudnn dnn = ctx.dnn;
        try (Owned xd = dnn.tensor(x); Owned yd = dnn.tensor(y)) {
            if (probe == null) probe = new DeviceBuffer(ctx.cuda, workspaceLimit);
            List<ConvAlgo.Perf> results = dnn.findForwardAlgorithms(ctx.cudnn(), xd.get(), xAddress, filter.get(), wAddress, conv.get(),
                    yd.get(), yAddress, probe.address(), workspaceLimit);
            Optional<ConvAlgo.Choice> choice = ConvAlgo.choose(results, workspaceLimit).map(p -> new ConvAlgo.Choice(p.algo(),
                    Math.max(p.memory(), dnn.forwardWorkspaceSize(ctx.cudnn(), xd.get(), filter.get(), conv.get(), yd.get(), p.algo())), p.timeMs()));
            cache.put(key, choice);
            return choice.orElse(null);
        }
    }

    /** Frees the search workspace. */
    @Override
    public void close() {
        if (probe != null) probe.close();
    }
}
