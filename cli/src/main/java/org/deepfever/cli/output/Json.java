package org.deepfever.cli.output;

/** The little JSON the command writes: strings escaped per RFC 8259, floats in shortest round-trip form. */
public final class Json {
    private Json() {}

    public static String string(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    /** A float; NaN and infinities (not valid JSON numbers) become null. */
    public static String number(float v) {
        return Float.isFinite(v) ? Float.toString(v) : "null";
    }

    public static String array(float[] values) {
        StringBuilder sb = new StringBuilder(values.length * 12).append('[');
        for (int i = 0; i < values.length; i++) sb.append(i > 0 ? "," : "").append(number(values[i]));
        return sb.append(']').toString();
    }
}
