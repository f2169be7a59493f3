package org.deepfever.faces.detect;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * A boosted cascade of LBP (local binary pattern) classifiers, read from OpenCV's cascade XML (the
 * {@code <cascade type_id="opencv-cascade-classifier">} format written by opencv_traincascade, with
 * {@code <featureType>LBP</featureType>}, e.g. {@code lbpcascade_frontalface.xml}), and evaluated
 * exactly as OpenCV's {@code LBPEvaluator} and {@code predictCategorical} do.
 *
 * <p>A feature is a 3x3 grid of {@code w x h} blocks whose top-left corner is at (x, y) inside the
 * detection window. Its value is an 8-bit code comparing the sums of the 8 outer blocks with the
 * centre block (blocks numbered 0..8 row-major): bit 7 = s0 &gt;= c, 6 = s1, 5 = s2, 4 = s5,
 * 3 = s8, 2 = s7, 1 = s6, 0 = s3. Each tree node holds a 256-bit subset: the left branch is taken
 * when bit {@code code} of the subset is set. A window passes a stage when the sum of its trees'
 * leaves is at least the stage threshold (less OpenCV's 1e-5 slack), and is a detection when it
 * passes every stage.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class LbpCascade {

    /** The classic OpenCV frontal-face LBP cascade bundled with this module (see NOTICE beside it). */
    public static final String FRONTAL_FACE_RESOURCE = "lbpcascade_frontalface.xml";

    private static final float THRESHOLD_EPS = 1e-5f;

    private final int windowWidth;
    private final int windowHeight;
    /** Per feature: x, y, block width, block height. */
    private final int[] features;
    /** Per stage: index of its first tree, its tree count, its threshold. */
    private final int[] stageFirst;
    private final int[] stageCount;
    private final float[] stageThreshold;
    /** Per tree: index of its first node and of its first leaf. */
    private final int[] treeNode;
    private final int[] treeLeaf;
    /** Per node: left, right (&gt; 0: node index within the tree; &lt;= 0: minus a leaf index), feature. */
    private final int[] nodeLeft;
    private final int[] nodeRight;
    private final int[] nodeFeature;
    /** Per node: 8 ints, a 256-bit set of LBP codes that go left. */
    private final int[] subsets;
    private final float[] leaves;

    private LbpCascade(int windowWidth, int windowHeight, int[] features, int[] stageFirst, int[] stageCount,
            float[] stageThreshold, int[] treeNode, int[] treeLeaf, int[] nodeLeft, int[] nodeRight,
            int[] nodeFeature, int[] subsets, float[] leaves) {
        this.windowWidth = windowWidth;
        this.windowHeight = windowHeight;
        this.features = features;
        this.stageFirst = stageFirst;
        this.stageCount = stageCount;
        this.stageThreshold = stageThreshold;
        this.treeNode = treeNode;
        this.treeLeaf = treeLeaf;
        this.nodeLeft = nodeLeft;
        this.nodeRight = nodeRight;
        this.nodeFeature = nodeFeature;
        this.subsets = subsets;
        this.leaves = leaves;
    }

    private static volatile LbpCascade frontalFace;

    /** The bundled classic frontal-face cascade, parsed once. */
    public static LbpCascade frontalFace() {
        LbpCascade c = frontalFace;
        if (c == null) {
            synchronized (LbpCascade.class) {
                c = frontalFace;
                if (c == null) {
                    try (InputStream in = LbpCascade.class.getResourceAsStream(FRONTAL_FACE_RESOURCE)) {
                        if (in == null) {
                            throw new IllegalStateException("missing resource " + FRONTAL_FACE_RESOURCE);
                        }
                        c = parse(in, FRONTAL_FACE_RESOURCE);
                    } catch (IOException e) {
                        throw new IllegalStateException("bundled cascade " + FRONTAL_FACE_RESOURCE + " is unreadable", e);
                    }
                    frontalFace = c;
                }
            }
        }
        return c;
    }

    /** Reads a cascade file. */
    public static LbpCascade load(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        }
    }

    /**
     * Parses cascade XML with the JDK's DOM parser in secure-processing mode: no DTDs, no external
     * entities, no XInclude.
     */
    public static LbpCascade parse(InputStream in, String name) throws IOException {
        Document doc;
        try {
            doc = secureBuilder().parse(in, name);
        } catch (SAXException e) {
            throw new IOException(name + ": not well-formed cascade XML: " + e.getMessage(), e);
        }
        try {
            return fromDocument(doc, name);
        } catch (RuntimeException e) {
            throw new IOException(name + ": malformed cascade: " + e.getMessage(), e);
        }
    }

    static DocumentBuilder secureBuilder() throws IOException {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            f.setNamespaceAware(false);
            f.setValidating(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(new org.xml.sax.ErrorHandler() {
                @Override
                public void warning(org.xml.sax.SAXParseException e) {}

                @Override
                public void error(org.xml.sax.SAXParseException e) throws SAXException {
                    throw e;
                }

                @Override
                public void fatalError(org.xml.sax.SAXParseException e) throws SAXException {
                    throw e;
                }
            });
            b.setEntityResolver((publicId, systemId) -> {
                throw new SAXException("external entity refused: " + systemId);
            });
            return b;
        } catch (ParserConfigurationException e) {
            throw new IOException("XML parser lacks secure-processing support", e);
        }
    }

    private static LbpCascade fromDocument(Document doc, String name) throws IOException {
        Element root = doc.getDocumentElement();
        Element cascade = root;
        if (!"cascade".equals(root.getNodeName())) {
            cascade = child(root, "cascade");
            if (cascade == null) {
                cascade = firstElement(root);
            }
        }
        if (cascade == null || child(cascade, "stages") == null) {
            throw new IOException(name + ": no <cascade> with <stages>: not an OpenCV cascade in the traincascade format");
        }
        String stageType = text(cascade, "stageType");
        if (!"BOOST".equals(stageType)) {
            throw new IOException(name + ": stageType " + stageType + " is not supported (BOOST only)");
        }
        String featureType = text(cascade, "featureType");
        if (!"LBP".equals(featureType)) {
            throw new IOException(name + ": featureType " + featureType + " is not supported (LBP only)");
        }
        int width = Integer.parseInt(text(cascade, "width"));
        int height = Integer.parseInt(text(cascade, "height"));
        if (width <= 0 || height <= 0 || width > 1024 || height > 1024) {
            throw new IOException(name + ": bad window size " + width + "x" + height);
        }
        Element fp = child(cascade, "featureParams");
        int ncat = fp == null ? 0 : Integer.parseInt(text(fp, "maxCatCount"));
        if (ncat != 256) {
            throw new IOException(name + ": maxCatCount " + ncat + " (an LBP cascade has 256 categories)");
        }
        int subsetSize = (ncat + 31) / 32;
        int nodeStep = 3 + subsetSize;

        // features
        List<Element> feats = items(child(cascade, "features"));
        int[] features = new int[feats.size() * 4];
        for (int i = 0; i < feats.size(); i++) {
            int[] r = ints(textOf(child(feats.get(i), "rect")));
            if (r.length != 4 || r[0] < 0 || r[1] < 0 || r[2] <= 0 || r[3] <= 0
                    || r[0] + 3 * r[2] > width || r[1] + 3 * r[3] > height) {
                throw new IOException(name + ": feature " + i + " does not fit the " + width + "x" + height + " window");
            }
            System.arraycopy(r, 0, features, i * 4, 4);
        }

        List<Element> stages = items(child(cascade, "stages"));
        if (stages.isEmpty()) {
            throw new IOException(name + ": no stages");
        }
        int[] stageFirst = new int[stages.size()];
        int[] stageCount = new int[stages.size()];
        float[] stageThreshold = new float[stages.size()];
        IntList treeNode = new IntList(), treeLeaf = new IntList();
        IntList nl = new IntList(), nr = new IntList(), nf = new IntList(), sub = new IntList();
        List<Float> leafList = new ArrayList<>();
        for (int si = 0; si < stages.size(); si++) {
            Element st = stages.get(si);
            stageThreshold[si] = (float) Double.parseDouble(text(st, "stageThreshold")) - THRESHOLD_EPS;
            List<Element> weak = items(child(st, "weakClassifiers"));
            stageFirst[si] = treeNode.size();
            stageCount[si] = weak.size();
            for (Element wc : weak) {
                int[] in = ints(text(wc, "internalNodes"));
                float[] lv = floats(text(wc, "leafValues"));
                if (in.length == 0 || in.length % nodeStep != 0) {
                    throw new IOException(name + ": stage " + si + ": internalNodes has " + in.length
                            + " numbers, not a multiple of " + nodeStep);
                }
                int nodes = in.length / nodeStep;
                treeNode.add(nf.size());
                treeLeaf.add(leafList.size());
                for (int k = 0; k < nodes; k++) {
                    int left = in[k * nodeStep], right = in[k * nodeStep + 1], feat = in[k * nodeStep + 2];
                    if (feat < 0 || feat >= feats.size()) {
                        throw new IOException(name + ": stage " + si + ": feature index " + feat + " out of range");
                    }
                    for (int child : new int[] {left, right}) {
                        if (child > 0 ? child >= nodes : -child >= lv.length) {
                            throw new IOException(name + ": stage " + si + ": bad tree link " + child);
                        }
                    }
                    nl.add(left);
                    nr.add(right);
                    nf.add(feat);
                    for (int s = 0; s < subsetSize; s++) {
                        sub.add(in[k * nodeStep + 3 + s]);
                    }
                }
                for (float v : lv) {
                    leafList.add(v);
                }
            }
        }
        float[] leaves = new float[leafList.size()];
        for (int i = 0; i < leaves.length; i++) {
            leaves[i] = leafList.get(i);
        }
        return new LbpCascade(width, height, features, stageFirst, stageCount, stageThreshold, treeNode.toArray(),
                treeLeaf.toArray(), nl.toArray(), nr.toArray(), nf.toArray(), sub.toArray(), leaves);
    }

    public int windowWidth() {
        return windowWidth;
    }

    public int windowHeight() {
        return windowHeight;
    }

    public int stageCount() {
        return stageFirst.length;
    }

    public int featureCount() {
        return features.length / 4;
    }

    /**
     * Integral-image offsets of every feature's 16 grid corners, relative to a window's top-left
     * corner, for an integral image whose rows are {@code stride} ints long (OpenCV's
     * {@code LBPEvaluator::OptFeature::setOffsets}).
     */
    int[] offsets(int stride) {
        return offsets(stride, 0);
    }

    /**
     * {@link #offsets(int)} for an integral image whose rows hold their even columns first and
     * their odd columns from index {@code split} on ({@code split} 0: the plain layout), as
     * {@code FaceDetector.integralSplit} lays it out for a search with step 2: the window at even
     * column {@code 2i} then starts at index {@code i} of its row, and its corner {@code dx} columns
     * right lies {@code dx / 2} further when {@code dx} is even, {@code split + dx / 2} when odd.
     */
    int[] offsets(int stride, int split) {
        int n = featureCount();
        int[] ofs = new int[n * 16];
        for (int f = 0; f < n; f++) {
            int x = features[f * 4], y = features[f * 4 + 1], w = features[f * 4 + 2], h = features[f * 4 + 3];
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < 4; c++) {
                    int dx = x + c * w;
                    int col = split == 0 ? dx : (dx & 1) == 0 ? dx / 2 : split + dx / 2;
                    ofs[f * 16 + r * 4 + c] = (y + r * h) * stride + col;
                }
            }
        }
        return ofs;
    }

    /** Whether every tree is a single node with two leaves (a decision stump), so {@link #stumps} applies. */
    boolean allStumps() {
        for (int t = 0; t < treeNode.length; t++) {
            int root = treeNode[t];
            if (nodeLeft[root] > 0 || nodeRight[root] > 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The cascade laid out for integral images of rows {@code stride} ints long; only for
     * {@link #allStumps()} cascades.
     *
     * @throws IllegalStateException if some tree has more than one node
     */
    StumpCascade stumps(int stride) {
        return stumps(stride, 0);
    }

    /**
     * {@link #stumps(int)} for the even-then-odd column layout of {@link #offsets(int, int)}
     * ({@code split} 0: the plain layout).
     *
     * @throws IllegalStateException if some tree has more than one node
     */
    StumpCascade stumps(int stride, int split) {
        if (!allStumps()) {
            throw new IllegalStateException("not a cascade of stumps");
        }
        int[] ofs = offsets(stride, split);
        int n = treeNode.length;
        int[] table = new int[n * StumpCascade.STRIDE];
        float[] lv = new float[2 * n];
        for (int t = 0; t < n; t++) {
            int node = treeNode[t];
            System.arraycopy(ofs, nodeFeature[node] * 16, table, t * StumpCascade.STRIDE, 16);
            System.arraycopy(subsets, node * 8, table, t * StumpCascade.STRIDE + 16, 8);
            // the tree walk ends at leaf -left when the code is in the subset, else at -right
            lv[2 * t] = leaves[treeLeaf[t] - nodeLeft[node]];
            lv[2 * t + 1] = leaves[treeLeaf[t] - nodeRight[node]];
        }
        int[] stageEnd = new int[stageFirst.length];
        for (int si = 0; si < stageEnd.length; si++) {
            stageEnd[si] = stageFirst[si] + stageCount[si];
        }
        return new StumpCascade(table, lv, stageEnd, stageThreshold.clone());
    }

    /** The LBP code of feature {@code f} for the window whose corner is at {@code p} in {@code sum}. */
    static int lbp(int[] sum, int p, int[] ofs, int f) {
        int o = f * 16;
        int o0 = p + ofs[o], o1 = p + ofs[o + 1], o2 = p + ofs[o + 2], o3 = p + ofs[o + 3];
        int o4 = p + ofs[o + 4], o5 = p + ofs[o + 5], o6 = p + ofs[o + 6], o7 = p + ofs[o + 7];
        int o8 = p + ofs[o + 8], o9 = p + ofs[o + 9], o10 = p + ofs[o + 10], o11 = p + ofs[o + 11];
        int o12 = p + ofs[o + 12], o13 = p + ofs[o + 13], o14 = p + ofs[o + 14], o15 = p + ofs[o + 15];
        int c = sum[o5] - sum[o6] - sum[o9] + sum[o10];
        return (sum[o0] - sum[o1] - sum[o4] + sum[o5] >= c ? 128 : 0)      // block 0
                | (sum[o1] - sum[o2] - sum[o5] + sum[o6] >= c ? 64 : 0)     // block 1
                | (sum[o2] - sum[o3] - sum[o6] + sum[o7] >= c ? 32 : 0)     // block 2
                | (sum[o6] - sum[o7] - sum[o10] + sum[o11] >= c ? 16 : 0)   // block 5
                | (sum[o10] - sum[o11] - sum[o14] + sum[o15] >= c ? 8 : 0)  // block 8
                | (sum[o9] - sum[o10] - sum[o13] + sum[o14] >= c ? 4 : 0)   // block 7
                | (sum[o8] - sum[o9] - sum[o12] + sum[o13] >= c ? 2 : 0)    // block 6
                | (sum[o4] - sum[o5] - sum[o8] + sum[o9] >= c ? 1 : 0);     // block 3
    }

    /**
     * Runs the cascade on the window whose top-left corner is at index {@code p} of the integral
     * image {@code sum} (built for {@code ofs}). Returns 1 when every stage passes, else minus the
     * index of the failing stage (so 0 when stage 0 fails), as OpenCV's {@code runAt}.
     */
    int evaluate(int[] sum, int p, int[] ofs) {
        for (int si = 0; si < stageFirst.length; si++) {
            float s = 0;
            int end = stageFirst[si] + stageCount[si];
            for (int t = stageFirst[si]; t < end; t++) {
                int root = treeNode[t];
                int idx = 0;
                do {
                    int node = root + idx;
                    int code = lbp(sum, p, ofs, nodeFeature[node]);
                    idx = (subsets[node * 8 + (code >> 5)] & (1 << (code & 31))) != 0 ? nodeLeft[node] : nodeRight[node];
                } while (idx > 0);
                s += leaves[treeLeaf[t] - idx];
            }
            if (s < stageThreshold[si]) {
                return -si;
            }
        }
        return 1;
    }

    // --------------------------------------------------------------------------- XML helpers

    private static Element child(Element e, String name) {
        if (e == null) return null;
        for (Node c = e.getFirstChild(); c != null; c = c.getNextSibling()) {
            if (c instanceof Element el && name.equals(el.getNodeName())) {
                return el;
            }
        }
        return null;
    }

    private static Element firstElement(Element e) {
        for (Node c = e.getFirstChild(); c != null; c = c.getNextSibling()) {
            if (c instanceof Element el) return el;
        }
        return null;
    }

    private static List<Element> items(Element e) {
        List<Element> out = new ArrayList<>();
        if (e == null) return out;
        for (Node c = e.getFirstChild(); c != null; c = c.getNextSibling()) {
            if (c instanceof Element el) out.add(el);
        }
        return out;
    }

    private static String text(Element e, String name) {
        Element c = child(e, name);
        if (c == null) {
            throw new IllegalArgumentException("missing <" + name + "> in <" + e.getNodeName() + ">");
        }
        return c.getTextContent().trim();
    }

    private static String textOf(Element e) {
        if (e == null) throw new IllegalArgumentException("missing <rect>");
        return e.getTextContent().trim();
    }

    private static int[] ints(String s) {
        String t = s.trim();
        if (t.isEmpty()) return new int[0];
        String[] parts = t.split("\\s+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i]);
        }
        return out;
    }

    private static float[] floats(String s) {
        String t = s.trim();
        if (t.isEmpty()) return new float[0];
        String[] parts = t.split("\\s+");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = (float) Double.parseDouble(parts[i]);
        }
        return out;
    }

    private static final class IntList {
        private int[] a = new int[64];
        private int n;

        void add(int v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        int size() {
            return n;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}
