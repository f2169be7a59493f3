#!/usr/bin/env bash
# Bounded coverage-guided fuzzing of every reader and of image decoding + face detection (Jazzer's
# JUnit integration, the *FuzzTest classes of model-io and cli): each target fuzzes for
# FUZZ_SECONDS (default 45) in its own JVM, starting from the committed inputs in
# src/test/resources/**/<Target>Inputs/<method>/. A plain `mvn test` only replays those inputs.
#
# A finding fails the run: Jazzer writes the input as crash-<sha1> into that Inputs folder (crash-*
# is git-ignored). Reproduce it with a plain `mvn test -Dtest=<Target>`, fix the reader, then keep
# the input as a regression test: rename it to regression-<what-it-was> and commit it.
# The generated corpus goes to <module>/.cifuzz-corpus/ (git-ignored; later plain runs replay it too).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-45}
# JAZZER_FUZZ: fuzz instead of replaying. Each *FuzzTest class holds one @FuzzTest and gets its own
# JVM (reuseForks=false): Jazzer fuzzes one test per JVM. Timeouts: the @Timeout on each target
# becomes libFuzzer's per-input limit (a hang is a finding); JUnit's own enforcement of it is
# switched off, else it would interrupt the whole fuzzing run.
export JAZZER_FUZZ=1
export JAZZER_MAX_DURATION="${seconds}s"
export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -Djunit.jupiter.execution.timeout.mode=disabled"
exec mvn -B -ntp -pl model-io,cli -am test -Dtest='*FuzzTest' -Dsurefire.failIfNoSpecifiedTests=false -DreuseForks=false "$@"
