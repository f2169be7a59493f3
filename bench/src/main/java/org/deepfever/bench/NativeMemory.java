package org.deepfever.bench;

import java.lang.management.ManagementFactory;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * This JVM's native memory as its Native Memory Tracking reports it: the summary that
 * {@code jcmd PID VM.native_memory summary} prints, read in-process through the DiagnosticCommand
 * MBean. Needs the JVM started with {@code -XX:NativeMemoryTracking=summary}.
 *
 * @param totalCommittedKb all memory the JVM has committed, heap included
 * @param mallocKb         what it holds from malloc (native allocations by the JVM and by JDK code)
 * @param committedKb      committed KB per NMT category ("Java Heap", "Class", "Thread", "Code",
 *                         "Other", ...), in the report's order
 */
public record NativeMemory(long totalCommittedKb, long mallocKb, Map<String, Long> committedKb) {
    private static final Pattern TOTAL = Pattern.compile("(?m)^Total: reserved=\\d+KB, committed=(\\d+)KB");
    private static final Pattern MALLOC = Pattern.compile("(?m)^\\s+malloc: (\\d+)KB");
    private static final Pattern CATEGORY = Pattern.compile("(?m)^-\\s+(.+?) \\(reserved=\\d+KB, committed=(\\d+)KB\\)");

    /**
     * Categories whose size follows the collector's sizing and the JIT's work, not what the
     * program holds: the heap, the collector's own structures (they grow and shrink with the heap),
     * compiled code, the compilers and the arenas they allocate from.
     */
    public static final List<String> GC_AND_JIT = List.of("Java Heap", "GC", "GCCardSet", "Code", "Compiler", "Arena Chunk");

    /** Committed KB outside the Java heap (the heap is measured apart, after a GC). */
    public long nonHeapCommittedKb() {
        return totalCommittedKb - committedKb("Java Heap");
    }

    /**
     * Committed KB outside {@link #GC_AND_JIT}: where a native leak of the program shows (threads'
     * stacks, direct buffers and off-heap arenas in "Other", classes, symbols, JDK internals),
     * without the collector's and the JIT's swings of a few MB between two samples.
     */
    public long steadyCommittedKb() {
        long kb = totalCommittedKb;
        for (String c : GC_AND_JIT) kb -= committedKb(c);
        return kb;
    }

    /** Committed KB of one category, 0 when the report omits it (it weighs under 1 KB). */
    public long committedKb(String category) {
        return committedKb.getOrDefault(category, 0L);
    }

    /** Whether this JVM tracks its native memory ({@code -XX:NativeMemoryTracking=summary} or {@code detail}). */
    public static boolean tracked() {
        return !report().contains("not enabled");
    }

    /**
     * The current summary.
     *
     * @throws IllegalStateException when the JVM does not track native memory, or the report is not
     *         in the form this reader knows (the message quotes its start)
     */
    public static NativeMemory now() {
        String text = report();
        if (text.contains("not enabled")) {
            throw new IllegalStateException("native memory tracking is off: start the JVM with -XX:NativeMemoryTracking=summary");
        }
        Matcher total = TOTAL.matcher(text), malloc = MALLOC.matcher(text);
        if (!total.find() || !malloc.find()) {
            throw new IllegalStateException("unexpected VM.native_memory summary: " + text.substring(0, Math.min(300, text.length())));
        }
        Map<String, Long> categories = new LinkedHashMap<>();
        Matcher m = CATEGORY.matcher(text);
        while (m.find()) categories.put(m.group(1).trim(), Long.parseLong(m.group(2)));
        return new NativeMemory(Long.parseLong(total.group(1)), Long.parseLong(malloc.group(1)), Collections.unmodifiableMap(categories));
    }

    /** The text of {@code VM.native_memory summary}, scale KB. */
    private static String report() {
        try {
            Object out = ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "vmNativeMemory", new Object[] {new String[] {"summary", "scale=KB"}}, new String[] {String[].class.getName()});
            return String.valueOf(out);
        } catch (JMException e) {
            throw new IllegalStateException("cannot run VM.native_memory through the DiagnosticCommand MBean: " + e, e);
        }
    }
}
