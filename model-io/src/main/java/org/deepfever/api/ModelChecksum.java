package org.deepfever.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deepfever.model.ModelLoadException;
import org.deepfever.model.SeededWeights;

/**
 * A SHA-256 fingerprint of a model's weights, for results that must say exactly which model made
 * them (e.g. rows written by many machines, each loading its own copy).
 *
 * <ul>
 *   <li>a model file: the SHA-256 of its bytes, as {@code sha256sum} prints it; for a TF.js weights
 *       manifest ({@code *.json}), of the manifest's bytes followed by those of every weight file it
 *       names, in manifest order;</li>
 *   <li>a built-in model shipped as files in the jar: of those files' bytes, in the order of
 *       {@link #BUILT_IN_RESOURCES};</li>
 *   <li>{@value FaceModels#UNTRAINED_DEEPFEVER}, whose weights are generated rather than read: of the
 *       text {@code deepfever-untrained seed=<seed>}, which determines them.</li>
 * </ul>
 */
public final class ModelChecksum {
    /**
     * Class-path resources holding each built-in model that is shipped as files (read in this order).
     * A name listed by {@link FaceModels#builtInNames()} and missing here has no checksum.
     */
    static final Map<String, List<String>> BUILT_IN_RESOURCES = Map.of(
            "face-expression", List.of("org/deepfever/model/face-expression/face_expression_model-weights_manifest.json",
                    "org/deepfever/model/face-expression/face_expression_model.bin"));

    private static final JsonFactory JSON = JsonFactory.builder().build();

    private ModelChecksum() {}

    /**
     * The checksum of a built-in model by name, or of a model file by path.
     *
     * @param nameOrPath a name from {@link FaceModels#builtInNames()} or a file path
     * @return 64 lower-case hex digits
     * @throws ModelLoadException if the file (or a file it names) cannot be read, or the name is a
     *         built-in model without known files; the message names the file or model
     */
    public static String sha256(String nameOrPath) {
        if (FaceModels.builtInNames().contains(nameOrPath)) return builtIn(nameOrPath);
        return sha256(Path.of(nameOrPath));
    }

    /**
     * The checksum of a model file (with its weight files, for a TF.js manifest).
     *
     * @param file the model file
     * @return 64 lower-case hex digits
     * @throws ModelLoadException if the file or a weight file it names cannot be read or parsed
     */
    public static String sha256(Path file) {
        MessageDigest md = newDigest();
        Path current = file;
        try {
            for (Path f : files(file)) {
                current = f;
                update(md, f);
            }
        } catch (IOException e) {
            throw new ModelLoadException(file + ": cannot read " + (current.equals(file) ? "it" : current.getFileName()) + " for its checksum: " + e, e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * The files a model file stands for, in checksum order: itself, then, for a TF.js weights
     * manifest ({@code *.json}), the weight files it names (beside it).
     *
     * @param file the model file
     * @return the files
     * @throws ModelLoadException if a manifest cannot be read or names no weight files
     */
    public static List<Path> files(Path file) {
        List<Path> files = new ArrayList<>(List.of(file));
        if (file.getFileName() != null && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")) {
            try {
                Path dir = file.toAbsolutePath().getParent();
                for (String shard : manifestPaths(Files.readAllBytes(file), file)) files.add(dir.resolve(shard));
            } catch (IOException e) {
                throw new ModelLoadException(file + ": cannot read the manifest: " + e, e);
            }
        }
        return files;
    }

    private static String builtIn(String name) {
        if (name.equals(FaceModels.UNTRAINED_DEEPFEVER)) {
            return HexFormat.of().formatHex(newDigest().digest(
                    (FaceModels.UNTRAINED_DEEPFEVER + " seed=" + SeededWeights.DEFAULT_SEED).getBytes(StandardCharsets.UTF_8)));
        }
        List<String> resources = BUILT_IN_RESOURCES.get(name);
        if (resources == null) throw new ModelLoadException("built-in model " + name + ": no checksum known (its files are not listed in ModelChecksum)");
        MessageDigest md = newDigest();
        for (String r : resources) {
            try (InputStream in = ModelChecksum.class.getClassLoader().getResourceAsStream(r)) {
                if (in == null) throw new ModelLoadException("built-in model " + name + ": resource " + r + " is missing from the class path");
                md.update(in.readAllBytes());
            } catch (IOException e) {
                throw new ModelLoadException("built-in model " + name + ": cannot read resource " + r + ": " + e, e);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void update(MessageDigest md, Path file) throws IOException {
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
    }

    /** The weight file names of a TF.js manifest: every string of every group's {@code "paths"} array. */
    private static List<String> manifestPaths(byte[] manifest, Path file) throws IOException {
        List<String> paths = new ArrayList<>();
        try (JsonParser p = JSON.createParser(manifest)) {
            if (p.nextToken() != JsonToken.START_ARRAY) throw new IOException(file + ": not a TF.js weights manifest (no top-level array)");
            while (p.nextToken() == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken value = p.nextToken();
                    if (field.equals("paths") && value == JsonToken.START_ARRAY) {
                        while (p.nextToken() == JsonToken.VALUE_STRING) paths.add(p.getText());
                        if (p.currentToken() != JsonToken.END_ARRAY) throw new IOException(file + ": \"paths\" holds a non-string");
                    } else {
                        p.skipChildren();
                    }
                }
            }
        }
        if (paths.isEmpty()) throw new IOException(file + ": TF.js manifest names no weight files");
        return paths;
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
