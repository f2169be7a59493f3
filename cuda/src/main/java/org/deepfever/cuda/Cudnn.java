package org.deepfever.cuda;

import static org.deepfever.cuda.NativeLib.DOUBLE;
import static org.deepfever.cuda.NativeLib.INT;
import static org.deepfever.cuda.NativeLib.PTR;
import static org.deepfever.cuda.NativeLib.SIZE_T;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The cuDNN calls the cuda device uses: the legacy (v7-style) API, present in cuDNN 8 and, though
 * marked deprecated, in cuDNN 9 (libcudnn_ops.so.9 and libcudnn_cnn.so.9). Signatures and enum
 * values as in cudnn_ops.h, cudnn_cnn.h and cudnn_graph.h of cuDNN 9. Every call is checked; errors
 * carry cudnnGetErrorString and, on cuDNN 9, cudnnGetLastErrorString.
 */
final class Cudnn {
    static final String LIBRARY = "cuDNN";
    static final int DATA_FLOAT = 0;
    static final int TENSOR_NCHW = 0;
    static final int CROSS_CORRELATION = 1;
    /** FP32 FMA kernels only: no TF32 tensor-core rounding (CUDNN_DEFAULT_MATH allows it on Ampere and later). */
    static final int FMA_MATH = 3;
    static final int NOT_PROPAGATE_NAN = 0, PROPAGATE_NAN = 1;
    static final int ACTIVATION_SIGMOID = 0, ACTIVATION_RELU = 1, ACTIVATION_CLIPPED_RELU = 3, ACTIVATION_IDENTITY = 5;
    static final int POOLING_MAX = 0, POOLING_AVERAGE_INCLUDE_PADDING = 1;
    static final int OP_TENSOR_ADD = 0, OP_TENSOR_MUL = 1;
    static final int BATCHNORM_SPATIAL = 1;

    /** cudnnConvolutionFwdAlgoPerf_t: algo, status, time (ms), memory (bytes), determinism, mathType, reserved[3]. */
    static final StructLayout ALGO_PERF = MemoryLayout.structLayout(
            INT.withName("algo"), INT.withName("status"), ValueLayout.JAVA_FLOAT.withName("time"), MemoryLayout.paddingLayout(4),
            SIZE_T.withName("memory"), INT.withName("determinism"), INT.withName("mathType"),
            MemoryLayout.sequenceLayout(3, INT).withName("reserved"), MemoryLayout.paddingLayout(4));

    final NativeLib lib;
    private final MethodHandle getVersion, getCudartVersion, getErrorString, getLastErrorString, create, destroy, setStream,
            createTensor, setTensor4dEx, destroyTensor, createFilter, setFilter4d, destroyFilter,
            createConv, setConv2d, setConvGroupCount, setConvMathType, destroyConv, convOutputDim,
            algoMaxCount, findConvAlgoEx, convWorkspaceSize, convForward, convBiasActivationForward,
            createActivation, setActivation, destroyActivation, activationForward,
            createPooling, setPooling2d, destroyPooling, poolingForward,
            createOpTensor, setOpTensor, destroyOpTensor, opTensor, addTensor, batchNormInference;

