#!/usr/bin/env bash
# The project's test command (README, .ci/run): full-size fixtures from real PyTorch, every module's
# tests on JDK 25, then a bounded coverage-guided fuzzing run of each reader and of image decoding.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fixtures.sh
mvn -B -ntp verify
FUZZ_SECONDS=${FUZZ_SECONDS:-30} scripts/fuzz.sh -q
