package org.deepfever.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restricted reader for the pickles inside torch checkpoints (data.pkl). It knows only the
 * opcodes that state dicts use and a fixed whitelist of globals; it never loads classes or runs
 * code: whitelisted callables are interpreted by this class, anything else is refused with an
 * error naming the global. Values become plain Java data: String, Long, BigInteger, Double,
 * Boolean, null, byte[], {@link Tuple}, {@code ArrayList}, {@code LinkedHashMap} (dict and
 * OrderedDict), {@link Global}, {@link StorageRef} and {@link TensorRef}.
 */
final class RestrictedUnpickler {
    /** A whitelisted global such as torch.FloatStorage. */
    record Global(String module, String name) {
        String qualified() { return module + "." + name; }
    }

    /** An immutable Python tuple. */
    record Tuple(List<Object> items) {
        Object get(int i) { return items.get(i); }

        int size() { return items.size(); }
    }

    /** A storage named by a persistent id: data/KEY in the archive, with its element type and count. */
    record StorageRef(Floats.DType type, String typeName, String key, long numel) {}

    /** A tensor rebuilt by torch._utils._rebuild_tensor(_v2): a strided view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    /** torch storage classes: the element type each stands for. */
    private static final Map<String, Floats.DType> STORAGES = Map.ofEntries(
            Map.entry("FloatStorage", Floats.DType.F32), Map.entry("HalfStorage", Floats.DType.F16),
            Map.entry("BFloat16Storage", Floats.DType.BF16), Map.entry("DoubleStorage", Floats.DType.F64),
            Map.entry("LongStorage", Floats.DType.I64), Map.entry("IntStorage", Floats.DType.I32),
            Map.entry("ShortStorage", Floats.DType.I16), Map.entry("CharStorage", Floats.DType.I8),
            Map.entry("ByteStorage", Floats.DType.U8), Map.entry("BoolStorage", Floats.DType.BOOL));

    private static final Set<String> CALLABLES = Set.of(
            "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state");

    private static final Object MARK = new Object();
    private static final int MAX_NAME = 256;

    private final MappedFile file;
    private final MemorySegment data;
    /** The pickle copied onto the heap (it is small): byte reads from an array, not through the mapping. */
    private final byte[] buf;
    private long pos;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final HashMap<Long, Object> memo = new HashMap<>();

    private RestrictedUnpickler(MappedFile file, MemorySegment data) {
        this.file = file;
        this.data = data;
        this.buf = data.byteSize() <= Integer.MAX_VALUE - 16 ? data.toArray(ValueLayout.JAVA_BYTE) : null;
    }

    private int byteAt(long i) {
        return (buf != null ? buf[(int) i] : data.get(ValueLayout.JAVA_BYTE, i)) & 0xff;
    }

    /** Reads one pickle from {@code data}; errors name {@code file}. */
    static Object load(MappedFile file, MemorySegment data) throws ModelFormatException {
        try {
            return new RestrictedUnpickler(file, data).run();
        } catch (StackOverflowError e) {
            throw file.error("data.pkl is nested too deeply");
        }
    }

    private ModelFormatException err(String detail) {
        return file.error("data.pkl at byte " + pos + ": " + detail);
    }

    private int u8() throws ModelFormatException {
        need(1);
        return byteAt(pos++);
    }

    private void need(long n) throws ModelFormatException {
        if (n < 0 || n > data.byteSize() - pos) throw err("pickle truncated (needs " + n + " more bytes)");
    }

