#!/usr/bin/env bash
# Prints the path of a JDK >= 25 (JAVA_HOME first, then the system's JVM folder), or explains what to
# install and fails. Sourced by ./fever; the Maven build finds the same JDK through maven-toolchains-plugin.
find_java25() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for d in /usr/lib/jvm/* /opt/java/* /opt/jdk*; do [ -d "$d" ] && candidates+=("$d"); done
  for home in "${candidates[@]}"; do
    [ -x "$home/bin/java" ] || continue
    local v=""
    # the JDK's release file names its version: reading it costs nothing, starting a JVM ~0.1 s each
    [ -f "$home/release" ] && v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
    [ -n "$v" ] || v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null; then
      echo "$home"
      return 0
    fi
  done
  echo "fever: no JDK 25 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm)." >&2
  echo "       Install one, e.g. 'apt-get install temurin-25-jdk' or any JDK 25 build, then retry." >&2
  return 1
}
