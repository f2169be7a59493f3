package org.deepfever.cuda;

import static org.deepfever.cuda.NativeLib.INT;
import static org.deepfever.cuda.NativeLib.PTR;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The cuBLAS calls the cuda device uses (libcublas.so.12 or .13; signatures as in cublas_api.h):
 * handle, stream, math mode and SGEMM. Every call is checked; errors carry cublasGetStatusString.
 */
final class Cublas {
    static final String LIBRARY = "cuBLAS";
    static final int OP_N = 0, OP_T = 1;
    /** FP32 arithmetic throughout; no TF32 (CUBLAS_TF32_TENSOR_OP_MATH would be 3). */
    static final int DEFAULT_MATH = 0;
    private static final int MAJOR_VERSION = 0, MINOR_VERSION = 1, PATCH_LEVEL = 2;

    final NativeLib lib;
    private final MethodHandle create, destroy, setStream, setMathMode, sgemm, getProperty, statusString;

    Cublas(NativeLib lib) {
        this.lib = lib;
        create = lib.function("cublasCreate_v2", FunctionDescriptor.of(INT, PTR));
        destroy = lib.function("cublasDestroy_v2", FunctionDescriptor.of(INT, PTR));
        setStream = lib.function("cublasSetStream_v2", FunctionDescriptor.of(INT, PTR, PTR));
        setMathMode = lib.function("cublasSetMathMode", FunctionDescriptor.of(INT, PTR, INT));
        sgemm = lib.function("cublasSgemm_v2", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT,
                PTR, PTR, INT, PTR, INT, PTR, PTR, INT));
        getProperty = lib.function("cublasGetProperty", FunctionDescriptor.of(INT, INT, PTR));
        statusString = lib.optionalFunction("cublasGetStatusString", FunctionDescriptor.of(PTR, INT));
    }

    String statusText(int status) {
        if (statusString != null) {
            try {
                return NativeLib.string((MemorySegment) statusString.invokeExact(status));
            } catch (Throwable t) {
                // fall through to the number
            }
        }
        return "cuBLAS status " + status;
    }

    void check(String call, int status) {
        if (status != 0) throw new CudaException(LIBRARY, call, status, statusText(status));
    }

    /** "13.1.0" from cublasGetProperty. */
    String version() {
        return property(MAJOR_VERSION) + "." + property(MINOR_VERSION) + "." + property(PATCH_LEVEL);
    }

    private int property(int which) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(INT);
            check("cublasGetProperty(" + which + ")", (int) getProperty.invokeExact(which, v));
            return v.get(INT, 0);
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    MemorySegment create() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(PTR);
            check("cublasCreate", (int) create.invokeExact(p));
            return p.get(PTR, 0);
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    void destroy(MemorySegment handle) {
        try {
            check("cublasDestroy", (int) destroy.invokeExact(handle));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    void setStream(MemorySegment handle, MemorySegment stream) {
        try {
            check("cublasSetStream", (int) setStream.invokeExact(handle, stream));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    void setMathMode(MemorySegment handle, int mode) {
        try {
            check("cublasSetMathMode(" + mode + ")", (int) setMathMode.invokeExact(handle, mode));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }

    /** Column-major C = alpha op(A) op(B) + beta C, alpha and beta host floats (the default pointer mode). */
    void sgemm(MemorySegment handle, int transA, int transB, int m, int n, int k, MemorySegment alpha, long a, int lda,
               long b, int ldb, MemorySegment beta, long c, int ldc) {
        try {
            check("cublasSgemm(m=" + m + ", n=" + n + ", k=" + k + ")", (int) sgemm.invokeExact(handle, transA, transB, m, n, k, alpha,
                    MemorySegment.ofAddress(a), lda, MemorySegment.ofAddress(b), ldb, beta, MemorySegment.ofAddress(c), ldc));
        } catch (Throwable t) {
            throw Cudart.rethrow(t);
        }
    }
}
