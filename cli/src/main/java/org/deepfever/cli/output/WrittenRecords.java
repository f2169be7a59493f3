package org.deepfever.cli.output;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * The whole records of a jsonl or csv output file left by an interrupted run (a {@code .part}
 * file), each with the byte offset at which it ends, so that a resumed run can cut the file after
 * any of them and append. A record is whole when its line ends: a jsonl line ending in '\n', a csv
 * record followed by another one (the last csv record may have been cut in a quoted field).
 *
 * @param records       the whole records after the header, in file order
 * @param featureLength the feature vector length the file was written with (csv: from its header;
 *                      jsonl: from its first face line), or -1 when no face line tells
 * @param headerEnd     the byte offset where the records start (after the csv header; 0 for jsonl)
 */
public record WrittenRecords(List<Record> records, int featureLength, long headerEnd) {

    /**
     * One record.
     *
     * @param image the image it is about, as written
     * @param face  whether it is a face (jsonl: not a no-face or error line)
     * @param end   the byte offset just past it (past its line end)
     */
    public record Record(String image, boolean face, long end) {}

    private static final JsonFactory JSON = JsonFactory.builder().build();

    /**
     * Reads a jsonl file's whole lines.
     *
     * @throws IOException if the file cannot be read, or a whole line is not a JSON object with a
     *                     string "image" (the message names the file and the line)
     */
    public static WrittenRecords jsonl(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        List<Record> out = new ArrayList<>();
        int featureLength = -1;
        int start = 0, line = 1;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != '\n') continue;
            Line l = jsonLine(bytes, start, i - start, i + 1);
            if (l == null) throw new IOException(file + ": line " + line + " is not a line of fever extract's jsonl output");
            if (l.record().face() && featureLength < 0) featureLength = l.features();
            out.add(l.record());
            start = i + 1;
            line++;
        }
        return new WrittenRecords(List.copyOf(out), featureLength, 0);
    }

    /** One jsonl line read: its record, and the length of its "features" array (-1 without one). */
    private record Line(Record record, int features) {}

    /** One line: a JSON object with a string "image"; null for anything else. */
    private static Line jsonLine(byte[] bytes, int offset, int length, long end) {
        String image = null;
        boolean face = false;
        int features = -1;
        try (JsonParser p = JSON.createParser(bytes, offset, length)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return null;
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("image") && v == JsonToken.VALUE_STRING) image = p.getText();
                if (name.equals("features")) {
                    face = true;
                    if (v == JsonToken.START_ARRAY) {
                        features = 0;
                        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                            p.skipChildren();
                            features++;
                        }
                    }
                }
                p.skipChildren();
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) return null;
        } catch (IOException e) {
            return null;
        }
        return image == null ? null : new Line(new Record(image, face, end), features);
    }

    /**
     * Reads a csv file's header and whole records.
     *
     * @throws IOException if the file cannot be read, is not UTF-8, or its header is not the command's
     *                     ({@code image,x,y,w,h,f0,f1,...})
     */
    public static WrittenRecords csv(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 0, wholeUtf8(bytes))).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not UTF-8 text, not a csv file written by fever extract");
        }
        List<CSVRecord> parsed = new ArrayList<>();
        try (CSVParser p = CSVParser.builder().setReader(new StringReader(text)).setFormat(CsvSink.FORMAT).get()) {
            for (CSVRecord r : p) parsed.add(r);
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            // a record cut inside a quoted field: every record before it is whole
        }
        // no whole record after the header: the header itself may be cut, so the file starts over
        if (parsed.size() < 2) return new WrittenRecords(List.of(), -1, 0);
        List<String> header = parsed.getFirst().toList();
        if (header.size() < 5 || !header.equals(CsvSink.header(header.size() - 5))) {
            throw new IOException(file + ": its first row is not fever extract's csv header (image,x,y,w,h,f0,f1,...)");
        }
        // a record ends where the next one starts; the last one parsed may be cut, so it is left out
        List<Record> out = new ArrayList<>();
        long headerEnd = byteOffset(text, parsed.get(1).getCharacterPosition());
        for (int i = 1; i + 1 < parsed.size(); i++) {
            out.add(new Record(parsed.get(i).get(0), true, byteOffset(text, parsed.get(i + 1).getCharacterPosition())));
        }
        return new WrittenRecords(List.copyOf(out), header.size() - 5, headerEnd);
    }

    /** The length of the longest prefix of {@code bytes} that does not end inside a UTF-8 sequence. */
    private static int wholeUtf8(byte[] bytes) {
        int n = bytes.length, i = n - 1, back = 0;
        while (i >= 0 && back < 4 && (bytes[i] & 0xC0) == 0x80) {
            i--;
            back++;
        }
        if (i < 0) return n;
        int lead = bytes[i] & 0xFF;
        int len = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return back + 1 >= len ? n : i;
    }

    private static long byteOffset(String text, long charPosition) {
        return text.substring(0, (int) charPosition).getBytes(StandardCharsets.UTF_8).length;
    }
}
