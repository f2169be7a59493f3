package org.deepfever.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Everything one model's runs share on its GPU: the device index, one stream, a cuDNN and a cuBLAS
 * handle bound to that stream (cuBLAS in FP32 math, cuDNN convolutions in FMA math: no TF32), and
 * the host scalars 0 and 1 that cuDNN's alpha/beta arguments point to. Closing destroys the
 * handles and the stream.
 */
final class CudaContext implements AutoCloseable {
    final CudaLibraries libs;
    final Cudart cuda;
    final Cudnn dnn;
    final Cublas blas;
    final int device;
    private final Owned stream;
    private final Owned cudnnHandle;
    private final Owned cublasHandle;
    private final Arena scalars = Arena.ofShared();
    /** Host floats for alpha/beta arguments. */
    final MemorySegment zero, one;

    /** Creates the stream and handles on {@code device}. @throws CudaException when a call fails (what was made is released) */
    CudaContext(CudaLibraries libs, int device) {
        this.libs = libs;
        this.cuda = libs.cudart;
        this.dnn = libs.cudnn;
        this.blas = libs.cublas;
        this.device = device;
        this.zero = scalar(0f);
        this.one = scalar(1f);
        Owned s = null, d = null, b = null;
        try {
            cuda.setDevice(device);
            MemorySegment st = cuda.streamCreate();
            s = new Owned("CUDA stream", st, cuda::streamDestroy);
            d = dnn.createHandle();
            dnn.setStream(d.get(), st);
            MemorySegment bh = blas.create();
            b = new Owned("cuBLAS handle", bh, blas::destroy);
            blas.setStream(bh, st);
            blas.setMathMode(bh, Cublas.DEFAULT_MATH);
        } catch (RuntimeException e) {
            Closer.closeAll(e, b, d, s);
            scalars.close();
            throw e;
        }
        this.stream = s;
        this.cudnnHandle = d;
        this.cublasHandle = b;
    }

    /** A host float that lives as long as this context (alpha and beta arguments, a residual scale). */
    MemorySegment scalar(float v) {
        MemorySegment m = scalars.allocate(ValueLayout.JAVA_FLOAT);
        m.set(ValueLayout.JAVA_FLOAT, 0, v);
        return m;
    }

    MemorySegment stream() { return stream.get(); }
    MemorySegment cudnn() { return cudnnHandle.get(); }
    MemorySegment cublas() { return cublasHandle.get(); }

    /** Makes this context's GPU current on the calling thread (the runtime's current device is per thread). */
    void bind() { cuda.setDevice(device); }

    /** Waits for the stream: the one synchronisation of a run. */
    void synchronize() { cuda.streamSynchronize(stream.get()); }

    @Override
    public void close() {
        try {
            Closer.closeAll(null, cublasHandle, cudnnHandle, stream);
        } finally {
            scalars.close();
        }
    }
}
