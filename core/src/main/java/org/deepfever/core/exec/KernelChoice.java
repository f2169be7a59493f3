package org.deepfever.core.exec;

import org.deepfever.core.Shape;

/**
 * What runs one node of a planned graph: its backend, the layouts of its first input and its output
 * as planned, and the kernel's own description of its choices ({@link
 * org.deepfever.core.backend.Kernel#describe}; null when it gives none).
 *
 * @param node    the node's name
 * @param op      the op's kind, e.g. "Conv2d"
 * @param backend the backend's name, e.g. "simd"
 * @param input   the shape of the node's first input
 * @param output  the shape of its output
 * @param layout  first input's and output's layouts, e.g. "NCHW->NHWC"; "view" for a concat elided into its inputs' buffer
 * @param kernel  the kernel's description, or null
 */
public record KernelChoice(String node, String op, String backend, Shape input, Shape output, String layout, String kernel) {}
