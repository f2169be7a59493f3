package org.deepfever.example;

// README:BEGIN
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.deepfever.api.DeepFever;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceModels;
import org.deepfever.api.FaceResult;
import org.deepfever.faces.FaceAnalyzer;

public class Example {
    /** A photo in, one line per face out: any model, the library decodes, detects, crops and normalises. */
    static void analyze(Path photo, String model) throws Exception {
        // "face-expression" (built in, trained), or your DeepFEVER weights: "model.pth", ".safetensors", ".onnx"
        try (FaceModel m = FaceModels.load(model)) {
            List<FaceAnalyzer.Face> faces = new FaceAnalyzer(m).analyze(photo);
            for (FaceAnalyzer.Face face : faces) {
                FaceResult r = face.result();
                System.out.println(face.box() + " " + r.label() + " " + r.scores().get(r.label())
                        + ", " + r.features().length + " features");
            }
        }
    }

    /** DeepFEVER on a face crop you made yourself: 140x140 RGB, planes of (pixel - 127.5) / 128. */
    static float[] deepFeverFeatures(Path weights, Path crop140) throws Exception {
        BufferedImage img = ImageIO.read(crop140.toFile());
        int n = DeepFever.SIZE, plane = n * n;
        float[] chw = new float[3 * plane];
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                int rgb = img.getRGB(x, y);
                chw[y * n + x] = (((rgb >> 16) & 0xFF) - 127.5f) / 128f;
                chw[plane + y * n + x] = (((rgb >> 8) & 0xFF) - 127.5f) / 128f;
                chw[2 * plane + y * n + x] = ((rgb & 0xFF) - 127.5f) / 128f;
            }
        }
        try (DeepFever model = DeepFever.load(weights)) {
            FaceResult r = model.extract(chw);
            return r.features(); // 128 floats; r.embedding(): 32, r.scores(): 8 AffectNet classes
        }
    }

    public static void main(String[] args) throws Exception {
        analyze(Path.of(args[0]), args.length > 1 ? args[1] : "face-expression");
    }
}
// README:END
