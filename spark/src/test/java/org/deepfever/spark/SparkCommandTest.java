package org.deepfever.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The spark.files value the command starts a cluster session with, to ship a model file. */
class SparkCommandTest {
    @Test
    void aModelFileIsAddedToSparkFiles() {
        assertEquals("file:///m/model.pth", SparkCommand.withFiles("", List.of(Path.of("/m/model.pth"))));
        assertEquals("hdfs:///x/a.txt,file:///m/model.json,file:///m/shard1.bin",
                SparkCommand.withFiles("hdfs:///x/a.txt", List.of(Path.of("/m/model.json"), Path.of("/m/shard1.bin"))));
    }

    @Test
    void aFileOfTheSameNameGivenToFilesIsKept() {
        assertEquals("s3a://bucket/model.pth,extra",
                SparkCommand.withFiles("s3a://bucket/model.pth,extra", List.of(Path.of("/m/model.pth"))));
        assertEquals("model.pth", SparkCommand.withFiles("model.pth", List.of(Path.of("/m/model.pth"))));
    }
}
