package org.deepfever.cuda;

/** Closes several resources in the order given, all of them even when some fail. */
final class Closer {
    private Closer() {}

    /**
     * Closes each non-null resource. With {@code primary} (an error already under way) every failure
     * is added to it as suppressed and nothing is thrown; without, the first failure is thrown after
     * all are closed, later ones suppressed in it.
     */
    static void closeAll(Throwable primary, AutoCloseable... resources) {
        RuntimeException first = null;
        for (AutoCloseable r : resources) {
            if (r == null) continue;
            try {
                r.close();
            } catch (Exception e) {
                if (primary != null) primary.addSuppressed(e);
                else if (first == null) first = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }
}
