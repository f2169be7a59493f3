package org.deepfever.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import org.deepfever.faces.detect.FaceBox;
import org.deepfever.faces.detect.FaceDetector;
import org.deepfever.faces.detect.LbpCascade;
import org.deepfever.faces.image.ImageDecoder;
import org.deepfever.faces.image.RgbImage;

/**
 * The LBP face detector against OpenCV's {@code cv2.CascadeClassifier.detectMultiScale}, one thread
 * each, the same cascade (the bundled {@code lbpcascade_frontalface.xml}, written to a temporary file
 * for OpenCV), the same parameters and the same greyscale bytes; rounds alternate Java / OpenCV so
 * that machine noise hits both alike.
 *
 * <pre>
 * ./fever bench detect [--images A.jpg,B.png,...] [--rounds R] [--reps N] [--warmup N]
 *                      [--python PYTHON3] [--script opencv_detect.py]
 * </pre>
 *
 * Defaults: faces' test photos messi5.jpg, astronaut.png, chelsea.png; 5 rounds of 40 detections per
 * image after 20 warm-up detections; the first of {@code python3} (PATH) and {@code /usr/bin/python3}
 * that imports cv2; {@code bench/src/main/python/opencv_detect.py} (paths relative to the repository
 * root). Scale 1.1, 5 neighbours, minimum size 30 ({@link FaceDetector.Options#DEFAULT}).
 *
 * <p>The measure is each detection's thread CPU time (Java: {@link ThreadMXBean}; Python:
 * {@code time.thread_time_ns}), median per image and round; the result is the median of the rounds'
 * medians. OpenCV runs after {@code cv2.setNumThreads(1)}. The Java detector splits a large image's
 * pyramid levels over the fork-join pool it is called from, so it is called from the only worker of
 * a one-thread {@link ForkJoinPool}: every level runs on that thread (checked: the pool never grows).
 *
 * <p>Prints a {@code RESULT image=... java_ms=X opencv_ms=Y ratio=X/Y} line per image; exits with
 * status 2 on a usage error, 1 when the two detectors' boxes differ, an image cannot be read or
 * OpenCV's side fails.
 */
public final class DetectBench {
    private DetectBench() {}

    /** Command-line settings. */
    record Args(List<Path> images, int rounds, int reps, int warmup, String python, Path script) {}

    /**
     * Runs the comparison.
     *
     * @param argv the options above
     * @throws Exception when the Java side's detection fails (an I/O failure is reported and exits with 1)
     */
    public static void main(String[] argv) throws Exception {
        Args a;
        try {
            a = parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("detect bench: " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            System.exit(run(a, System.out));
        } catch (IOException e) {
            System.err.println("detect bench: " + e.getMessage());
            System.exit(1);
        }
    }

    static Args parse(String[] argv) {
        Path res = Path.of("faces/src/test/resources/images");
        List<Path> images = List.of(res.resolve("messi5.jpg"), res.resolve("astronaut.png"), res.resolve("chelsea.png"));
        int rounds = 5, reps = 40, warmup = 20;
        String python = null;
        Path script = Path.of("bench/src/main/python/opencv_detect.py");
        for (int i = 0; i < argv.length; i++) {
            String opt = argv[i];
            if (i + 1 >= argv.length) {
                throw new IllegalArgumentException("missing value after " + opt);
            }
            String v = argv[++i];
            switch (opt) {
                case "--images" -> images = Arrays.stream(v.split(",")).map(Path::of).toList();
                case "--rounds" -> rounds = positive(opt, v);
                case "--reps" -> reps = positive(opt, v);
                case "--warmup" -> warmup = positive(opt, v);
                case "--python" -> python = v;
                case "--script" -> script = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + opt);
            }
        }
        for (Path p : images) {
            if (!Files.isRegularFile(p)) throw new IllegalArgumentException("no image file " + p.toAbsolutePath());
        }
        if (!Files.isRegularFile(script)) {
            throw new IllegalArgumentException("no OpenCV script " + script.toAbsolutePath() + " (run from the repository root or pass --script)");
        }
        if (python == null) {
            python = findPython();
            if (python == null) {
                throw new IllegalArgumentException("no python3 with OpenCV found (" + String.join(", ", PYTHONS)
                        + "): install Debian's python3-opencv, or pass --python");
            }
        }
        return new Args(images, rounds, reps, warmup, python, script);
    }

