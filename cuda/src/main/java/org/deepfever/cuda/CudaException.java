package org.deepfever.cuda;

/**
 * A CUDA, cuBLAS or cuDNN call that returned an error status. The message names the call, the
 * library's own words for the status (cudaGetErrorName/cudaGetErrorString, cublasGetStatusString,
 * cudnnGetErrorString) and the numeric status.
 */
public final class CudaException extends IllegalStateException {
    private final String library;
    private final String call;
    private final int status;

    CudaException(String library, String call, int status, String statusText) {
        super(call + " failed: " + statusText + " (" + library + " status " + status + ")");
        this.library = library;
        this.call = call;
        this.status = status;
    }

    /** "CUDA runtime", "cuBLAS" or "cuDNN". */
    public String library() { return library; }

    /** The function that failed, with the arguments that identify it where useful. */
    public String call() { return call; }

    /** The status the call returned. */
    public int status() { return status; }
}
