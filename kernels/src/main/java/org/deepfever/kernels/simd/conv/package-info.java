/**
 * The SIMD convolution kernels, one job per file. Start at {@link org.deepfever.kernels.simd.conv.ConvPlan}:
 * every choice (algorithm, orientation, panel, register tile, input staging, epilogue, split) is made
 * there, and {@code fever info --kernels} prints it per layer.
 * <ul>
 *   <li>{@code Convs}: the entry point (which kernel a conv gets; plan-only kernels; descriptions).</li>
 *   <li>{@code ConvPlan}: the plan record and every rule that fills it; {@code ConvSpec}: a conv's geometry;
 *   {@code CallGeometry}: one call's tensors.</li>
 *   <li>{@code ConvKernel}: the direct conv, running a plan through {@code PixelVectorConv} (GEMM, vectors
 *   along pixels) or {@code ChannelVectorConv} (implicit GEMM, vectors along output channels).</li>
 *   <li>{@code WeightPacking}: weights into the panels the tiles read; {@code InputStaging} and
 *   {@code SourceGeometry}: im2col, padded copies, per-K offsets; {@code Epilogues}: tile buffer to output.</li>
 *   <li>{@code ChannelTiles}, {@code PixelTiles}: the register tiles, generated at build time by
 *   {@code kernels/src/generator/TileGenerator.java} (see target/generated-sources/tiles).</li>
 *   <li>{@code WinogradConv} and {@code WinogradTransforms}: F(2x2, 3x3) for 3x3 stride-1 convs.</li>
 * </ul>
 * Tunables live in {@link org.deepfever.kernels.simd.KernelConfig}, nowhere else.
 */
package org.deepfever.kernels.simd.conv;
