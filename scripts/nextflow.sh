#!/usr/bin/env bash
# Gets the real Nextflow from Maven Central (io.nextflow:nextflow and its runtime dependencies,
# with Maven) into a cache outside the repository, and writes a `nextflow` launcher there that
# starts nextflow.cli.Launcher as Nextflow's own launcher does (its JVM flags, Java 17), offline:
# no update check, no plugin downloads, its own NXF_HOME unless one is given. Prints the
# launcher's path. Safe to run again: a version already there is reused.
# Usage: scripts/nextflow.sh [VERSION]   (default 24.10.6; the tests use 24.10.6 and 25.04.4)
# Cache: $NFHOT_TEST_CACHE/nextflow/VERSION (default ~/.cache/nfhot-test).
set -euo pipefail
version=${1:-24.10.6}
cache=${NFHOT_TEST_CACHE:-$HOME/.cache/nfhot-test}/nextflow/$version
central=${MAVEN_CENTRAL:-https://repo1.maven.org/maven2}
say() { printf 'nextflow: %s\n' "$*" >&2; }

# Nextflow 24.10 and 25.04 run on Java 17 to 23 (their Groovy reads no newer class files).
java_cmd() {
  local candidates=("${JAVA_CMD:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" java /usr/lib/jvm/*/bin/java)
  for j in "${candidates[@]}"; do
    [ -n "$j" ] && command -v "$j" >/dev/null 2>&1 || continue
    major=$("$j" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
    if [ -n "$major" ] && [ "$major" -ge 17 ] && [ "$major" -le 23 ]; then command -v "$j"; return; fi
  done
  say "no Java 17 to 23 found (Nextflow $version needs one): install openjdk-17-jre-headless"
  exit 1
}

if [ ! -x "$cache/nextflow" ]; then
  command -v mvn >/dev/null || { say "Maven (mvn) is needed to get Nextflow from Maven Central: apt-get install maven"; exit 1; }
  java=$(java_cmd)
  mkdir -p "$(dirname "$cache")"
  work=$(mktemp -d "${cache}.tmp-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # Maven Central holds only some versions of Nextflow's own modules (nf-commons, nf-httpfs,
  # nf-lang): a missing one is replaced by the newest published version of the same line below
  # the one asked for (24.10.6: nf-commons 24.10.5, nf-httpfs 24.10.0; 25.04.4: nf-lang 25.04.0),
  # and a dependency of another group that is not on Central at all (25.04's io.seqera:lib-trace)
  # is left out: `run`, `config` and the task loop work without it. Each is said here.
  pom=$(curl -fsS "$central/io/nextflow/nextflow/$version/nextflow-$version.pom") \
    || { say "io.nextflow:nextflow:$version is not on Maven Central"; exit 1; }
  deps=""
  exclusions=""
  # group:artifact:version of each compile dependency of the project's own groups.
  own=$(tr -d '\n\r' <<<"$pom" | sed 's:<dependency>:\n&:g; s:</dependency>:&\n:g' | grep '^<dependency>.*<scope>compile</scope>' \
    | sed -n 's:.*<groupId>\(io\.nextflow\|io\.seqera\)</groupId>\s*<artifactId>\([^<]*\)</artifactId>\s*<version>\([^<]*\)</version>.*:\1\:\2\:\3:p')
  for dep in $own; do
    IFS=: read -r group module wanted <<<"$dep"
    published=$(curl -fsS "$central/${group//.//}/$module/maven-metadata.xml" 2>/dev/null | sed -n 's:.*<version>\(.*\)</version>.*:\1:p' || true)
    if grep -qx "$wanted" <<<"$published"; then continue; fi
    exclusions="$exclusions<exclusion><groupId>$group</groupId><artifactId>$module</artifactId></exclusion>"
    if [ "$group" != io.nextflow ]; then
      say "$group:$module $wanted is not on Maven Central: left out (Nextflow runs without it here)"
      continue
    fi
    line=${wanted%.*}
    use=$({ grep "^$line\." <<<"$published" || true; echo "$wanted"; } | sort -V | sed -n "/^${wanted//./\\.}\$/q;p" | tail -1)
    [ -n "$use" ] || { say "$module $wanted is not on Maven Central, nor any $line.x before it"; exit 1; }
    say "$module $wanted is not on Maven Central: using $module $use (the same line)"
    deps="$deps<dependency><groupId>io.nextflow</groupId><artifactId>$module</artifactId><version>$use</version></dependency>"
  done
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>nfhot.test</groupId><artifactId>nextflow-runtime</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.nextflow</groupId><artifactId>nextflow</artifactId><version>$version</version><exclusions>$exclusions</exclusions></dependency>
    $deps
  </dependencies>
</project>
POM
  say "getting io.nextflow:nextflow:$version and its dependencies from Maven Central"
  mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$work/lib" >&2 \
    || { say "Maven could not get Nextflow $version (see above)"; exit 1; }
  cat >"$work/nextflow" <<LAUNCHER
#!/usr/bin/env bash
# Nextflow $version from Maven Central, started as Nextflow's own launcher starts it (written by nfhot's scripts/nextflow.sh).
set -u
export NXF_VER=$version
export NXF_HOME=\${NXF_HOME:-$cache/home}
export NXF_OFFLINE=\${NXF_OFFLINE:-true}
export NXF_DISABLE_CHECK_LATEST=true
export NXF_PLUGINS_DEFAULT=\${NXF_PLUGINS_DEFAULT:-false}
export NXF_PLUGINS_MODE=\${NXF_PLUGINS_MODE:-prod}
export NXF_PLUGINS_DIR=\${NXF_PLUGINS_DIR:-\$NXF_HOME/plugins}
export NXF_ANSI_LOG=\${NXF_ANSI_LOG:-false}
export NXF_CLI="\$0 \$*"
unset JAVA_TOOL_OPTIONS
mkdir -p "\$NXF_HOME"
# As Nextflow's launcher: -D options before the command go to the JVM; fast start but for run.
jvm=() args=() cmd=''
for a in "\$@"; do
  if [ -z "\$cmd" ] && [[ "\$a" == -D* ]]; then jvm+=("\$a"); continue; fi
  [ -z "\$cmd" ] && [[ "\$a" != -* ]] && cmd=\$a
  args+=("\$a")
done
opts=(-Dfile.encoding=UTF-8 -Dcom.sun.security.enableAIAcaIssuers=true -Djava.awt.headless=true)
[ "\$cmd" != run ] && [ "\$cmd" != node ] && opts+=(-XX:+TieredCompilation -XX:TieredStopAtLevel=1)
opts+=(\${NXF_OPTS:-} "\${jvm[@]}")
for p in java.lang java.io java.nio java.net java.util java.util.concurrent.locks java.util.concurrent.atomic \\
         java.nio.file.spi sun.nio.ch sun.nio.fs sun.net.www.protocol.http sun.net.www.protocol.https \\
         sun.net.www.protocol.ftp sun.net.www.protocol.file jdk.internal.misc jdk.internal.vm java.util.regex; do
  opts+=("--add-opens=java.base/\$p=ALL-UNNAMED")
done
exec "$java" "\${opts[@]}" -cp "$cache/lib/*" nextflow.cli.Launcher "\${args[@]}"
LAUNCHER
  chmod +x "$work/nextflow"
  rm -rf "$cache"
  mv "$work" "$cache"
  trap - EXIT
  # The launcher names its own lib directory: the one it now has.
  "$cache/nextflow" -version >/dev/null || { say "Nextflow $version does not start (see above)"; exit 1; }
fi
printf '%s\n' "$cache/nextflow"
