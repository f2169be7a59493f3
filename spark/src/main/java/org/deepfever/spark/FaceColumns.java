package org.deepfever.spark;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The columns of the face results {@link SparkFaces#extract} returns, one row per face:
 *
 * <table>
 *   <caption>result columns</caption>
 *   <tr><th>column</th><th>type</th><th>holds</th></tr>
 *   <tr><td>{@value #IMAGE}</td><td>string</td><td>the image's path, as the input's path column has it (null where that is null)</td></tr>
 *   <tr><td>{@value #FACE}</td><td>struct&lt;x,y,w,h: int&gt;</td><td>the detected face in image pixels (before the
 *       model's crop margin); null when the whole image was taken as the face (an input-sized crop)</td></tr>
 *   <tr><td>{@value #FEATURES}</td><td>array&lt;float&gt;</td><td>the model's feature vector</td></tr>
 *   <tr><td>{@value #EMBEDDING}</td><td>array&lt;float&gt;</td><td>its embedding; null where the model has none</td></tr>
 *   <tr><td>{@value #LABEL}</td><td>string</td><td>the most probable expression class</td></tr>
 *   <tr><td>{@value #SCORES}</td><td>map&lt;string,float&gt;</td><td>class name to probability</td></tr>
 *   <tr><td>{@value #ERROR}</td><td>string</td><td>why the image failed (then every column but image, model and
 *       checksum is null); null otherwise</td></tr>
 *   <tr><td>{@value #MODEL}</td><td>string</td><td>the model's name ({@code FaceModel.name()})</td></tr>
 *   <tr><td>{@value #MODEL_SHA256}</td><td>string</td><td>the model's checksum ({@code ModelChecksum})</td></tr>
 * </table>
 *
 * An image in which no face was found gives one row with {@code features} and {@code error} both
 * null, so every input image is accounted for.
 */
public final class FaceColumns {
    /** Column: the image's path. */
    public static final String IMAGE = "image";
    /** Column: the face box, or null for a whole-image crop. */
    public static final String FACE = "face";
    /** Column: the feature vector. */
    public static final String FEATURES = "features";
    /** Column: the embedding, or null. */
    public static final String EMBEDDING = "embedding";
    /** Column: the most probable class. */
    public static final String LABEL = "label";
    /** Column: class probabilities. */
    public static final String SCORES = "scores";
    /** Column: why the image failed, or null. */
    public static final String ERROR = "error";
    /** Column: the model's name. */
    public static final String MODEL = "model";
    /** Column: the model's SHA-256 checksum. */
    public static final String MODEL_SHA256 = "model_sha256";

    /** The face box: x, y of the top-left corner, width and height, in image pixels. */
    public static final StructType BOX = new StructType(new StructField[] {
        DataTypes.createStructField("x", DataTypes.IntegerType, false),
        DataTypes.createStructField("y", DataTypes.IntegerType, false),
        DataTypes.createStructField("w", DataTypes.IntegerType, false),
        DataTypes.createStructField("h", DataTypes.IntegerType, false),
    });

    /** The whole result schema, in column order. */
    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField(IMAGE, DataTypes.StringType, true),
        DataTypes.createStructField(FACE, BOX, true),
        DataTypes.createStructField(FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), true),
        DataTypes.createStructField(EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), true),
        DataTypes.createStructField(LABEL, DataTypes.StringType, true),
        DataTypes.createStructField(SCORES, DataTypes.createMapType(DataTypes.StringType, DataTypes.FloatType, false), true),
        DataTypes.createStructField(ERROR, DataTypes.StringType, true),
        DataTypes.createStructField(MODEL, DataTypes.StringType, false),
        DataTypes.createStructField(MODEL_SHA256, DataTypes.StringType, false),
    });

    private FaceColumns() {}
}