    private long le(int n) throws ModelFormatException {
        need(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | byteAt(pos + i);
        pos += n;
        return v;
    }

    private byte[] bytes(long n) throws ModelFormatException {
        need(n);
        byte[] b = buf != null ? java.util.Arrays.copyOfRange(buf, (int) pos, (int) (pos + n)) : data.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        return b;
    }

    private String line() throws ModelFormatException {
        StringBuilder b = new StringBuilder();
        while (true) {
            int c = u8();
            if (c == '\n') return b.toString();
            if (b.length() >= MAX_NAME) throw err("GLOBAL name longer than " + MAX_NAME + " bytes");
            b.append((char) c);
        }
    }

    private Object pop() throws ModelFormatException {
        if (stack.isEmpty() || (!marks.isEmpty() && stack.size() <= marks.getLast())) throw err("stack underflow");
        return stack.removeLast();
    }

    private static Tuple tuple(Object... items) {
        return new Tuple(Collections.unmodifiableList(Arrays.asList(items)));
    }

    private Object top() throws ModelFormatException {
        if (stack.isEmpty() || (!marks.isEmpty() && stack.size() <= marks.getLast())) throw err("stack underflow");
        return stack.getLast();
    }

    /** Pops everything above the topmost MARK, and the mark. */
    private List<Object> popMark() throws ModelFormatException {
        if (marks.isEmpty()) throw err("no MARK on the stack");
        int m = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(m, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private void put(long index) throws ModelFormatException {
        memo.put(index, top());
    }

    private Object get(long index) throws ModelFormatException {
        if (!memo.containsKey(index)) throw err("memo index " + index + " was never stored");
        return memo.get(index);
    }

    private Object run() throws ModelFormatException {
        while (true) {
            long at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8();
                    if (v > 5) throw err("unsupported pickle protocol " + v);
                }
                case 0x95 -> le(8); // FRAME: framing is transparent here
                case '.' -> { // STOP
                    Object result = pop();
                    if (!stack.isEmpty() || !marks.isEmpty()) throw err("STOP with items left on the stack");
                    return result;
                }
                case '(' -> marks.add(stack.size()); // MARK
                case '}' -> stack.add(new LinkedHashMap<>()); // EMPTY_DICT
                case ']' -> stack.add(new ArrayList<>()); // EMPTY_LIST
                case ')' -> stack.add(new Tuple(List.of())); // EMPTY_TUPLE
                case 'N' -> stack.add(null); // NONE
                case 0x88 -> stack.add(Boolean.TRUE); // NEWTRUE
                case 0x89 -> stack.add(Boolean.FALSE); // NEWFALSE
                case 'J' -> stack.add((long) (int) le(4)); // BININT
                case 'K' -> stack.add((long) u8()); // BININT1
                case 'M' -> stack.add(le(2)); // BININT2
                case 0x8a -> stack.add(longN(u8())); // LONG1
                case 0x8b -> { // LONG4
                    long n = (int) le(4);
                    if (n < 0) throw err("negative LONG4 length");
                    stack.add(longN(n));
                }
                case 'G' -> { // BINFLOAT: big-endian double
                    need(8);
                    stack.add(data.get(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), pos));
                    pos += 8;
                }
                case 'X' -> stack.add(utf8(le(4))); // BINUNICODE
                case 0x8c -> stack.add(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> stack.add(utf8(le(8))); // BINUNICODE8
                case 'C' -> stack.add(bytes(u8())); // SHORT_BINBYTES
                case 'B' -> stack.add(bytes(le(4))); // BINBYTES
                case 'q' -> put(u8()); // BINPUT
                case 'r' -> put(le(4)); // LONG_BINPUT
                case 0x94 -> put(memo.size()); // MEMOIZE
                case 'h' -> stack.add(get(u8())); // BINGET
                case 'j' -> stack.add(get(le(4))); // LONG_BINGET
                case 'c' -> { // GLOBAL
                    String module = line();
                    String name = line();
                    stack.add(global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) throw err("STACK_GLOBAL needs two strings");
                    stack.add(global(m, n));
                }
                case 't' -> stack.add(new Tuple(Collections.unmodifiableList(popMark()))); // TUPLE
                case 0x85 -> stack.add(tuple(pop())); // TUPLE1
                case 0x86 -> { // TUPLE2
                    Object b = pop(), a = pop();
                    stack.add(tuple(a, b));
                }
                case 0x87 -> { // TUPLE3
                    Object c = pop(), b = pop(), a = pop();
                    stack.add(tuple(a, b, c));
                }
                case 'a' -> { // APPEND
                    Object v = pop();
                    list(top()).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    list(top()).addAll(items);
                }
                case 's' -> { // SETITEM
                    Object v = pop(), k = pop();
                    putOnce(dict(top()), key(k), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) throw err("SETITEMS with an odd number of items");
                    Map<Object, Object> d = dict(top());
                    for (int i = 0; i < items.size(); i += 2) putOnce(d, key(items.get(i)), items.get(i + 1));
                }
                case 'Q' -> stack.add(persistentLoad(pop())); // BINPERSID
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object fn = pop();
                    stack.add(reduce(fn, args));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args); only OrderedDict
                    Object args = pop();
                    Object cls = pop();
                    if (!(cls instanceof Global g) || !g.qualified().equals("collections.OrderedDict")) throw err("NEWOBJ of " + describe(cls) + " is not allowed");
                    stack.add(new LinkedHashMap<>());
                }
                case 'b' -> { // BUILD: only OrderedDict (its _metadata) and tensors; the state is ignored
                    pop();
                    Object obj = top();
                    if (!(obj instanceof Map) && !(obj instanceof TensorRef)) throw err("BUILD on " + describe(obj) + " is not allowed");
                }
                default -> {
                    pos = at;
                    throw err(String.format("unsupported pickle opcode 0x%02x", op));
                }
            }
        }
    }

    private Object global(String module, String name) throws ModelFormatException {
        String q = module + "." + name;
        if (CALLABLES.contains(q) || (module.equals("torch") && STORAGES.containsKey(name))) return new Global(module, name);
        throw file.error("refusing pickle global " + q + ": only state-dict types are allowed");
    }

    private Object longN(long n) throws ModelFormatException {
        if (n > 64) throw err("LONG of " + n + " bytes is too large");
        byte[] le = bytes(n);
        if (n == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String utf8(long n) throws ModelFormatException {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) throws ModelFormatException {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw err("APPEND to " + describe(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) throws ModelFormatException {
        if (o instanceof LinkedHashMap<?, ?> m) return (Map<Object, Object>) m;
        throw err("SETITEM on " + describe(o));
    }

    /**
     * Sets a dict entry; a key set twice is refused. Python's pickler writes each key of a dict
     * once, so a repeated key (which Python would silently overwrite) means a hand-made file, where
     * e.g. a second 'fc.weight' could hide behind the first.
     */
    private void putOnce(Map<Object, Object> d, Object k, Object v) throws ModelFormatException {
        if (d.containsKey(k)) throw err("dict key " + describe(k) + " is set twice");
        d.put(k, v);
    }

    /** Dict keys must be hashable scalars or (shallow) tuples of them, as in Python. */
    private Object key(Object k) throws ModelFormatException {
        if (hashable(k, 0)) return k;
        throw err("unhashable dict key " + describe(k));
    }

    private static boolean hashable(Object k, int depth) {
        if (k == null || k instanceof String || k instanceof Long || k instanceof BigInteger || k instanceof Double || k instanceof Boolean) return true;
        if (k instanceof Tuple t && depth < 8) {
            for (Object o : t.items) if (!hashable(o, depth + 1)) return false;
            return true;
        }
        return false;
    }

    /** torch: ('storage', storage type, key, location, numel). */
    private Object persistentLoad(Object pid) throws ModelFormatException {
        if (!(pid instanceof Tuple t) || t.size() < 5 || !"storage".equals(t.get(0))) throw err("unsupported persistent id " + describe(pid));
        if (!(t.get(1) instanceof Global g) || !g.module().equals("torch") || !STORAGES.containsKey(g.name())) throw err("persistent id storage type " + describe(t.get(1)) + " is not a torch storage class");
        if (!(t.get(2) instanceof String key)) throw err("persistent id storage key is not a string");
        if (!(t.get(4) instanceof Long numel) || numel < 0) throw err("persistent id storage size is not a non-negative integer");
        return new StorageRef(STORAGES.get(g.name()), g.name(), key, numel);
    }

    private Object reduce(Object fn, Object args) throws ModelFormatException {
        if (!(fn instanceof Global g)) throw err("REDUCE on " + describe(fn) + ", not a whitelisted global");
        if (!(args instanceof Tuple a)) throw err("REDUCE arguments are not a tuple");
        switch (g.qualified()) {
            case "collections.OrderedDict" -> {
                if (a.size() != 0) throw err("OrderedDict with arguments is not supported");
                return new LinkedHashMap<>();
            }
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
                if (a.size() < 4) throw err(g.name() + " needs at least 4 arguments");
                if (!(a.get(0) instanceof StorageRef s)) throw err(g.name() + ": first argument is not a storage");
                if (!(a.get(1) instanceof Long offset) || offset < 0) throw err(g.name() + ": storage offset is not a non-negative integer");
                long[] size = longs(a.get(2), g.name() + " size");
                long[] stride = longs(a.get(3), g.name() + " stride");
                if (size.length != stride.length) throw err(g.name() + ": size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride) + " differ in rank");
                return new TensorRef(s, offset, size, stride);
            }
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                if (a.size() < 1 || !(a.get(0) instanceof TensorRef t)) throw err(g.name() + ": first argument is not a tensor");
                return t;
            }
            default -> throw err(g.qualified() + " is not callable");
        }
    }

    private long[] longs(Object o, String what) throws ModelFormatException {
        if (!(o instanceof Tuple t)) throw err(what + " is not a tuple");
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.get(i) instanceof Long v) || v < 0) throw err(what + " holds " + describe(t.get(i)) + ", not a non-negative integer");
            out[i] = v;
        }
        return out;
    }

    /** A short description that never walks (possibly cyclic) containers. */
    private static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof Global g) return g.qualified();
        if (o instanceof String s) return "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
        if (o instanceof Long || o instanceof Boolean || o instanceof Double) return o.toString();
        if (o instanceof Tuple t) return "a tuple of " + t.size();
        if (o instanceof List<?> l) return "a list of " + l.size();
        if (o instanceof Map<?, ?>) return "a dict";
        return o.getClass().getSimpleName();
    }
}
