package org.deepfever.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Expands the command's INPUT arguments: files are taken as given (whatever their type, so a wrong
 * file is reported, not ignored); directories are walked recursively in sorted order, keeping files
 * with an image extension. Paths are reported as given (directory argument + relative path).
 */
final class InputWalker {
    static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif");

    private InputWalker() {}

    /** One input: its path and the text to report it by. A missing path keeps its error. */
    record Input(Path path, String display, String error) {}

    static List<Input> expand(List<String> args) {
        List<Input> out = new ArrayList<>();
        for (String arg : args) {
            Path p = Path.of(arg);
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.walk(p)) {
                    s.filter(Files::isRegularFile).filter(InputWalker::isImageName)
                            .map(f -> p.relativize(f))
                            .sorted((a, b) -> a.toString().compareTo(b.toString()))
                            .forEach(rel -> out.add(new Input(p.resolve(rel), join(arg, rel), null)));
                } catch (IOException | java.io.UncheckedIOException e) {
                    out.add(new Input(p, arg, "cannot read directory: " + e.getMessage()));
                }
            } else if (Files.exists(p)) {
                out.add(new Input(p, arg, null));
            } else {
                out.add(new Input(p, arg, "no such file"));
            }
        }
        return out;
    }

    /** The directory argument plus the relative path, '/'-separated on every OS (a '\\' in a Unix name stays). */
    private static String join(String dirArg, Path rel) {
        StringBuilder sb = new StringBuilder(dirArg);
        for (Path name : rel) {
            if (sb.isEmpty() || sb.charAt(sb.length() - 1) != '/') sb.append('/');
            sb.append(name);
        }
        return sb.toString();
    }

    static boolean isImageName(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 && IMAGE_EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }
}
