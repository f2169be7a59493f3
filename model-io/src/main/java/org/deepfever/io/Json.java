package org.deepfever.io;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) parser for safetensors headers: objects become
 * {@code LinkedHashMap<String,Object>} (duplicate keys are an error), arrays {@code List<Object>},
 * integers {@code Long} (or {@code BigInteger} beyond long), other numbers {@code BigDecimal},
 * plus {@code String}, {@code Boolean} and {@link #NULL}. Nesting is limited to 64 levels.
 */
final class Json {
    /** The JSON null value (maps cannot hold Java null distinguishably). */
    static final Object NULL = new Object() { @Override public String toString() { return "null"; } };

    private static final int MAX_DEPTH = 64;

    /** A syntax error with its character position. */
    static final class JsonException extends Exception {
        JsonException(String message) { super(message); }
    }

    private final String s;
    private int pos;

    private Json(String s) { this.s = s; }

    static Object parse(String text) throws JsonException {
        Json p = new Json(text);
        p.ws();
        Object v = p.value(0);
        p.ws();
        if (p.pos != p.s.length()) throw p.err("unexpected trailing content");
        return v;
    }

    private JsonException err(String what) {
        return new JsonException(what + " at character " + pos);
    }

    private void ws() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pos++;
            else break;
        }
    }

    private Object value(int depth) throws JsonException {
        if (depth > MAX_DEPTH) throw err("nesting deeper than " + MAX_DEPTH);
        if (pos >= s.length()) throw err("unexpected end of input");
        char c = s.charAt(pos);
        switch (c) {
            case '{': return object(depth);
            case '[': return array(depth);
            case '"': return string();
            case 't': return literal("true", Boolean.TRUE);
            case 'f': return literal("false", Boolean.FALSE);
            case 'n': return literal("null", NULL);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                throw err("unexpected character '" + c + "'");
        }
    }

    private Object literal(String word, Object v) throws JsonException {
        if (!s.startsWith(word, pos)) throw err("invalid literal");
        pos += word.length();
        return v;
    }

    private Map<String, Object> object(int depth) throws JsonException {
        Map<String, Object> m = new LinkedHashMap<>();
        pos++; // {
        ws();
        if (pos < s.length() && s.charAt(pos) == '}') { pos++; return m; }
        while (true) {
            ws();
            if (pos >= s.length() || s.charAt(pos) != '"') throw err("expected a string key");
            int keyPos = pos;
            String k = string();
            ws();
            expect(':');
            ws();
            Object v = value(depth + 1);
            if (m.putIfAbsent(k, v) != null) {
                pos = keyPos;
                throw err("duplicate key \"" + k + "\"");
            }
            ws();
            if (pos >= s.length()) throw err("unterminated object");
            char c = s.charAt(pos++);
            if (c == '}') return m;
            if (c != ',') { pos--; throw err("expected ',' or '}'"); }
        }
    }

    private List<Object> array(int depth) throws JsonException {
        List<Object> l = new ArrayList<>();
        pos++; // [
        ws();
        if (pos < s.length() && s.charAt(pos) == ']') { pos++; return l; }
        while (true) {
            ws();
            l.add(value(depth + 1));
            ws();
            if (pos >= s.length()) throw err("unterminated array");
            char c = s.charAt(pos++);
            if (c == ']') return l;
            if (c != ',') { pos--; throw err("expected ',' or ']'"); }
        }
    }

    private void expect(char c) throws JsonException {
        if (pos >= s.length() || s.charAt(pos) != c) throw err("expected '" + c + "'");
        pos++;
    }

    private String string() throws JsonException {
        pos++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= s.length()) throw err("unterminated string");
            char c = s.charAt(pos++);
            if (c == '"') return b.toString();
            if (c < 0x20) { pos--; throw err("control character in string"); }
            if (c != '\\') { b.append(c); continue; }
            if (pos >= s.length()) throw err("unterminated escape");
            char e = s.charAt(pos++);
            switch (e) {
                case '"' -> b.append('"');
                case '\\' -> b.append('\\');
                case '/' -> b.append('/');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (pos + 4 > s.length()) throw err("short \\u escape");
                    int v = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(s.charAt(pos + i), 16);
                        if (d < 0) throw err("bad \\u escape");
                        v = v * 16 + d;
                    }
                    pos += 4;
                    b.append((char) v);
                }
                default -> { pos--; throw err("bad escape '\\" + e + "'"); }
            }
        }
    }

    private Object number() throws JsonException {
        int start = pos;
        if (s.charAt(pos) == '-') pos++;
        if (pos >= s.length()) throw err("bad number");
        if (s.charAt(pos) == '0') pos++;
        else if (isDigit()) { while (isDigit()) pos++; }
        else throw err("bad number");
        boolean integral = true;
        if (pos < s.length() && s.charAt(pos) == '.') {
            integral = false;
            pos++;
            if (!isDigit()) throw err("bad fraction");
            while (isDigit()) pos++;
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            integral = false;
            pos++;
            if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) pos++;
            if (!isDigit()) throw err("bad exponent");
            while (isDigit()) pos++;
        }
        if (pos - start > 400) throw err("number longer than 400 characters");
        String t = s.substring(start, pos);
        if (!integral) {
            try {
                return new BigDecimal(t);
            } catch (NumberFormatException e) {
                // an exponent beyond BigDecimal's int scale, such as 1e9999999999
                throw err("number " + (t.length() > 40 ? t.substring(0, 40) + "..." : t) + " is out of range");
            }
        }
        BigInteger v = new BigInteger(t);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private boolean isDigit() {
        return pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9';
    }
}
