package org.deepfever.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Pickle opcodes assembled by hand (protocol 2, as torch.save writes), for broken and malicious checkpoints. */
final class Pickle {
    private final ByteArrayOutputStream b = new ByteArrayOutputStream();

    Pickle op(int... bytes) {
        for (int x : bytes) b.write(x);
        return this;
    }

    Pickle proto() { return op(0x80, 2); }

    Pickle str(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        op('X', u.length & 0xff, (u.length >> 8) & 0xff, 0, 0);
        b.writeBytes(u);
        return this;
    }

    Pickle global(String module, String name) {
        op('c');
        b.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    /** A non-negative integer as LONG1 (any size up to 8 bytes). */
    Pickle integer(long v) {
        byte[] le = new byte[9];
        int n = 0;
        do {
            le[n++] = (byte) v;
            v >>>= 8;
        } while (v != 0 || (le[n - 1] & 0x80) != 0);
        op(0x8a, n);
        b.write(le, 0, n);
        return this;
    }

    Pickle tuple(long[] v) {
        op('(');
        for (long x : v) integer(x);
        return op('t');
    }

    /** _rebuild_tensor_v2((storage pid), offset, size, stride, False, OrderedDict()). */
    Pickle tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").op('(');
        op('(').str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).op('t', 'Q');
        integer(offset).tuple(size).tuple(stride).op(0x89).global("collections", "OrderedDict").op(')', 'R', 't', 'R');
        return this;
    }

    byte[] bytes() { return b.toByteArray(); }

    /** {key: _rebuild_tensor_v2(storage data/0 of numel elements, offset, size, stride, ...)} in an OrderedDict. */
    static byte[] oneTensor(String key, String storageType, long numel, long offset, long[] size, long[] stride) {
        Pickle p = new Pickle().proto().global("collections", "OrderedDict").op(')', 'R', '(');
        p.str(key).tensor(storageType, "0", numel, offset, size, stride);
        return p.op('u', '.').bytes();
    }
}
