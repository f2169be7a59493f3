package org.deepfever.cuda;

import static org.deepfever.cuda.NativeLib.INT;
import static org.deepfever.cuda.NativeLib.PTR;
import static org.deepfever.cuda.NativeLib.SIZE_T;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The CUDA runtime calls the cuda device uses (libcudart.so.12 or .13), bound by hand: only these
 * functions, signatures as in cuda_runtime_api.h. Every call is checked; a failure throws a
 * {@link CudaException} with cudaGetErrorName and cudaGetErrorString of its status. Device pointers
 * are passed as plain addresses ({@code long}).
 */
final class Cudart {
    static final String LIBRARY = "CUDA runtime";
    static final int SUCCESS = 0;
    static final int MEMCPY_HOST_TO_DEVICE = 1, MEMCPY_DEVICE_TO_HOST = 2, MEMCPY_DEVICE_TO_DEVICE = 3;
    static final int STREAM_NON_BLOCKING = 1;
    static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75, ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    /**
     * struct cudaDeviceProp: char name[256] at offset 0, then cudaUUID_t (16), char luid[8], unsigned
     * luidDeviceNodeMask (4), padding to 8, size_t totalGlobalMem at 288: the same from CUDA 10 to 13.
     * The struct has grown at its end over versions (about 1 KiB in CUDA 12); 8 KiB leaves room.
     */
    static final long PROP_BYTES = 8192, PROP_TOTAL_GLOBAL_MEM = 288;

    final NativeLib lib;
    private final MethodHandle getErrorName, getErrorString, getDeviceCount, runtimeGetVersion, driverGetVersion,
            setDevice, getDeviceProperties, deviceGetAttribute, memGetInfo, malloc, free, hostAlloc, freeHost,
            memcpy, memcpyAsync, memcpy2DAsync, memsetAsync, streamCreateWithFlags, streamDestroy, streamSynchronize;

    Cudart(NativeLib lib) {
        this.lib = lib;
        getErrorName = lib.function("cudaGetErrorName", FunctionDescriptor.of(PTR, INT));
        getErrorString = lib.function("cudaGetErrorString", FunctionDescriptor.of(PTR, INT));
        getDeviceCount = lib.function("cudaGetDeviceCount", FunctionDescriptor.of(INT, PTR));
        runtimeGetVersion = lib.function("cudaRuntimeGetVersion", FunctionDescriptor.of(INT, PTR));
        driverGetVersion = lib.function("cudaDriverGetVersion", FunctionDescriptor.of(INT, PTR));
        setDevice = lib.function("cudaSetDevice", FunctionDescriptor.of(INT, INT));
        // CUDA 12 exports the current struct as cudaGetDeviceProperties_v2 (the header maps the name
        // to it); CUDA 13 has only cudaGetDeviceProperties. Only the fields at stable offsets are read.
        MethodHandle v2 = lib.optionalFunction("cudaGetDeviceProperties_v2", FunctionDescriptor.of(INT, PTR, INT));
        getDeviceProperties = v2 != null ? v2 : lib.function("cudaGetDeviceProperties", FunctionDescriptor.of(INT, PTR, INT));
        deviceGetAttribute = lib.function("cudaDeviceGetAttribute", FunctionDescriptor.of(INT, PTR, INT, INT));
        memGetInfo = lib.function("cudaMemGetInfo", FunctionDescriptor.of(INT, PTR, PTR));
        malloc = lib.function("cudaMalloc", FunctionDescriptor.of(INT, PTR, SIZE_T));
        free = lib.function("cudaFree", FunctionDescriptor.of(INT, PTR));
        hostAlloc = lib.function("cudaHostAlloc", FunctionDescriptor.of(INT, PTR, SIZE_T, INT));
        freeHost = lib.function("cudaFreeHost", FunctionDescriptor.of(INT, PTR));
        memcpy = lib.function("cudaMemcpy", FunctionDescriptor.of(INT, PTR, PTR, SIZE_T, INT));
        memcpyAsync = lib.function("cudaMemcpyAsync", FunctionDescriptor.of(INT, PTR, PTR, SIZE_T, INT, PTR));
        memcpy2DAsync = lib.function("cudaMemcpy2DAsync", FunctionDescriptor.of(INT, PTR, SIZE_T, PTR, SIZE_T, SIZE_T, SIZE_T, INT, PTR));
        memsetAsync = lib.function("cudaMemsetAsync", FunctionDescriptor.of(INT, PTR, INT, SIZE_T, PTR));
        streamCreateWithFlags = lib.function("cudaStreamCreateWithFlags", FunctionDescriptor.of(INT, PTR, INT));
        streamDestroy = lib.function("cudaStreamDestroy", FunctionDescriptor.of(INT, PTR));
        streamSynchronize = lib.function("cudaStreamSynchronize", FunctionDescriptor.of(INT, PTR));
    }

    /** "cudaErrorNoDevice: no CUDA-capable device is detected". */
    String errorText(int status) {
        try {
            return NativeLib.string((MemorySegment) getErrorName.invokeExact(status)) + ": "
                    + NativeLib.string((MemorySegment) getErrorString.invokeExact(status));
        } catch (Throwable t) {
            return "CUDA error " + status;
        }
    }

    /** Throws when {@code status} is not cudaSuccess. */
    void check(String call, int status) {
        if (status != SUCCESS) throw new CudaException(LIBRARY, call, status, errorText(status));
    }

