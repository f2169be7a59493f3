#!/usr/bin/env bash
# Bounded coverage-guided fuzzing of every reader and of image decoding + face detection (Jazzer's
# JUnit integration, the *FuzzTest classes of model-io and faces): each target fuzzes for
# FUZZ_SECONDS (default 45) in its own JVM, starting from the committed inputs in
# src/test/resources/**/<Target>Inputs/<method>/. A plain `mvn test` only replays those inputs.
#
# A finding fails the run: Jazzer writes the input as crash-<sha1> into that Inputs folder (crash-*
# is git-ignored). Reproduce it with a plain `mvn test -Dtest=<Target>`, fix the reader, then keep
# the input as a regression test: rename it to finding-<what-it-was> and commit it (regression-*
# names are the ones FuzzSeeds makes).
# The generated corpus goes to <module>/.cifuzz-corpus/ (git-ignored; later plain runs replay it too).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-45}
# JAZZER_FUZZ: fuzz instead of replaying. Each *FuzzTest class holds one @FuzzTest and gets its own
# JVM (reuseForks=false): Jazzer fuzzes one test per JVM. Timeouts: the @Timeout on each target
# becomes libFuzzer's per-input limit (a hang is a finding); JUnit's own enforcement of it is
# switched off, else it would interrupt the whole fuzzing run.
# Maven itself runs on JDK 25 here: with reuseForks=false surefire loads the test classes in
# Maven's own JVM to plan the forks, and they are JDK 25 class files.
. scripts/java25.sh
JAVA_HOME=$(find_java25)
export JAVA_HOME
export JAZZER_FUZZ=1
export JAZZER_MAX_DURATION="${seconds}s"
# Full stack traces for findings: a hot path throwing the same exception again would otherwise
# lose its trace to the JIT (OmitStackTraceInFastThrow).
export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -Djunit.jupiter.execution.timeout.mode=disabled -XX:-OmitStackTraceInFastThrow"
# Every target runs even when an earlier one finds something; the findings are listed at the end.
rm -f model-io/target/surefire-reports/*FuzzTest.txt faces/target/surefire-reports/*FuzzTest.txt
mvn -B -ntp -pl model-io,faces -am test -Dtest='*FuzzTest' -Dsurefire.failIfNoSpecifiedTests=false -DreuseForks=false \
  -Dmaven.test.failure.ignore=true "$@"
failed=$(grep -lE "(Failures|Errors): [1-9]" model-io/target/surefire-reports/*FuzzTest.txt faces/target/surefire-reports/*FuzzTest.txt 2>/dev/null || true)
ran=$(ls model-io/target/surefire-reports/*FuzzTest.txt faces/target/surefire-reports/*FuzzTest.txt 2>/dev/null | wc -l)
if [ "$ran" -lt 8 ]; then
  echo "fuzz: only $ran of 8 fuzz targets ran" >&2
  exit 1
fi
if [ -n "$failed" ]; then
  echo "fuzz: findings (inputs saved as crash-* in the targets' Inputs folders):" >&2
  for f in $failed; do sed -n '4,$p' "$f" | grep -E "FuzzTestFinding|Caused by|<<<" | head -5 >&2; done
  exit 1
fi
echo "fuzz: $ran targets, ${seconds}s each, no findings" >&2
