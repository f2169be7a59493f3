#!/usr/bin/env bash
# Builds build/hsdis/hsdis-amd64.so, the disassembler plugin the JVM's -XX:+PrintAssembly and
# -XX:CompileCommand=print load, from Debian's Capstone (libcapstone-dev; the JDK ships none).
# A developer tool for reading what C2 made of a kernel, never used by the engine or its tests:
#   scripts/hsdis.sh
#   LD_LIBRARY_PATH=build/hsdis java --add-modules jdk.incubator.vector -XX:+UnlockDiagnosticVMOptions \
#     -XX:CompileCommand=print,org.deepfever.kernels.simd.conv.ChannelTiles::t5x4 -jar bench/target/fever-bench.jar ConvBench ...
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f /usr/include/capstone/capstone.h ]; then
  echo "hsdis: needs Capstone's headers: apt-get install libcapstone-dev" >&2
  exit 2
fi
mkdir -p build/hsdis
# The plugin protocol of JDK 17 and later (decode_instructions_virtual), Intel syntax, one instruction per line.
cat > build/hsdis/hsdis.c <<'C'
#include <stdint.h>
#include <stddef.h>
#include <capstone/capstone.h>
typedef void* (*event_cb)(void*, const char*, void*);
typedef int (*printf_cb)(void*, const char*, ...);
static void* no_event(void* stream, const char* event, void* arg) { return NULL; }
void* decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char* buffer, uintptr_t length,
                                  event_cb event, void* event_stream, printf_cb print, void* print_stream,
                                  const char* options, int newline) {
  csh h;
  cs_insn* insn;
  if (event == NULL) event = no_event;
  if (print == NULL || cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) return NULL;
  cs_option(h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
  cs_option(h, CS_OPT_SKIPDATA, CS_OPT_ON);
  size_t n = cs_disasm(h, buffer, length, (uintptr_t) buffer, 0, &insn);
  for (size_t i = 0; i < n; i++) {
    event(event_stream, "insn", (void*) insn[i].address);
    print(print_stream, "%s\t\t%s", insn[i].mnemonic, insn[i].op_str);
    event(event_stream, "/insn", (void*) (insn[i].address + insn[i].size));
    if (newline) print(print_stream, "\n");
  }
  if (n) cs_free(insn, n);
  cs_close(&h);
  return NULL;
}
C
gcc -O2 -shared -fPIC -o build/hsdis/hsdis-amd64.so build/hsdis/hsdis.c -lcapstone
echo "built build/hsdis/hsdis-amd64.so: run java with LD_LIBRARY_PATH=$PWD/build/hsdis"
