#!/usr/bin/env bash
# The GPU check of the cuda device, in two halves, for a session that is lent a GPU machine (which
# has PyTorch but maybe no JDK, and no network):
#   scripts/gpu-check.sh prepare   here: builds fever.jar and the cuda module's test classes, fetches
#                                  the JUnit console launcher, trims the golden sets and links a small
#                                  JDK 25 runtime, all into build/gpu-check (ignored; about 45 MB)
#   scripts/gpu-check.sh run       there: device listing, a full-size golden set made with PyTorch, the
#                                  cuda tests (ops vs reference, golden sets, memory after close), and
#                                  a batch 1/64/256 latency/throughput bench beside PyTorch's CUDA.
#                                  Output in $OUT (or build/gpu-check/out): gpu-check.log, junit/.
# With the device tool: run(command="bash scripts/gpu-check.sh run", carry=["build/gpu-check"], timeout_s=540).
set -euo pipefail
cd "$(dirname "$0")/.."
g=build/gpu-check
junit=1.14.1

prepare() {
  . scripts/java25.sh
  local java_home fixtures
  java_home=$(find_java25)
  fixtures=${FEVER_FIXTURES:-src-test/golden}
  rm -rf "$g" && mkdir -p "$g/lib" "$g/fixtures"
  mvn -q -B -ntp -Dmaven.test.skip=true -pl cli -am package
  mvn -q -B -ntp -DskipTests -pl cuda -am test-compile
  cp cli/target/fever.jar "$g/lib/"
  cp -r cuda/target/test-classes "$g/test-classes"
  mvn -q -B -ntp dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit -DoutputDirectory="$g/lib"
  # the reference scripts and the images they crop, at their repository paths (faces.py finds them so)
  mkdir -p "$g/src-test/reference" "$g/faces/src/test/resources"
  cp src-test/reference/*.py "$g/src-test/reference/"
  cp -r faces/src/test/resources/images "$g/faces/src/test/resources/"
  for set in deepfever-mini deepfever-mini-fullbackbone; do
    mkdir -p "$g/fixtures/$set"
    cp "$fixtures/$set"/{model.pth,model.onnx,input.npy,features.npy,embedding.npy,logits.npy,manifest.json} "$g/fixtures/$set/"
  done
  # java.desktop (image decoding for `fever extract`) is left out to stay under the transfer limit
  "$java_home/bin/jlink" --add-modules java.base,java.logging,java.xml,java.management,jdk.unsupported,jdk.zipfs,jdk.incubator.vector \
    --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output "$g/jrt" 2>/dev/null
  strip --strip-unneeded "$g/jrt/lib/server/libjvm.so" 2>/dev/null || true
  tar czf "$g/jrt.tgz" -C "$g" jrt && rm -rf "$g/jrt"
  du -sh "$g"
}

run() {
  local out=${OUT:-$g/out} java=java model
  mkdir -p "$out"
  exec > >(tee "$out/gpu-check.log") 2>&1
  echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
  if ! command -v java >/dev/null || ! java -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
    tar xzf "$g/jrt.tgz" -C /tmp && java=/tmp/jrt/bin/java
  fi
  "$java" -version 2>&1 | head -1
  local flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g)
  local cp="$g/lib/fever.jar:$g/test-classes"
  echo "== fever info --devices"; "$java" "${flags[@]}" -jar "$g/lib/fever.jar" info --devices || true
  echo "== full-size golden set from PyTorch (seed 1234, no ONNX: this torch's exporter differs)"
  python3 "$g/src-test/reference/make_goldens.py" "$g/full" --preset full --no-onnx >/dev/null \
    || echo "could not make the full-size set; its golden test will be skipped"
  echo "== cuda tests"
  "$java" "${flags[@]}" -Dfever.fixtures="$g/fixtures" -Dfever.fixtures.full="$g/full" -jar "$g/lib/junit-platform-console-standalone-$junit.jar" \
    execute -cp "$cp" --scan-classpath "$g/test-classes" --details=tree --disable-banner --disable-ansi-colors --reports-dir "$out/junit" || echo "TESTS FAILED"
  model=default; [ -f "$g/full/model.pth" ] && model="$g/full/model.pth"
  echo "== bench: fever cuda ($model)"
  "$java" "${flags[@]}" -cp "$cp" org.deepfever.cuda.CudaBench "$model" 1,64,256 20 || echo "fever bench failed"
  echo "== bench: PyTorch CUDA"
  if [ "$model" != default ] && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    python3 scripts/gpu-bench-torch.py "$g/fixtures" "$model" 1,64,256 20 || echo "torch bench failed"
  else
    echo "PyTorch with CUDA not importable (or no full-size model): skipped"
  fi
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
