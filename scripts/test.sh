#!/usr/bin/env bash
# The project's test command (README, .ci/run): full-size fixtures from real PyTorch, then every
# module's tests on JDK 25.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fixtures.sh
exec mvn -B -ntp verify
