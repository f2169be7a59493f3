package org.deepfever.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceResult;
import org.deepfever.cli.output.FaceBox;
import org.deepfever.faces.FaceAnalyzer;
import org.deepfever.cli.output.CsvSink;
import org.deepfever.cli.output.JsonlSink;
import org.deepfever.cli.output.NpySink;
import org.deepfever.cli.output.ResultSink;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fever extract}: images in, one result per face out, in input order. Images are decoded and
 * searched for faces on worker threads ahead of the network, which runs full batches as they come,
 * while a writer thread writes results in input order ({@link ExtractPipeline}); decoding starts
 * while the model loads. A bad image is reported and the run goes on.
 */
@Command(name = "extract", mixinStandardHelpOptions = true,
        description = {"Extract expression features and scores from the faces in images.",
                "An image of exactly the model's input size (112x112 for face-expression, 140x140 for DeepFEVER) is taken as a "
                        + "face crop (--detect auto); otherwise faces are found with OpenCV's LBP frontal-face cascade and each is "
                        + "cropped and prepared as the model was trained."})
final class ExtractCommand implements Callable<Integer> {
    enum Format { jsonl, csv, npy }

    @Mixin ModelOption model;

    @Option(names = "--format", paramLabel = "FMT", description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Format format = Format.jsonl;

    @Option(names = "--out", paramLabel = "PATH", description = "Write to PATH (atomically) instead of stdout; required for npy.")
    Path out;

    @Option(names = "--batch", paramLabel = "N", description = "Faces per network run (default: ${DEFAULT-VALUE}).")
    int batch = 8;

    @Option(names = "--detect", paramLabel = "MODE", description = "Face detection: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). "
            + "AUTO: detect unless the image is a crop of the model's input size; ALWAYS: detect in every image; "
            + "NEVER: the whole image is the face.", converter = DetectConverter.class)
    FaceAnalyzer.Detect detect = FaceAnalyzer.Detect.AUTO;

    /** Accepts the modes in any case ({@code auto}, {@code AUTO}). */
    static final class DetectConverter implements picocli.CommandLine.ITypeConverter<FaceAnalyzer.Detect> {
        @Override
        public FaceAnalyzer.Detect convert(String value) {
            return FaceAnalyzer.Detect.valueOf(value.toUpperCase(java.util.Locale.ROOT));
        }
    }

    @Parameters(paramLabel = "INPUT", arity = "1..*", description = "Image files or directories (walked recursively, sorted).")
    List<String> inputs;

    @Override
    public Integer call() throws IOException {
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        if (format == Format.npy && out == null) throw new IllegalArgumentException("--format npy needs --out FILE.npy");
        List<InputWalker.Input> images = InputWalker.expand(inputs);
        if (images.isEmpty()) {
            System.err.println("fever: no images found in " + inputs);
            return FeverCommand.EXIT_INPUT_FAILED;
        }
        // the workers start decoding now; the model loads meanwhile on this thread
        CompletableFuture<FaceAnalyzer> analyzer = new CompletableFuture<>();
        int cores = Runtime.getRuntime().availableProcessors();
        int workers = Math.max(1, Math.min(model.threads != null ? model.threads : cores, cores));
        try (ExtractPipeline pipeline = new ExtractPipeline(images, new FacePreparer(analyzer)::prepare, workers, Math.max(2 * batch, 16))) {
            FaceModel m;
            try {
                m = model.load();
            } catch (RuntimeException | Error e) {
                analyzer.completeExceptionally(e);
                throw e;
            }
            try (m; ResultSink sink = sink(m)) {
                analyzer.complete(new FaceAnalyzer(m, detect));
                if (m.note() != null) System.err.println("fever: WARNING: " + m.note());
                Summary summary = new Summary(images.size());
                pipeline.run(m, batch, (p, results) -> write(sink, summary, p, results));
                sink.finish();
                summary.finish();
                return summary.failed() > 0 ? FeverCommand.EXIT_INPUT_FAILED : FeverCommand.EXIT_OK;
            }
        } finally {
            analyzer.cancel(false); // a worker still waiting gives up (a no-op once completed)
        }
    }

    private ResultSink sink(FaceModel m) throws IOException {
        return switch (format) {
            case jsonl -> new JsonlSink(out, m.note());
            case csv -> new CsvSink(out, m.output().featureLength());
            case npy -> new NpySink(out);
        };
    }

    /** One image's outcome: its error, "no face", or one record per face. */
    private static void write(ResultSink sink, Summary summary, FacePreparer.Prepared p, List<FaceResult> results) throws IOException {
        if (p.error() != null) {
            sink.error(p.input().display(), p.error());
            System.err.println("fever: " + p.input().display() + ": " + p.error());
            summary.failed(p.input().display());
        } else if (p.faces().isEmpty()) {
            sink.noFace(p.input().display());
            summary.image(0);
        } else {
            for (int i = 0; i < results.size(); i++) sink.face(p.input().display(), box(p.faces().get(i).box()), results.get(i));
            summary.image(p.faces().size());
        }
    }

    private static FaceBox box(org.deepfever.faces.detect.FaceBox b) {
        return b == null ? null : new FaceBox(b.x(), b.y(), b.size(), b.size());
    }
}
