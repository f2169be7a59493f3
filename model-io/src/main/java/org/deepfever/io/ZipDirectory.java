package org.deepfever.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The central directory of a zip file, read over its mapping (zip64 included). Stored entries are
 * returned as slices of the mapping; deflated ones are inflated into heap segments.
 */
final class ZipDirectory {
    private static final int EOCD = 0x06054b50, EOCD64 = 0x06064b50, EOCD64_LOCATOR = 0x07064b50;
    private static final int CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
    /** Largest entry inflated into memory (heap arrays are limited to 2 GB). */
    private static final long MAX_INFLATED = Integer.MAX_VALUE - 16;
    /** Deflate's largest expansion: one 3-bit block header and a 258-byte match per 2 bits, about 1032:1. */
    private static final long MAX_DEFLATE_RATIO = 1032;

    /** One entry: compression method, sizes, and where its local header starts. */
    record Entry(String name, int method, int flags, long compressedSize, long size, long localOffset) {}

    private final MappedFile f;
    private final Map<String, Entry> entries;

    private ZipDirectory(MappedFile f, Map<String, Entry> entries) {
        this.f = f;
        this.entries = entries;
    }

    Map<String, Entry> entries() { return entries; }

    Entry get(String name) { return entries.get(name); }

    private static int u16(MemorySegment s, long off) { return s.get(MappedFile.LE_SHORT, off) & 0xffff; }

    private static long u32(MemorySegment s, long off) { return s.get(MappedFile.LE_INT, off) & 0xffffffffL; }

