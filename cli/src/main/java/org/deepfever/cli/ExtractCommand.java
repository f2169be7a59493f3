package org.deepfever.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
 * searched for faces on a few threads while the network runs batches; a bad image is reported and
 * the run goes on.
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
        try (FaceModel m = model.load(); ResultSink sink = sink(m)) {
            if (m.note() != null) System.err.println("fever: WARNING: " + m.note());
            Summary summary = new Summary(images.size());
            run(m, images, sink, summary);
            sink.finish();
            summary.finish();
            return summary.failed() > 0 ? FeverCommand.EXIT_INPUT_FAILED : FeverCommand.EXIT_OK;
        }
    }

    private ResultSink sink(FaceModel m) throws IOException {
        return switch (format) {
            case jsonl -> new JsonlSink(out, m.note());
            case csv -> new CsvSink(out, m.output().featureLength());
            case npy -> new NpySink(out);
        };
    }

    /**
     * Works through the images in windows: a window is decoded and searched for faces in parallel,
     * its faces run through the network in batches, then its results are written in input order.
     */
    private void run(FaceModel m, List<InputWalker.Input> images, ResultSink sink, Summary summary) throws IOException {
        FacePreparer preparer = new FacePreparer(new FaceAnalyzer(m, detect));
        int window = Math.max(batch, 16);
        int workers = Math.max(1, Math.min(m.threads(), Runtime.getRuntime().availableProcessors()));
        ExecutorService decode = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "fever-decode");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int start = 0; start < images.size(); start += window) {
                List<Future<FacePreparer.Prepared>> futures = new ArrayList<>();
                for (InputWalker.Input in : images.subList(start, Math.min(images.size(), start + window))) {
                    futures.add(decode.submit(() -> preparer.prepare(in)));
                }
                List<FacePreparer.Prepared> prepared = new ArrayList<>();
                for (Future<FacePreparer.Prepared> f : futures) prepared.add(join(f));
                List<float[]> faces = new ArrayList<>();
                for (FacePreparer.Prepared p : prepared) for (FaceAnalyzer.PreparedFace f : p.faces()) faces.add(f.input());
                List<FaceResult> results = new ArrayList<>(faces.size());
                for (int b = 0; b < faces.size(); b += batch) {
                    results.addAll(m.extract(faces.subList(b, Math.min(faces.size(), b + batch))));
                }
                int next = 0;
                for (FacePreparer.Prepared p : prepared) {
                    if (p.error() != null) {
                        sink.error(p.input().display(), p.error());
                        System.err.println("fever: " + p.input().display() + ": " + p.error());
                        summary.failed(p.input().display());
                    } else if (p.faces().isEmpty()) {
                        sink.noFace(p.input().display());
                        summary.image(0);
                    } else {
                        for (FaceAnalyzer.PreparedFace f : p.faces()) sink.face(p.input().display(), box(f.box()), results.get(next++));
                        summary.image(p.faces().size());
                    }
                }
            }
        } finally {
            decode.shutdownNow();
        }
    }

    private static FaceBox box(org.deepfever.faces.detect.FaceBox b) {
        return b == null ? null : new FaceBox(b.x(), b.y(), b.size(), b.size());
    }

    private static FacePreparer.Prepared join(Future<FacePreparer.Prepared> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