    /** The status of cudaGetDeviceCount and the count (0 on error): probing, where an error is an answer. */
    int[] deviceCountStatus() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(INT);
            int s = (int) getDeviceCount.invokeExact(n);
            return new int[] {s, s == SUCCESS ? n.get(INT, 0) : 0};
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** cudaRuntimeGetVersion: 1000 * major + 10 * minor (13000 for 13.0). */
    int runtimeVersion() { return intOut("cudaRuntimeGetVersion", runtimeGetVersion); }

    /** cudaDriverGetVersion: the CUDA version the driver supports, 0 when no driver is installed. */
    int driverVersion() { return intOut("cudaDriverGetVersion", driverGetVersion); }

    void setDevice(int device) {
        try {
            check("cudaSetDevice(" + device + ")", (int) setDevice.invokeExact(device));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The device's name and total memory from cudaGetDeviceProperties. */
    DeviceProps properties(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(PROP_BYTES, 8);
            check("cudaGetDeviceProperties(" + device + ")", (int) getDeviceProperties.invokeExact(p, device));
            return new DeviceProps(p.getString(0), p.get(ValueLayout.JAVA_LONG, PROP_TOTAL_GLOBAL_MEM));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Name and total global memory of one device. */
    record DeviceProps(String name, long totalMemory) {}

    int attribute(int attribute, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(INT);
            check("cudaDeviceGetAttribute(" + attribute + ", " + device + ")", (int) deviceGetAttribute.invokeExact(v, attribute, device));
            return v.get(INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {free, total} bytes of the current device (cudaMemGetInfo). */
    long[] memInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(SIZE_T), t = a.allocate(SIZE_T);
            check("cudaMemGetInfo", (int) memGetInfo.invokeExact(f, t));
            return new long[] {f.get(SIZE_T, 0), t.get(SIZE_T, 0)};
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** cudaMalloc: device memory, 256-byte aligned. */
    long malloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(PTR);
            check("cudaMalloc(" + bytes + " bytes)", (int) malloc.invokeExact(p, bytes));
            return p.get(PTR, 0).address();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void free(long devicePtr) {
        try {
            check("cudaFree", (int) free.invokeExact(MemorySegment.ofAddress(devicePtr)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** cudaHostAlloc: page-locked host memory, as a segment of {@code bytes}. */
    MemorySegment hostAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(PTR);
            check("cudaHostAlloc(" + bytes + " bytes)", (int) hostAlloc.invokeExact(p, bytes, 0));
            return p.get(PTR, 0).reinterpret(bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void freeHost(MemorySegment host) {
        try {
            check("cudaFreeHost", (int) freeHost.invokeExact(host));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Synchronous copy (weights at load time), addresses host or device as {@code kind} says. */
    void memcpy(long dst, long src, long bytes, int kind) {
        try {
            check("cudaMemcpy(" + bytes + " bytes)", (int) memcpy.invokeExact(MemorySegment.ofAddress(dst), MemorySegment.ofAddress(src), bytes, kind));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void memcpyAsync(long dst, long src, long bytes, int kind, MemorySegment stream) {
        try {
            check("cudaMemcpyAsync(" + bytes + " bytes)", (int) memcpyAsync.invokeExact(MemorySegment.ofAddress(dst), MemorySegment.ofAddress(src), bytes, kind, stream));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code rows} rows of {@code rowBytes} each, from pitch {@code srcPitch} to pitch {@code dstPitch} (channel slices). */
    void memcpy2DAsync(long dst, long dstPitch, long src, long srcPitch, long rowBytes, long rows, int kind, MemorySegment stream) {
        try {
            check("cudaMemcpy2DAsync(" + rows + " rows of " + rowBytes + " bytes)", (int) memcpy2DAsync.invokeExact(MemorySegment.ofAddress(dst), dstPitch,
                    MemorySegment.ofAddress(src), srcPitch, rowBytes, rows, kind, stream));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void memsetAsync(long dst, int value, long bytes, MemorySegment stream) {
        try {
            check("cudaMemsetAsync(" + bytes + " bytes)", (int) memsetAsync.invokeExact(MemorySegment.ofAddress(dst), value, bytes, stream));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A non-blocking stream (does not synchronise with the legacy default stream). */
    MemorySegment streamCreate() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(PTR);
            check("cudaStreamCreateWithFlags", (int) streamCreateWithFlags.invokeExact(p, STREAM_NON_BLOCKING));
            return p.get(PTR, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void streamDestroy(MemorySegment stream) {
        try {
            check("cudaStreamDestroy", (int) streamDestroy.invokeExact(stream));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Waits for everything queued on {@code stream}; errors of earlier asynchronous work surface here. */
    void streamSynchronize(MemorySegment stream) {
        try {
            check("cudaStreamSynchronize", (int) streamSynchronize.invokeExact(stream));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private int intOut(String call, MethodHandle h) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(INT);
            check(call, (int) h.invokeExact(v));
            return v.get(INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Lets CudaException and other unchecked exceptions through; wraps what a downcall cannot really throw. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) throw r;
        if (t instanceof Error e) throw e;
        throw new IllegalStateException(t);
    }

    /** "13.0" from 13000. */
    static String version(int v) { return v / 1000 + "." + (v % 1000) / 10; }
}
