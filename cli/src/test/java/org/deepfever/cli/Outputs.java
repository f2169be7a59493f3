package org.deepfever.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Reads the command's outputs the way users do: every jsonl line with Jackson (one whole object, no
 * duplicate keys, nothing after it) and checked against the published schema; csv with a CSV parser.
 */
final class Outputs {
    /** The published schema of a jsonl line, from the repository's docs folder. */
    static final Path SCHEMA_FILE = Path.of(System.getProperty("basedir", ".")).resolve("../docs/fever-extract.schema.json");

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static Schema schema;

    private Outputs() {}

    static synchronized Schema schema() throws IOException {
        if (schema == null) {
            try (InputStream in = Files.newInputStream(SCHEMA_FILE)) {
                schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(in);
            }
        }
        return schema;
    }

    /** Each line of a jsonl file, parsed and validated against the schema. */
    static List<JsonNode> jsonl(Path file) throws IOException {
        return jsonl(Files.readString(file, StandardCharsets.UTF_8));
    }

    /** Each line of jsonl text, parsed and validated against the schema. */
    static List<JsonNode> jsonl(String text) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        assertTrue(text.isEmpty() || text.endsWith("\n"), "jsonl ends with a newline");
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) continue;
            assertTrue(line.startsWith("{") && line.endsWith("}"), "a line is one object, nothing around it: " + line);
            JsonNode node = MAPPER.readTree(line);
            assertTrue(node.isObject(), "a line is one JSON object: " + line);
            List<Error> errors = schema().validate(node);
            assertEquals(List.of(), errors.stream().map(Error::toString).toList(), "schema errors in " + line);
            lines.add(node);
        }
        return lines;
    }

    /** A JSON array of numbers as floats. */
    static float[] floats(JsonNode array) {
        assertTrue(array.isArray(), "an array: " + array);
        float[] f = new float[array.size()];
        for (int i = 0; i < f.length; i++) f[i] = array.get(i).floatValue();
        return f;
    }

    /** The records of a csv file with a header row (the header becomes the record's column names). */
    static List<CSVRecord> csv(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
            return p.getRecords();
        }
    }
}
