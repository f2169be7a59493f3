package org.deepfever.core.exec;

import java.util.ArrayList;
import java.util.List;

/**
 * First-fit placement of buffers in one arena: each buffer, largest first, goes at the lowest offset
 * where it overlaps no buffer already placed whose lifetime overlaps its own. Shared by the CPU
 * executor's plan and the GPU's buffer plan, so both pack the same way.
 */
public final class IntervalPacking {
    private IntervalPacking() {}

    /**
     * Offsets for buffers given in placement order.
     *
     * @param order indices of the buffers to place, in the order to place them (largest first)
     * @param size  each buffer's size (any unit), by index
     * @param first the first step that uses each buffer, by index
     * @param last  the last step that uses each buffer, by index
     * @param offset receives each placed buffer's offset, by index
     * @return the arena size: the highest end of any placed buffer
     */
    public static long place(List<Integer> order, long[] size, int[] first, int[] last, long[] offset) {
        List<long[]> placed = new ArrayList<>(); // {offset, size, first, last}
        long peak = 0;
        for (int v : order) {
            long at = 0;
            boolean moved = true;
            while (moved) {
                moved = false;
                for (long[] p : placed) {
                    boolean timeOverlap = p[2] <= last[v] && first[v] <= p[3];
                    boolean spaceOverlap = p[0] < at + size[v] && at < p[0] + p[1];
                    if (timeOverlap && spaceOverlap) {
                        at = p[0] + p[1];
                        moved = true;
                    }
                }
            }
            placed.add(new long[] {at, size[v], first[v], last[v]});
            offset[v] = at;
            peak = Math.max(peak, at + size[v]);
        }
        return peak;
    }
}
