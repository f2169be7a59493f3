package org.deepfever.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deepfever.cli.output.PartFile;
import org.deepfever.cli.output.WrittenRecords;

/**
 * Where a resumed {@code fever extract} run picks up an interrupted one, so that the finished file
 * equals an uninterrupted run's byte for byte.
 *
 * <p>Whole records of the {@code .part} file are kept except the last image's (more faces of it may
 * have been coming). The network's results depend, in the last bits, on which faces share a batch
 * (the kernels choose tiles by batch size), and an uninterrupted run batches faces in input order
 * from the first one. So the resumed run starts feeding the network at the start of the batch that
 * holds the first face not kept: from image {@code firstImage}, skipping its first
 * {@code skipFaces} faces (they belong to the batch before), and writes from image
 * {@code firstWrite} on. This holds for the same inputs, model, {@code --batch} and {@code --detect}.
 *
 * @param keepBytes  bytes of the {@code .part} file kept; 0 starts the file over (csv: with its header)
 * @param firstImage the first input the network sees again
 * @param skipFaces  faces of {@code firstImage} not run again (their batch is complete in the file)
 * @param firstWrite the first input whose results are written
 * @param featureLength the feature length the file was written with, or -1 when unknown
 * @param continues  whether a {@code .part} file is continued (false: a run from the first image)
 */
record ResumePoint(long keepBytes, int firstImage, int skipFaces, int firstWrite, int featureLength, boolean continues) {
    /** A run from the first image into a new file. */
    static final ResumePoint START = new ResumePoint(0, 0, 0, 0, -1, false);

    /**
     * Where {@code --resume} continues the run whose output is {@code out}: from its {@code .part}
     * file; from the first image when there is none; null when {@code out} is complete and there is
     * nothing to do. Says which on stderr.
     *
     * @throws IOException if the {@code .part} file cannot be read, is not this command's output, or
     *                     names images that are not among the inputs
     */
    static ResumePoint find(Path out, boolean csv, List<InputWalker.Input> inputs, int batch) throws IOException {
        Path part = PartFile.partOf(out);
        if (!Files.exists(part)) {
            if (Files.exists(out)) {
                System.err.println("fever: " + out + " is complete (there is no " + part.getFileName() + " to continue): nothing to do");
                return null;
            }
            System.err.println("fever: there is no " + part + " to continue: starting from the first image");
            return START;
        }
        ResumePoint at = of(part, csv ? WrittenRecords.csv(part) : WrittenRecords.jsonl(part), inputs, batch);
        System.err.println("fever: continuing " + part + ": " + at.firstWrite() + " of " + inputs.size() + " images were written");
        return at;
    }

    /**
     * The resume point for {@code written}, a {@code .part} file's records, and this run's inputs.
     *
     * @param part   the file, for messages
     * @param inputs this run's inputs, in output order
     * @param batch  faces per network run (the interrupted run's)
     * @throws IOException naming the file and the image when the file names an image that is not
     *                     among the inputs in their order (another set of inputs)
     */
    static ResumePoint of(Path part, WrittenRecords written, List<InputWalker.Input> inputs, int batch) throws IOException {
        List<WrittenRecords.Record> records = written.records();
        if (records.isEmpty()) return new ResumePoint(written.headerEnd(), 0, 0, 0, written.featureLength(), true);
        // the records of the last image are dropped
        String lastImage = records.getLast().image();
        int kept = records.size();
        while (kept > 0 && records.get(kept - 1).image().equals(lastImage)) kept--;
        if (kept == 0) return new ResumePoint(written.headerEnd(), 0, 0, 0, written.featureLength(), true);
        // each kept image's input index (images appear in input order) and its face count
        int[] imageInput = new int[kept];
        int[] imageFaces = new int[kept];
        int images = 0, input = -1, faces = 0;
        for (int r = 0; r < kept; r++) {
            WrittenRecords.Record rec = records.get(r);
            if (images == 0 || !rec.image().equals(inputs.get(imageInput[images - 1]).display())) {
                input++;
                while (input < inputs.size() && !inputs.get(input).display().equals(rec.image())) input++;
                if (input == inputs.size()) {
                    throw new IOException(part + " holds results for " + rec.image() + ", which is not among this run's inputs (in their order): "
                            + "resume with the same inputs, or run without --resume to start over");
                }
                imageInput[images++] = input;
            }
            if (rec.face()) {
                imageFaces[images - 1]++;
                faces++;
            }
        }
        int firstWrite = imageInput[images - 1] + 1;
        long keepBytes = records.get(kept - 1).end();
        int batchStart = faces - faces % batch;
        if (batchStart == faces) return new ResumePoint(keepBytes, firstWrite, 0, firstWrite, written.featureLength(), true);
        int before = 0;
        for (int i = 0; ; i++) {
            if (before + imageFaces[i] > batchStart) {
                return new ResumePoint(keepBytes, imageInput[i], batchStart - before, firstWrite, written.featureLength(), true);
            }
            before += imageFaces[i];
        }
    }
}
