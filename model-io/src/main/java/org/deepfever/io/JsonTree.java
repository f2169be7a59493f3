package org.deepfever.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict, bounded JSON for the metadata inside model files (safetensors headers, TF.js weight
 * manifests), read with jackson-core's streaming parser into plain Java values: objects become
 * {@code LinkedHashMap<String,Object>} in file order, arrays {@code List<Object>}, integers
 * {@code Long} (or {@code BigInteger} beyond long), other numbers {@code BigDecimal}, plus
 * {@code String}, {@code Boolean} and {@link #NULL}.
 *
 * <p>A model file is untrusted input, so the parser refuses duplicate keys (a second value must not
 * silently win), trailing content, nesting deeper than {@value #MAX_DEPTH} levels, numbers longer than
 * {@value #MAX_NUMBER} characters, strings and names longer than {@value #MAX_STRING} characters, and
 * documents longer than the caller's limit.
 */
final class JsonTree {
    /** The JSON null value (maps cannot hold Java null distinguishably). */
    static final Object NULL = new Object() { @Override public String toString() { return "null"; } };

    static final int MAX_DEPTH = 64;
    static final int MAX_NUMBER = 400;
    static final int MAX_STRING = 1 << 20;

    /**
     * A syntax error or a broken limit; the message gives the character position where known, and
     * {@link #line()} / {@link #column()} the same place for multi-line documents (0 when unknown).
     */
    static final class JsonException extends Exception {
        private final int line, column;

        JsonException(String message) { this(message, null); }

        JsonException(String message, JsonLocation at) {
            super(message);
            this.line = at == null ? 0 : Math.max(0, at.getLineNr());
            this.column = at == null ? 0 : Math.max(0, at.getColumnNr());
        }

        /** The 1-based line of the error, 0 when unknown. */
        int line() { return line; }

        /** The 1-based column of the error, 0 when unknown. */
        int column() { return column; }
    }

    private JsonTree() {}

    /** Parses {@code text} (at most {@code maxChars} characters) into plain Java values. */
    static Object parse(String text, long maxChars) throws JsonException {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_DEPTH)
                        .maxNumberLength(MAX_NUMBER)
                        .maxStringLength(MAX_STRING)
                        .maxNameLength(MAX_STRING)
                        .maxDocumentLength(maxChars)
                        .build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
        try (JsonParser p = factory.createParser(text)) {
            JsonToken first = p.nextToken();
            if (first == null) throw new JsonException("empty document");
            Object root = value(p, first);
            JsonToken extra = p.nextToken();
            if (extra != null) throw new JsonException("unexpected trailing content at character " + p.currentTokenLocation().getCharOffset(), p.currentTokenLocation());
            return root;
        } catch (StreamConstraintsException e) {
            throw new JsonException(e.getOriginalMessage(), e.getLocation());
        } catch (JsonParseException e) {
            throw new JsonException(message(e) + " at character " + e.getLocation().getCharOffset(), e.getLocation());
        } catch (IOException e) {
            throw new JsonException(e.getMessage());
        }
    }

    /** Jackson's wording, with duplicate keys said the way our other readers say them. */
    private static String message(JsonParseException e) {
        String m = e.getOriginalMessage();
        if (m.startsWith("Duplicate field '") && m.endsWith("'")) {
            return "duplicate key \"" + m.substring("Duplicate field '".length(), m.length() - 1) + "\"";
        }
        return m;
    }

    /** A JSON number as BigDecimal; one Java cannot hold (such as 1e9999999999, an exponent past int) is a syntax error. */
    private static Object decimal(JsonParser p) throws IOException {
        try {
            return p.getDecimalValue();
        } catch (NumberFormatException | ArithmeticException e) {
            String t = p.getText();
            throw new JsonParseException(p, "number " + (t.length() > 40 ? t.substring(0, 40) + "..." : t) + " is out of range");
        }
    }

    private static Object value(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    m.put(name, value(p, p.nextToken()));
                }
                yield m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) l.add(value(p, e));
                yield l;
            }
            case VALUE_STRING -> p.getText();
            case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue() : (Object) p.getLongValue();
            case VALUE_NUMBER_FLOAT -> decimal(p);
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> NULL;
            default -> throw new JsonParseException(p, "unexpected token " + t);
        };
    }
}
