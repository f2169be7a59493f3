package org.deepfever.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.backend.ThreadPool;

/** Helpers shared by the kernel tests: random tensors, batch-strided views, running a kernel. */
public final class TestSupport {
    private TestSupport() {}

    /** A shared two-thread pool (tests run kernels multi-threaded, as the engine does). */
    public static final ThreadPool POOL = new ThreadPool(2);

    public record Ctx(ThreadPool pool, float[] scratch) implements ExecContext {}

    public static Tensor random(Random rnd, int... dims) {
        Tensor t = Tensor.zeros(dims);
        float[] a = t.array();
        for (int i = 0; i < a.length; i++) a[i] = rnd.nextFloat() * 2f - 1f;
        return t;
    }

    /**
     * A tensor of {@code dims} that is a channel slice (axis 1, at {@code extraBefore}) of a bigger
     * buffer holding {@code extraBefore + dims[1] + extraAfter} channels: its batch stride exceeds
     * C*H*W as for the executor's in-place concat. The surrounding channels hold {@code fill}.
     */
    public static Tensor sliced(int[] dims, int extraBefore, int extraAfter, float fill) {
        int[] big = dims.clone();
        big[1] = dims[1] + extraBefore + extraAfter;
        Tensor buf = Tensor.zeros(big);
        java.util.Arrays.fill(buf.array(), fill);
        return buf.slice(1, extraBefore, dims[1]);
    }

    /** Copy of {@code src} placed as a channel slice of a bigger buffer (see {@link #sliced}). */
    public static Tensor slicedCopy(Tensor src, int extraBefore, int extraAfter, float fill) {
        Tensor t = sliced(src.shape().dims(), extraBefore, extraAfter, fill);
        t.copyFrom(src);
        return t;
    }

    /**
     * A rank-4 tensor of {@code dims} stored channels-last ({@link Tensor#isChannelsLast()}) as a
     * channel slice of a channels-last buffer with {@code extraBefore + C + extraAfter} channels per
     * pixel (pixel stride wider than C, as in the executor's in-place concat); the rest holds {@code fill}.
     */
    public static Tensor channelsLast(int[] dims, int extraBefore, int extraAfter, float fill) {
        int n = dims[0], c = dims[1], h = dims[2], w = dims[3], ct = c + extraBefore + extraAfter;
        float[] a = new float[n * ct * h * w];
        java.util.Arrays.fill(a, fill);
        long[] strides = {(long) ct * h * w, 1, (long) w * ct, ct};
        return new Tensor(Shape.of(dims), strides, new org.deepfever.core.Storage.Heap(a), extraBefore);
    }

    /** Copy of {@code src} stored channels-last (see {@link #channelsLast}). */
    public static Tensor channelsLastCopy(Tensor src, int extraBefore, int extraAfter, float fill) {
        Tensor t = channelsLast(src.shape().dims(), extraBefore, extraAfter, fill);
        t.copyFrom(src);
        return t;
    }

    /** Runs a kernel with a scratch array of the size it asks for (two threads). */
    public static void run(Kernel k, Tensor[] in, Tensor out) {
        Shape[] shapes = new Shape[in.length];
        for (int i = 0; i < in.length; i++) shapes[i] = in[i].shape();
        long scratch = k.scratchFloats(shapes, out.shape(), POOL.threads());
        k.run(in, out, new Ctx(POOL, new float[Math.toIntExact(scratch)]));
    }

    public static void assertValues(float[] expected, Tensor actual, float tol) {
        assertEquals(expected.length, actual.size(), "size");
        for (int i = 0; i < expected.length; i++) {
            float a = actual.getFlat(i);
            if (!(Math.abs(a - expected[i]) <= tol) && !(a == expected[i])) {
                fail("element " + i + ": expected " + expected[i] + " got " + a + " (tol " + tol + ")");
            }
        }
    }

    /** Checks that every element of the whole backing array outside {@code view} still holds {@code fill}. */
    public static void assertOutsideUntouched(Tensor view, float fill) {
        float[] a = view.array();
        boolean[] inside = new boolean[a.length];
        for (long i = 0; i < view.size(); i++) {
            long idx = view.offset();
            long flat = i;
            for (int d = view.rank() - 1; d >= 0; d--) {
                idx += (flat % view.dim(d)) * view.stride(d);
                flat /= view.dim(d);
            }
            inside[(int) idx] = true;
        }
        for (int i = 0; i < a.length; i++) {
            if (!inside[i] && a[i] != fill) fail("kernel wrote outside its output view at array index " + i + ": " + a[i]);
        }
    }
}
