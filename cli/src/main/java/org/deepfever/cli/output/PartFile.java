package org.deepfever.cli.output;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An output file written through its {@code .part} sibling ({@code out.jsonl} through
 * {@code out.jsonl.part}) and renamed into place by {@link #commit}: the target is complete or
 * absent, also when the JVM is killed. A run that does not commit (an interruption, a failed write,
 * a kill) leaves the {@code .part} file, which {@code fever extract --resume} continues. While a run
 * writes it, the {@code .part} file is locked, so a second run on the same output fails at once.
 */
public final class PartFile implements AutoCloseable {
    private final Path target;
    private final Path part;
    private final FileChannel channel;
    private final OutputStream out;
    private boolean committed;
    private boolean closed;

    private PartFile(Path target, boolean resume, long keepBytes) throws IOException {
        this.target = target.toAbsolutePath();
        this.part = partOf(this.target);
        Path dir = this.target.getParent();
        if (dir != null) Files.createDirectories(dir);
        this.channel = resume
                ? FileChannel.open(part, StandardOpenOption.WRITE)
                : FileChannel.open(part, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        try {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) throw new IOException(part + " is being written by another fever run");
            if (resume && keepBytes > channel.size()) {
                throw new IOException(part + " is shorter (" + channel.size() + " bytes) than the " + keepBytes + " bytes to keep");
            }
            channel.truncate(resume ? keepBytes : 0);
            channel.position(resume ? keepBytes : 0);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
    }

    /**
     * Starts {@code target}'s {@code .part} file afresh (an earlier one is emptied).
     *
     * @throws IOException if the folder or the file cannot be made, or another run holds its lock
     */
    public static PartFile create(Path target) throws IOException {
        return new PartFile(target, false, 0);
    }

    /**
     * Continues {@code target}'s existing {@code .part} file after its first {@code keepBytes} bytes
     * (what follows them is cut off).
     *
     * @throws IOException if the file is missing or shorter than {@code keepBytes}, or another run holds its lock
     */
    public static PartFile resume(Path target, long keepBytes) throws IOException {
        return new PartFile(target, true, keepBytes);
    }

    /** The {@code .part} sibling through which {@code target} is written. */
    public static Path partOf(Path target) {
        return target.resolveSibling(target.getFileName() + ".part");
    }

    /** The file being written (the {@code .part} file). */
    public Path part() { return part; }

    /** Where the bytes go; buffered, flushed by the sinks after each record. */
    public OutputStream stream() { return out; }

    /**
     * Flushes and closes the {@code .part} file and renames it to the target (atomically where the
     * file system can), replacing any earlier file.
     *
     * @throws IOException if the data cannot be written or the rename fails (the {@code .part} file stays)
     */
    public void commit() throws IOException {
        close();
        AtomicFile.moveInto(part, target);
        committed = true;
    }

    /** Whether {@link #commit} succeeded. */
    public boolean committed() { return committed; }

    /** Flushes and closes the {@code .part} file; without a commit it stays for a later {@code --resume}. */
    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        try (channel) {
            out.flush();
        }
    }
}