    Cudnn(NativeLib lib) {
        this.lib = lib;
        getVersion = lib.function("cudnnGetVersion", FunctionDescriptor.of(SIZE_T));
        getCudartVersion = lib.function("cudnnGetCudartVersion", FunctionDescriptor.of(SIZE_T));
        getErrorString = lib.function("cudnnGetErrorString", FunctionDescriptor.of(PTR, INT));
        getLastErrorString = lib.optionalFunction("cudnnGetLastErrorString", FunctionDescriptor.ofVoid(PTR, SIZE_T));
        create = lib.function("cudnnCreate", FunctionDescriptor.of(INT, PTR));
        destroy = lib.function("cudnnDestroy", FunctionDescriptor.of(INT, PTR));
        setStream = lib.function("cudnnSetStream", FunctionDescriptor.of(INT, PTR, PTR));
        createTensor = lib.function("cudnnCreateTensorDescriptor", FunctionDescriptor.of(INT, PTR));
        setTensor4dEx = lib.function("cudnnSetTensor4dDescriptorEx", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT, INT, INT, INT, INT));
        destroyTensor = lib.function("cudnnDestroyTensorDescriptor", FunctionDescriptor.of(INT, PTR));
        createFilter = lib.function("cudnnCreateFilterDescriptor", FunctionDescriptor.of(INT, PTR));
        setFilter4d = lib.function("cudnnSetFilter4dDescriptor", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT, INT));
        destroyFilter = lib.function("cudnnDestroyFilterDescriptor", FunctionDescriptor.of(INT, PTR));
        createConv = lib.function("cudnnCreateConvolutionDescriptor", FunctionDescriptor.of(INT, PTR));
        setConv2d = lib.function("cudnnSetConvolution2dDescriptor", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT, INT, INT, INT));
        setConvGroupCount = lib.function("cudnnSetConvolutionGroupCount", FunctionDescriptor.of(INT, PTR, INT));
        setConvMathType = lib.function("cudnnSetConvolutionMathType", FunctionDescriptor.of(INT, PTR, INT));
        destroyConv = lib.function("cudnnDestroyConvolutionDescriptor", FunctionDescriptor.of(INT, PTR));
        convOutputDim = lib.function("cudnnGetConvolution2dForwardOutputDim", FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, PTR, PTR));
        algoMaxCount = lib.function("cudnnGetConvolutionForwardAlgorithmMaxCount", FunctionDescriptor.of(INT, PTR, PTR));
        findConvAlgoEx = lib.function("cudnnFindConvolutionForwardAlgorithmEx", FunctionDescriptor.of(INT,
                PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, PTR, PTR, PTR, SIZE_T));
        convWorkspaceSize = lib.function("cudnnGetConvolutionForwardWorkspaceSize", FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, INT, PTR));
        convForward = lib.function("cudnnConvolutionForward", FunctionDescriptor.of(INT,
                PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, PTR, SIZE_T, PTR, PTR, PTR));
        convBiasActivationForward = lib.function("cudnnConvolutionBiasActivationForward", FunctionDescriptor.of(INT,
                PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, PTR, SIZE_T, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR));
        createActivation = lib.function("cudnnCreateActivationDescriptor", FunctionDescriptor.of(INT, PTR));
        setActivation = lib.function("cudnnSetActivationDescriptor", FunctionDescriptor.of(INT, PTR, INT, INT, DOUBLE));
        destroyActivation = lib.function("cudnnDestroyActivationDescriptor", FunctionDescriptor.of(INT, PTR));
        activationForward = lib.function("cudnnActivationForward", FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR));
        createPooling = lib.function("cudnnCreatePoolingDescriptor", FunctionDescriptor.of(INT, PTR));
        setPooling2d = lib.function("cudnnSetPooling2dDescriptor", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT, INT, INT, INT));
        destroyPooling = lib.function("cudnnDestroyPoolingDescriptor", FunctionDescriptor.of(INT, PTR));
        poolingForward = lib.function("cudnnPoolingForward", FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR));
        createOpTensor = lib.function("cudnnCreateOpTensorDescriptor", FunctionDescriptor.of(INT, PTR));
        setOpTensor = lib.function("cudnnSetOpTensorDescriptor", FunctionDescriptor.of(INT, PTR, INT, INT, INT));
        destroyOpTensor = lib.function("cudnnDestroyOpTensorDescriptor", FunctionDescriptor.of(INT, PTR));
        opTensor = lib.function("cudnnOpTensor", FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR));
        addTensor = lib.function("cudnnAddTensor", FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, PTR, PTR));
        batchNormInference = lib.function("cudnnBatchNormalizationForwardInference", FunctionDescriptor.of(INT,
                PTR, INT, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, DOUBLE));
    }

    // ---- versions and errors ----

    /** cudnnGetVersion as "9.6.0" (cuDNN 9 encodes 10000*major + 100*minor + patch, cuDNN 8 1000*major + 100*minor + patch). */
    String version() {
        long v = rawVersion();
        return v >= 90000 ? v / 10000 + "." + v % 10000 / 100 + "." + v % 100 : v / 1000 + "." + v % 1000 / 100 + "." + v % 100;
    }

    long rawVersion() {
        try {
            return (long) getVersion.invokeExact();
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    /** The CUDA runtime version cuDNN was built for (cudnnGetCudartVersion, e.g. 13000). */
    int cudartVersion() {
        try {
            return (int) (long) getCudartVersion.invokeExact();
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    String statusText(int status) {
        String s;
        try {
            s = NativeLib.string((MemorySegment) getErrorString.invokeExact(status));
        } catch (Throwable t) {
            s = "cuDNN status " + status;
        }
        if (getLastErrorString != null) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(1024);
                getLastErrorString.invokeExact(buf, 1024L);
                String last = buf.getString(0);
                if (!last.isBlank()) s += " [" + last.strip() + "]";
            } catch (Throwable t) {
                // the status string alone will do
            }
        }
        return s;
    }

    void check(String call, int status) {
        if (status != 0) throw new CudaException(LIBRARY, call, status, statusText(status));
    }

    // ---- handle ----

    Owned createHandle() {
        MemorySegment h = newObject("cudnnCreate", create);
        return new Owned("cuDNN handle", h, p -> call("cudnnDestroy", destroy, p));
    }

    void setStream(MemorySegment handle, MemorySegment stream) {
        try {
            check("cudnnSetStream", (int) setStream.invokeExact(handle, stream));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    // ---- descriptors ----

    /** A float tensor descriptor of dims and strides (elements) as {@code l} says. */
    Owned tensor(TensorLayout l) {
        Owned d = new Owned("cuDNN tensor descriptor " + l, newObject("cudnnCreateTensorDescriptor", createTensor),
                p -> call("cudnnDestroyTensorDescriptor", destroyTensor, p));
        try {
            check("cudnnSetTensor4dDescriptorEx" + l, (int) setTensor4dEx.invokeExact(d.get(), DATA_FLOAT, l.n(), l.c(), l.h(), l.w(),
                    l.nStride(), l.cStride(), l.hStride(), l.wStride()));
            return d;
        } catch (Throwable t) {
            d.close();
            throw Cudart.rethrow(t);
        }
    }

    /** A float NCHW filter descriptor [k, c, h, w] (c = input channels per group). */
    Owned filter(int k, int c, int h, int w) {
        Owned d = new Owned("cuDNN filter descriptor", newObject("cudnnCreateFilterDescriptor", createFilter),
                p -> call("cudnnDestroyFilterDescriptor", destroyFilter, p));
        try {
            check("cudnnSetFilter4dDescriptor[" + k + "," + c + "," + h + "," + w + "]",
                    (int) setFilter4d.invokeExact(d.get(), DATA_FLOAT, TENSOR_NCHW, k, c, h, w));
            return d;
        } catch (Throwable t) {
            d.close();
            throw Cudart.rethrow(t);
        }
    }

    /** A cross-correlation (what every framework calls convolution), FP32 compute, FMA math, {@code groups} groups. */
    Owned convolution(ConvGeometry g) {
        Owned d = new Owned("cuDNN convolution descriptor", newObject("cudnnCreateConvolutionDescriptor", createConv),
                p -> call("cudnnDestroyConvolutionDescriptor", destroyConv, p));
        try {
            check("cudnnSetConvolution2dDescriptor" + g, (int) setConv2d.invokeExact(d.get(), g.padH(), g.padW(), g.strideH(), g.strideW(),
                    g.dilationH(), g.dilationW(), CROSS_CORRELATION, DATA_FLOAT));
            check("cudnnSetConvolutionGroupCount(" + g.groups() + ")", (int) setConvGroupCount.invokeExact(d.get(), g.groups()));
            check("cudnnSetConvolutionMathType(FMA)", (int) setConvMathType.invokeExact(d.get(), FMA_MATH));
            return d;
        } catch (Throwable t) {
            d.close();
            throw Cudart.rethrow(t);
        }
    }

    /** cuDNN's own output dims [n, c, h, w] for these descriptors (checked against the engine's shapes at plan time). */
    int[] convolutionOutputDim(MemorySegment conv, MemorySegment x, MemorySegment w) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(INT), c = a.allocate(INT), h = a.allocate(INT), ww = a.allocate(INT);
            check("cudnnGetConvolution2dForwardOutputDim", (int) convOutputDim.invokeExact(conv, x, w, n, c, h, ww));
            return new int[] {n.get(INT, 0), c.get(INT, 0), h.get(INT, 0), ww.get(INT, 0)};
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    Owned activation(int mode, double coef) {
        Owned d = new Owned("cuDNN activation descriptor", newObject("cudnnCreateActivationDescriptor", createActivation),
                p -> call("cudnnDestroyActivationDescriptor", destroyActivation, p));
        try {
            check("cudnnSetActivationDescriptor(" + mode + ")", (int) setActivation.invokeExact(d.get(), mode, PROPAGATE_NAN, coef));
            return d;
        } catch (Throwable t) {
            d.close();
            throw Cudart.rethrow(t);
        }
    }

    Owned pooling(int mode, int windowH, int windowW, int padH, int padW, int strideH, int strideW) {
        Owned d = new Owned("cuDNN pooling descriptor", newObject("cudnnCreatePoolingDescriptor", createPooling),
                p -> call("cudnnDestroyPoolingDescriptor", destroyPooling, p));
        try {
            check("cudnnSetPooling2dDescriptor(" + mode + ", " + windowH + "x" + windowW + ")", (int) setPooling2d.invokeExact(d.get(), mode, PROPAGATE_NAN,
                    windowH, windowW, padH, padW, strideH, strideW));
            return d;
        } catch (Throwable t) {
            d.close();
            throw Cudart.rethrow(t);
        }
    }

    Owned opTensor(int op) {
        Owned d = new Owned("cuDNN op-tensor descriptor", newObject("cudnnCreateOpTensorDescriptor", createOpTensor),
                p -> call("cudnnDestroyOpTensorDescriptor", destroyOpTensor, p));
        try {
            check("cudnnSetOpTensorDescriptor(" + op + ")", (int) setOpTensor.invokeExact(d.get(), op, DATA_FLOAT, PROPAGATE_NAN));
            return d;
        } catch (Throwable t) {
            d.close();
            throw Cudart.rethrow(t);
        }
    }

    // ---- algorithm choice ----

    int forwardAlgorithmMaxCount(MemorySegment handle) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(INT);
            check("cudnnGetConvolutionForwardAlgorithmMaxCount", (int) algoMaxCount.invokeExact(handle, n));
            return n.get(INT, 0);
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    /**
     * cudnnFindConvolutionForwardAlgorithmEx: times every algorithm on these buffers (their contents
     * are overwritten) with at most {@code workspaceBytes} of workspace; results fastest first.
     */
    List<ConvAlgo.Perf> findForwardAlgorithms(MemorySegment handle, MemorySegment xDesc, long x, MemorySegment wDesc, long w,
                                              MemorySegment conv, MemorySegment yDesc, long y, long workspace, long workspaceBytes) {
        int max = forwardAlgorithmMaxCount(handle);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(INT);
            MemorySegment perf = a.allocate(ALGO_PERF, max);
            check("cudnnFindConvolutionForwardAlgorithmEx", (int) findConvAlgoEx.invokeExact(handle, xDesc, MemorySegment.ofAddress(x), wDesc,
                    MemorySegment.ofAddress(w), conv, yDesc, MemorySegment.ofAddress(y), max, count, perf,
                    MemorySegment.ofAddress(workspace), workspaceBytes));
            List<ConvAlgo.Perf> out = new ArrayList<>();
            for (int i = 0; i < count.get(INT, 0); i++) {
                MemorySegment r = perf.asSlice(i * ALGO_PERF.byteSize(), ALGO_PERF.byteSize());
                out.add(new ConvAlgo.Perf(r.get(INT, 0), r.get(INT, 4), r.get(ValueLayout.JAVA_FLOAT, 8), r.get(SIZE_T, 16), r.get(INT, 28)));
            }
            return out;
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    long forwardWorkspaceSize(MemorySegment handle, MemorySegment xDesc, MemorySegment wDesc, MemorySegment conv, MemorySegment yDesc, int algo) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(SIZE_T);
            check("cudnnGetConvolutionForwardWorkspaceSize(algo " + algo + ")", (int) convWorkspaceSize.invokeExact(handle, xDesc, wDesc, conv, yDesc, algo, size));
            return size.get(SIZE_T, 0);
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    // ---- compute (all asynchronous on the handle's stream) ----

    void convolutionForward(String node, MemorySegment handle, MemorySegment alpha, MemorySegment xDesc, long x, MemorySegment wDesc, long w,
                            MemorySegment conv, int algo, long workspace, long workspaceBytes, MemorySegment beta, MemorySegment yDesc, long y) {
        try {
            check("cudnnConvolutionForward (node " + node + ", algo " + algo + ")", (int) convForward.invokeExact(handle, alpha, xDesc, MemorySegment.ofAddress(x),
                    wDesc, MemorySegment.ofAddress(w), conv, algo, MemorySegment.ofAddress(workspace), workspaceBytes, beta, yDesc, MemorySegment.ofAddress(y)));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    /** y = act(alpha1 * conv(x) + alpha2 * z + bias). */
    void convolutionBiasActivationForward(String node, MemorySegment handle, MemorySegment alpha1, MemorySegment xDesc, long x, MemorySegment wDesc, long w,
                                          MemorySegment conv, int algo, long workspace, long workspaceBytes, MemorySegment alpha2,
                                          MemorySegment zDesc, long z, MemorySegment biasDesc, long bias, MemorySegment act,
                                          MemorySegment yDesc, long y) {
        try {
            check("cudnnConvolutionBiasActivationForward (node " + node + ", algo " + algo + ")", (int) convBiasActivationForward.invokeExact(handle, alpha1,
                    xDesc, MemorySegment.ofAddress(x), wDesc, MemorySegment.ofAddress(w), conv, algo, MemorySegment.ofAddress(workspace), workspaceBytes,
                    alpha2, zDesc, MemorySegment.ofAddress(z), biasDesc, MemorySegment.ofAddress(bias), act, yDesc, MemorySegment.ofAddress(y)));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    void activationForward(String node, MemorySegment handle, MemorySegment act, MemorySegment alpha, MemorySegment xDesc, long x,
                           MemorySegment beta, MemorySegment yDesc, long y) {
        try {
            check("cudnnActivationForward (node " + node + ")", (int) activationForward.invokeExact(handle, act, alpha, xDesc, MemorySegment.ofAddress(x),
                    beta, yDesc, MemorySegment.ofAddress(y)));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    void poolingForward(String node, MemorySegment handle, MemorySegment pool, MemorySegment alpha, MemorySegment xDesc, long x,
                        MemorySegment beta, MemorySegment yDesc, long y) {
        try {
            check("cudnnPoolingForward (node " + node + ")", (int) poolingForward.invokeExact(handle, pool, alpha, xDesc, MemorySegment.ofAddress(x),
                    beta, yDesc, MemorySegment.ofAddress(y)));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    /** C = op(alpha1 * A, alpha2 * B) + beta * C, B broadcast over dims where it is 1. */
    void opTensor(String node, MemorySegment handle, MemorySegment op, MemorySegment alpha1, MemorySegment aDesc, long a,
                  MemorySegment alpha2, MemorySegment bDesc, long b, MemorySegment beta, MemorySegment cDesc, long c) {
        try {
            check("cudnnOpTensor (node " + node + ")", (int) opTensor.invokeExact(handle, op, alpha1, aDesc, MemorySegment.ofAddress(a),
                    alpha2, bDesc, MemorySegment.ofAddress(b), beta, cDesc, MemorySegment.ofAddress(c)));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    /** C = alpha * A + beta * C, A broadcast (a bias [1,C,1,1] over [N,C,H,W]). */
    void addTensor(String node, MemorySegment handle, MemorySegment alpha, MemorySegment aDesc, long a, MemorySegment beta, MemorySegment cDesc, long c) {
        try {
            check("cudnnAddTensor (node " + node + ")", (int) addTensor.invokeExact(handle, alpha, aDesc, MemorySegment.ofAddress(a), beta, cDesc,
                    MemorySegment.ofAddress(c)));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    /** Spatial batch norm with running statistics: y = gamma * (x - mean) / sqrt(var + eps) + beta. */
    void batchNormInference(String node, MemorySegment handle, MemorySegment alpha, MemorySegment beta, MemorySegment xDesc, long x,
                            MemorySegment yDesc, long y, MemorySegment paramDesc, long gamma, long shift, long mean, long var, double eps) {
        try {
            check("cudnnBatchNormalizationForwardInference (node " + node + ")", (int) batchNormInference.invokeExact(handle, BATCHNORM_SPATIAL, alpha, beta,
                    xDesc, MemorySegment.ofAddress(x), yDesc, MemorySegment.ofAddress(y), paramDesc, MemorySegment.ofAddress(gamma),
                    MemorySegment.ofAddress(shift), MemorySegment.ofAddress(mean), MemorySegment.ofAddress(var), eps));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    // ---- helpers ----

    private MemorySegment newObject(String call, MethodHandle creator) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(PTR);
            check(call, (int) creator.invokeExact(p));
            return p.get(PTR, 0);
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    private void call(String name, MethodHandle h, MemorySegment p) {
        try {
            check(name, (int) h.invokeExact(p));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }
}