    /** Where {@link #findPython} looks: the one on the PATH, then the system's (Debian's packages are there). */
    static final List<String> PYTHONS = List.of("python3", "/usr/bin/python3");

    /** The first of {@link #PYTHONS} that imports cv2, or null. */
    static String findPython() {
        for (String p : PYTHONS) {
            try {
                Process pr = new ProcessBuilder(p, "-c", "import cv2").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (pr.waitFor() == 0) return p;
            } catch (IOException e) {
                // not there: try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    private static int positive(String opt, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(opt + " needs a positive integer, not " + v);
    }

    /**
     * Runs the comparison described by {@code a}, printing to {@code out}.
     *
     * @return 0, or 1 when the boxes differ or the Java side did not stay on one thread
     * @throws IOException when an image cannot be read or OpenCV's side fails or says something unexpected
     */
    static int run(Args a, PrintStream out) throws IOException, InterruptedException, ExecutionException {
        FaceDetector detector = FaceDetector.frontalFace();
        FaceDetector.Options o = detector.options();
        int n = a.images().size();
        byte[][] grays = new byte[n][];
        int[] ws = new int[n], hs = new int[n];
        Path tmp = Files.createTempDirectory("detect-bench");
        List<String> cmd = new ArrayList<>(List.of(a.python(), a.script().toString()));
        Path cascadeFile = tmp.resolve(LbpCascade.FRONTAL_FACE_RESOURCE);
        try (InputStream in = LbpCascade.class.getResourceAsStream(LbpCascade.FRONTAL_FACE_RESOURCE)) {
            Files.copy(in, cascadeFile);
        }
        cmd.addAll(List.of(cascadeFile.toString(), Double.toString(o.scaleFactor()), Integer.toString(o.minNeighbors()),
                Integer.toString(o.minSize())));
        for (int i = 0; i < n; i++) {
            RgbImage img = ImageDecoder.decode(a.images().get(i));
            grays[i] = img.toGray();
            ws[i] = img.width();
            hs[i] = img.height();
            Path g = tmp.resolve(i + ".gray");
            Files.write(g, grays[i]);
            cmd.add(ws[i] + "x" + hs[i] + ":" + g);
        }
        out.printf(Locale.ROOT, "cpu: %s; java %s; scale %s, %d neighbours, min size %d; %d rounds x %d detections per image%n",
                cpuModel(), Runtime.version(), o.scaleFactor(), o.minNeighbors(), o.minSize(), a.rounds(), a.reps());

        Process py = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        ForkJoinPool pool = new ForkJoinPool(1);
        try (BufferedReader pin = new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8));
                PrintWriter pout = new PrintWriter(py.getOutputStream(), true, StandardCharsets.UTF_8)) {
            String ready = pin.readLine();
            if (ready == null || !ready.startsWith("READY")) {
                throw new IOException("OpenCV side did not start (" + ready + "): " + String.join(" ", cmd));
            }
            out.println("opencv side: " + ready.substring(6));
            int status = compareBoxes(detector, grays, ws, hs, pin, pout, pool, out);

            // warm-up: both sides, untimed (the first rounds' compilations and caches)
            timeJava(detector, grays, ws, hs, a.warmup(), pool);
            timeOpenCv(pin, pout, n, a.warmup());
            double[][] java = new double[n][a.rounds()], cv = new double[n][a.rounds()];
            for (int r = 0; r < a.rounds(); r++) {
                double[] j = timeJava(detector, grays, ws, hs, a.reps(), pool);
                double[] c = timeOpenCv(pin, pout, n, a.reps());
                for (int i = 0; i < n; i++) {
                    java[i][r] = j[i];
                    cv[i][r] = c[i];
                    out.printf(Locale.ROOT, "round %d %-14s java %7.2f ms  opencv %7.2f ms%n", r + 1,
                            a.images().get(i).getFileName(), j[i], c[i]);
                }
            }
            if (pool.getPoolSize() != 1) {
                System.err.println("detect bench: the Java side used " + pool.getPoolSize() + " threads, not one");
                status = 1;
            }
            for (int i = 0; i < n; i++) {
                double jm = median(java[i]), cm = median(cv[i]);
                out.printf(Locale.ROOT, "RESULT image=%s size=%dx%d java_ms=%.2f opencv_ms=%.2f ratio=%.3f java_rounds=%s opencv_rounds=%s%n",
                        a.images().get(i).getFileName(), ws[i], hs[i], jm, cm, jm / cm, range(java[i]), range(cv[i]));
            }
            pout.println("quit");
            return status;
        } finally {
            pool.shutdown();
            py.waitFor();
            try (var files = Files.list(tmp)) {
                for (Path p : files.toList()) Files.delete(p);
            }
            Files.delete(tmp);
        }
    }

