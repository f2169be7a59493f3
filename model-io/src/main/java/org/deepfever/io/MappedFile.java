package org.deepfever.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A whole file mapped read-only into an arena, with bounds-checked reads that name the file. */
final class MappedFile {
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final Path path;
    final MemorySegment seg;

    private MappedFile(Path path, MemorySegment seg) {
        this.path = path;
        this.seg = seg;
    }

    /** Maps {@code path} into {@code arena}; an empty file maps to an empty segment. */
    static MappedFile map(Path path, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.ofArray(new byte[0]) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new MappedFile(path, seg);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null, "no such file");
        }
    }

    long size() { return seg.byteSize(); }

    ModelFormatException error(String tensor, String detail) { return new ModelFormatException(path, tensor, detail); }

    ModelFormatException error(String detail) { return new ModelFormatException(path, null, detail); }

    /** The slice [offset, offset+length), or an error naming the file, tensor and what was being read. */
    MemorySegment slice(long offset, long length, String tensor, String what) throws ModelFormatException {
        if (offset < 0 || length < 0 || offset > size() || length > size() - offset) {
            throw error(tensor, what + " at bytes [" + offset + ", " + (offset + length) + ") lies outside the file of " + size() + " bytes (truncated?)");
        }
        return seg.asSlice(offset, length);
    }

    /** Closes the arena, swallowing nothing: used on the error path of readers. */
    static void closeQuietly(Arena arena) {
        try { arena.close(); } catch (RuntimeException ignored) { /* already closed */ }
    }
}