    static ZipDirectory read(MappedFile f) throws ModelFormatException {
        MemorySegment s = f.seg;
        long size = f.size();
        if (size < 22) throw f.error("zip file of " + size + " bytes is truncated (no end-of-central-directory record)");
        long eocd = -1;
        for (long p = size - 22, stop = Math.max(0, size - 22 - 65535); p >= stop; p--) {
            if (s.get(MappedFile.LE_INT, p) == EOCD && p + 22 + u16(s, p + 20) == size) { eocd = p; break; }
        }
        if (eocd < 0) {
            throw f.error("zip end-of-central-directory record not found at the end of the " + size + "-byte file: the file is truncated (or not a zip archive)");
        }
        long count = u16(s, eocd + 10);
        long cdSize = u32(s, eocd + 12);
        long cdOffset = u32(s, eocd + 16);
        if (count == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) {
            long loc = eocd - 20;
            if (loc < 0 || s.get(MappedFile.LE_INT, loc) != EOCD64_LOCATOR) throw f.error("zip64 end-of-central-directory locator missing");
            long e64 = s.get(MappedFile.LE_LONG, loc + 8);
            if (e64 < 0 || e64 > size - 56 || s.get(MappedFile.LE_INT, e64) != EOCD64) throw f.error("zip64 end-of-central-directory record missing or out of range");
            count = s.get(MappedFile.LE_LONG, e64 + 32);
            cdSize = s.get(MappedFile.LE_LONG, e64 + 40);
            cdOffset = s.get(MappedFile.LE_LONG, e64 + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > size || cdSize > size - cdOffset) {
            throw f.error("zip central directory [" + cdOffset + ", +" + cdSize + ") lies outside the file of " + size + " bytes (truncated?)");
        }
        Map<String, Entry> map = new LinkedHashMap<>();
        long p = cdOffset, end = cdOffset + cdSize;
        for (long i = 0; i < count; i++) {
            if (p + 46 > end || s.get(MappedFile.LE_INT, p) != CENTRAL) throw f.error("zip central directory entry " + i + " is corrupt");
            int flags = u16(s, p + 8);
            int method = u16(s, p + 10);
            long csize = u32(s, p + 20);
            long usize = u32(s, p + 24);
            int nameLen = u16(s, p + 28), extraLen = u16(s, p + 30), commentLen = u16(s, p + 32);
            long local = u32(s, p + 42);
            if (p + 46 + nameLen + extraLen + commentLen > end) throw f.error("zip central directory entry " + i + " is corrupt");
            String name = new String(s.asSlice(p + 46, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            // zip64 extended information: 64-bit values for the fields that hold 0xffffffff.
            long x = p + 46 + nameLen, xend = x + extraLen;
            while (x + 4 <= xend) {
                int id = u16(s, x), len = u16(s, x + 2);
                if (x + 4 + len > xend) break;
                if (id == 0x0001) {
                    long q = x + 4, qend = q + len;
                    if (usize == 0xffffffffL && q + 8 <= qend) { usize = s.get(MappedFile.LE_LONG, q); q += 8; }
                    if (csize == 0xffffffffL && q + 8 <= qend) { csize = s.get(MappedFile.LE_LONG, q); q += 8; }
                    if (local == 0xffffffffL && q + 8 <= qend) { local = s.get(MappedFile.LE_LONG, q); }
                }
                x += 4 + len;
            }
            if (map.put(name, new Entry(name, method, flags, csize, usize, local)) != null) throw f.error("zip holds entry '" + name + "' twice");
            p += 46 + nameLen + extraLen + commentLen;
        }
        return new ZipDirectory(f, Collections.unmodifiableMap(map));
    }

    /** The entry's uncompressed bytes: a slice of the mapping when stored, a heap segment when deflated. */
    MemorySegment data(Entry e, String tensor) throws ModelFormatException {
        MemorySegment s = f.seg;
        long size = f.size();
        if ((e.flags & 1) != 0) throw f.error(tensor, "zip entry '" + e.name + "' is encrypted");
        if (e.localOffset < 0 || e.localOffset > size - 30 || s.get(MappedFile.LE_INT, e.localOffset) != LOCAL) {
            throw f.error(tensor, "zip entry '" + e.name + "': local header at " + e.localOffset + " is missing or outside the file (truncated?)");
        }
        long start = e.localOffset + 30 + u16(s, e.localOffset + 26) + u16(s, e.localOffset + 28);
        if (e.compressedSize < 0 || start > size || e.compressedSize > size - start) {
            throw f.error(tensor, "zip entry '" + e.name + "': " + e.compressedSize + " bytes at offset " + start + " run past the end of the file of " + size + " bytes (truncated?)");
        }
        MemorySegment raw = s.asSlice(start, e.compressedSize);
        if (e.method == 0) {
            if (e.size != e.compressedSize) throw f.error(tensor, "stored zip entry '" + e.name + "' has mismatched sizes " + e.compressedSize + " and " + e.size);
            return raw;
        }
        if (e.method != 8) throw f.error(tensor, "zip entry '" + e.name + "' uses unsupported compression method " + e.method);
        if (e.size < 0 || e.size > MAX_INFLATED) throw f.error(tensor, "deflated zip entry '" + e.name + "' is too large to inflate (" + e.size + " bytes)");
        // The output buffer is sized by the declared size: refuse a size these compressed bytes cannot produce.
        if (e.size > e.compressedSize * MAX_DEFLATE_RATIO + 64) {
            throw f.error(tensor, "deflated zip entry '" + e.name + "' claims " + e.size + " bytes from " + e.compressedSize
                    + " compressed ones, more than deflate can produce (at most " + MAX_DEFLATE_RATIO + ":1); the file is corrupt");
        }
        byte[] out = new byte[(int) e.size];
        Inflater inf = new Inflater(true);
        try {
            inf.setInput(raw.asByteBuffer());
            int n = 0;
            while (n < out.length && !inf.finished()) {
                int k = inf.inflate(out, n, out.length - n);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) break;
                n += k;
            }
            if (n != out.length) throw f.error(tensor, "deflated zip entry '" + e.name + "' inflates to " + n + " bytes, not " + e.size + " (truncated or corrupt)");
            if (!inf.finished()) {
                // Expect the stream to end exactly here.
                int extra = inf.inflate(ByteBuffer.allocate(1));
                if (extra > 0 || !inf.finished()) throw f.error(tensor, "deflated zip entry '" + e.name + "' holds more than its declared " + e.size + " bytes");
            }
        } catch (DataFormatException ex) {
            throw new ModelFormatException(f.path, tensor, "deflated zip entry '" + e.name + "' is corrupt: " + ex.getMessage(), ex);
        } finally {
            inf.end();
        }
        return MemorySegment.ofArray(out);
    }
}
