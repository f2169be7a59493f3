package org.deepfever.bench;

import java.lang.management.ManagementFactory;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * Bytes of live objects on the Java heap, as {@code jcmd PID GC.class_histogram} counts them (a full
 * collection, then a walk of the heap), less the collector's filler objects. Why not the heap's
 * "used" after {@code System.gc()}: the Parallel collector leaves dead objects in place in a dense
 * prefix of the old generation (as filler arrays), so "used" after a full GC drifts upward without
 * any live object added (measured: +1 KB per inference of a model that holds nothing more).
 */
final class LiveHeap {
    /** A histogram row: rank, instances, bytes, class name. */
    private static final Pattern ROW = Pattern.compile("(?m)^\\s*\\d+:\\s+\\d+\\s+(\\d+)\\s+(\\S+)");

    private LiveHeap() {}

    /**
     * Live bytes now (after a full collection).
     *
     * @throws IllegalStateException when the histogram cannot be taken or read
     */
    static long bytes() {
        String text;
        try {
            text = String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "gcClassHistogram", new Object[] {new String[0]}, new String[] {String[].class.getName()}));
        } catch (JMException e) {
            throw new IllegalStateException("cannot run GC.class_histogram through the DiagnosticCommand MBean: " + e, e);
        }
        long bytes = 0;
        int rows = 0;
        Matcher m = ROW.matcher(text);
        while (m.find()) {
            rows++;
            // dead space the collector left in place, not objects
            if (!m.group(2).contains("jdk.internal.vm.Filler")) bytes += Long.parseLong(m.group(1));
        }
        if (rows == 0) throw new IllegalStateException("unexpected GC.class_histogram output: " + text.substring(0, Math.min(300, text.length())));
        return bytes;
    }
}
