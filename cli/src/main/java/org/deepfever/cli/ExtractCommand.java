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
import org.deepfever.kernels.simd.KernelConfig;
import org.deepfever.cli.output.CsvSink;
import org.deepfever.cli.output.JsonlSink;
import org.deepfever.cli.output.NpySink;
import org.deepfever.cli.output.PartFile;
import org.deepfever.cli.output.ResultSink;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fever extract}: images in, one result per face out, in input order. Images are decoded and
 * searched for faces on worker threads ahead of the network, which runs full batches as they come
 * (in a long run, one single-threaded batch per thread at once: {@link #lanes}), while a writer
 * thread writes results in input order ({@link ExtractPipeline}); decoding starts
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

    @Option(names = "--out", paramLabel = "PATH", description = "Write to PATH instead of stdout; required for npy. "
            + "PATH appears when the run is complete; until then the results go to PATH.part.")
    Path out;

    @Option(names = "--resume", description = "Continue the run that left PATH.part (interrupted or killed): images already "
            + "in it are skipped, and the finished file equals an uninterrupted run's. Give the same inputs and options. "
            + "jsonl and csv only.")
    boolean resume;

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
        if (resume && out == null) throw new IllegalArgumentException("--resume needs --out FILE, the output of the run to continue");
        if (resume && format == Format.npy) throw new IllegalArgumentException("--resume works with --format jsonl or csv (npy is written whole at the end)");
        List<InputWalker.Input> images = InputWalker.expand(inputs);
        if (images.isEmpty()) {
            System.err.println("fever: no images found in " + inputs);
            return FeverCommand.EXIT_INPUT_FAILED;
        }
        ResumePoint at = ResumePoint.START;
        if (resume) {
            at = ResumePoint.find(out, format == Format.csv, images, batch);
            if (at == null) return FeverCommand.EXIT_OK;
        }
        // the workers start decoding now; the model loads meanwhile on this thread
        CompletableFuture<FaceAnalyzer> analyzer = new CompletableFuture<>();
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = model.options().threads(); // --threads, checked, or all cores
        int workers = Math.max(1, Math.min(threads, cores));
        int lanes = lanes(threads, batch, images.size(), model.device); // all images, so that a resumed run batches as the first did
        if (shortRun(images.size(), model.device)) KernelConfig.preferScalarForShortRun(); // before the model's kernels exist
        try (ExtractPipeline pipeline = new ExtractPipeline(images, at.firstImage(), new FacePreparer(analyzer)::prepare, workers,
                Math.max(2 * batch, 16), lanes)) {
            FaceModel m;
            try {
                m = lanes > 1 ? model.load(1) : model.load();
            } catch (RuntimeException | Error e) {
                analyzer.completeExceptionally(e);
                throw e;
            }
            try (m; ResultSink sink = sink(m, at)) {
                analyzer.complete(new FaceAnalyzer(m, detect));
                if (m.note() != null) System.err.println("fever: WARNING: " + m.note());
                Summary summary = new Summary(images.size() - at.firstWrite());
                Interrupt interrupt = Interrupt.onSignal(pipeline::stop);
                int written;
                try (interrupt) {
                    written = pipeline.run(m, batch, at.skipFaces(), at.firstWrite(), (p, results) -> write(sink, summary, p, results));
                } catch (IOException | RuntimeException e) {
                    if (out != null && format != Format.npy) {
                        System.err.println("fever: the results written so far are in " + PartFile.partOf(out) + "; run the same command with --resume to continue");
                    }
                    throw e;
                }
                if (interrupt.received() && at.firstWrite() + written < images.size()) { // a signal after the last write changes nothing
                    summary.finish();
                    System.err.println("fever: interrupted: " + (at.firstWrite() + written) + " of " + images.size() + " images written"
                            + (out == null ? " (the output above is incomplete)"
                                    : " to " + PartFile.partOf(out) + "; to continue, run the same command with --resume"));
                    return FeverCommand.EXIT_INTERRUPTED;
                }
                sink.finish();
                summary.finish();
                return summary.failed() > 0 ? FeverCommand.EXIT_INPUT_FAILED : FeverCommand.EXIT_OK;
            }
        } finally {
            analyzer.cancel(false); // a worker still waiting gives up (a no-op once completed)
        }
    }

    /** Runs of at most this many images take the scalar kernels (see {@link #shortRun}). */
    static final int SHORT_RUN_MAX_IMAGES = 8;

    /**
     * Whether a run is short enough for the scalar kernels ({@link KernelConfig#preferScalarForShortRun}):
     * on the CPU, at most {@link #SHORT_RUN_MAX_IMAGES} images (all of them, so that a resumed run
     * computes as the first did). Full-size DeepFEVER on crops, AMD EPYC (Zen 5), 2 threads, whole
     * command: 2 crops 1.31 against 2.36 s, 4: 1.61 against 2.73 s, 8: 2.17 against 3.49 s, 16: 3.17
     * against 3.05 s; the built-in face-expression model on the three samples: 1.09-1.11 against
     * 2.61-2.72 s.
     */
    static boolean shortRun(int images, String device) {
        return (device == null || device.equalsIgnoreCase("cpu")) && images <= SHORT_RUN_MAX_IMAGES;
    }

    /**
     * How many batches the network runs at once, each on one thread. A batch split across threads
     * waits at each of the network's ~150 parallel loops for the slowest thread, and two threads
     * share two cores with the decoders; batches side by side do not wait for each other
     * (DeepFEVER full size, batch 8, Zen 5, two cores: ~160 faces/s against ~125-150 for one
     * batch on two threads; docs/cold-start.md). So a run with a batch per thread at least eight times
     * over runs {@code threads} single-threaded batches at once; a shorter run (where the first
     * result's latency is what counts) splits each batch across the threads. A GPU runs one batch
     * at a time.
     */
    static int lanes(int threads, int batch, int images, String device) {
        boolean cpu = device == null || device.equalsIgnoreCase("cpu");
        return cpu && threads > 1 && images >= 8L * threads * batch ? threads : 1;
    }

    private ResultSink sink(FaceModel m, ResumePoint at) throws IOException {
        int featureLength = m.output().featureLength();
        if (at.featureLength() >= 0 && at.featureLength() != featureLength) {
            throw new IllegalArgumentException(PartFile.partOf(out) + " was written with " + at.featureLength()
                    + " features per face, this model gives " + featureLength + ": resume with the same --model, or run without --resume");
        }
        if (format == Format.npy) return new NpySink(out);
        PartFile file = out == null ? null : at.continues() ? PartFile.resume(out, at.keepBytes()) : PartFile.create(out);
        try {
            return switch (format) {
                case jsonl -> new JsonlSink(file, m.note());
                case csv -> new CsvSink(file, featureLength, at.keepBytes() == 0);
                case npy -> throw new AssertionError();
            };
        } catch (IOException | RuntimeException e) {
            if (file != null) file.close();
            throw e;
        }
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
