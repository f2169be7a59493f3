package org.deepfever.cuda;

import java.util.List;

/**
 * Plain copies on the stream: Flatten, Reshape and Identity (a new buffer with the same bytes), and
 * the inputs of a concat that could not be written in place (a graph input, a value copied back to
 * the host, one already placed in another concat) into their channel slices.
 */
final class CopyStep extends Step {
    /** One copy: from {@code src} to {@code dst}. */
    record Part(TensorLayout dst, TensorLayout src) {
        Part {
            if (!Step.copyable(dst, src)) throw new IllegalArgumentException("cannot copy " + src + " to " + dst);
        }
    }

    private final List<Part> parts;

    /** @throws IllegalArgumentException when a part's layouts cannot be copied image by image or as one block */
    CopyStep(String node, List<Part> parts) {
        super(node);
        this.parts = List.copyOf(parts);
    }

    List<Part> parts() { return parts; }

    @Override
    void enqueue(Exec e) {
        for (Part p : parts) copy(e, p.dst(), p.dst().address(e.arena()), p.src(), p.src().address(e.arena()));
    }
}