    /** Both detectors' boxes on every image; 0 when they agree, else 1 (and the differences printed). */
    private static int compareBoxes(FaceDetector d, byte[][] grays, int[] ws, int[] hs, BufferedReader pin, PrintWriter pout,
            ForkJoinPool pool, PrintStream out) throws IOException, InterruptedException, ExecutionException {
        pout.println("boxes");
        int status = 0;
        for (int i = 0; i < grays.length; i++) {
            String line = pin.readLine();
            if (line == null || !line.startsWith("BOXES")) throw new IOException("OpenCV side: unexpected " + line);
            List<String> cv = new ArrayList<>(List.of(line.substring(5).trim().split(" ")));
            cv.removeIf(String::isEmpty);
            int k = i;
            List<FaceBox> boxes = pool.submit(() -> d.detectGray(grays[k], ws[k], hs[k])).get();
            List<String> java = new ArrayList<>();
            for (FaceBox b : boxes) java.add(b.x() + "," + b.y() + "," + b.size() + "," + b.size());
            cv.sort(null);
            java.sort(null);
            if (!cv.equals(java)) {
                System.err.println("detect bench: image " + (i + 1) + ": java " + java + " != opencv " + cv);
                status = 1;
            }
            out.println("image " + (i + 1) + ": " + java.size() + " faces " + java + (cv.equals(java) ? " (same as OpenCV)" : ""));
        }
        return status;
    }

    /** Per image, the median thread CPU time (ms) of {@code reps} detections on the pool's one thread. */
    private static double[] timeJava(FaceDetector d, byte[][] grays, int[] ws, int[] hs, int reps, ForkJoinPool pool)
            throws InterruptedException, ExecutionException {
        return pool.submit(() -> {
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            double[] med = new double[grays.length];
            long sink = 0;
            for (int i = 0; i < grays.length; i++) {
                double[] t = new double[reps];
                for (int r = 0; r < reps; r++) {
                    long t0 = mx.getCurrentThreadCpuTime();
                    sink += d.detectGray(grays[i], ws[i], hs[i]).size();
                    t[r] = (mx.getCurrentThreadCpuTime() - t0) / 1e6;
                }
                med[i] = median(t);
            }
            if (sink < 0) throw new IllegalStateException();
            return med;
        }).get();
    }

    /** Per image, the median thread CPU time (ms) of {@code reps} OpenCV detections. */
    private static double[] timeOpenCv(BufferedReader pin, PrintWriter pout, int images, int reps) throws IOException {
        pout.println("run " + reps);
        double[] med = new double[images];
        for (int i = 0; i < images; i++) {
            String line = pin.readLine();
            if (line == null || !line.startsWith("CPU_NS ")) throw new IOException("OpenCV side: unexpected " + line);
            med[i] = median(Arrays.stream(line.substring(7).trim().split(" ")).mapToDouble(s -> Long.parseLong(s) / 1e6).toArray());
        }
        return med;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    private static String range(double[] v) {
        double lo = Arrays.stream(v).min().orElse(0), hi = Arrays.stream(v).max().orElse(0);
        return String.format(Locale.ROOT, "%.2f-%.2f", lo, hi);
    }

    /** The CPU's model name from /proc/cpuinfo, with its family where the name is generic. */
    private static String cpuModel() {
        try {
            String name = "?", family = "?";
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name") && name.equals("?")) name = l.substring(l.indexOf(':') + 1).trim();
                if (l.startsWith("cpu family") && family.equals("?")) family = l.substring(l.indexOf(':') + 1).trim();
            }
            return name + " (family " + family + ", " + Runtime.getRuntime().availableProcessors() + " cpus)";
        } catch (IOException e) {
            return System.getProperty("os.arch");
        }
    }
}
