#!/usr/bin/env bash
# Makes this machine ready for nfhot's example and tests: a running Docker daemon, debootstrap,
# git, docker-registry, htpasswd, podman, SLURM and munge, pip's wheel, Maven and Java 17 (Debian packages, installed
# when missing and run as root), then the project's npm packages and build, and the tests' Nextflow. Safe to run again: every step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v git >/dev/null 2>&1 || need_apt+=(git)
# For the tests: a registry to push to (Distribution), and htpasswd for one that wants a login.
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
# For the Podman tests: Podman itself (its API service speaks the Docker API).
command -v podman >/dev/null 2>&1 || need_apt+=(podman)
# For the cluster tests: a real SLURM (controller, node daemon, client commands) and munge, its authentication.
command -v slurmctld >/dev/null 2>&1 || need_apt+=(slurmctld)
command -v slurmd >/dev/null 2>&1 || need_apt+=(slurmd)
command -v sbatch >/dev/null 2>&1 || need_apt+=(slurm-client)
command -v munged >/dev/null 2>&1 || need_apt+=(munge)
# The pip wheel nfhot runs as pip in an image whose environment has none (BioContainers' test).
compgen -G '/usr/share/python-wheels/pip-*.whl' >/dev/null || need_apt+=(python3-pip-whl)
# A venv with pip, for the Python tools from PyPI (ruff, pytest), and the tests' throwaway venvs.
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
# The real Nextflow for the tests, from Maven Central: Maven to get it, Java 17 to run it; and
# a JDK (javac) with Maven to build nf-hot, the Nextflow plugin (npm run build skips it without).
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
{ compgen -G '/usr/lib/jvm/*17*/bin/java' >/dev/null && command -v javac >/dev/null 2>&1; } || need_apt+=(openjdk-17-jdk-headless)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing ${need_apt[*]}; run this as root, or install them (apt-get install ${need_apt[*]})"
    exit 1
  fi
  say "installing ${need_apt[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    say "the Docker daemon is not running; start it (as root: dockerd &) and run this again"
    exit 1
  fi
  say "starting dockerd (log: /var/log/nfhot-dockerd.log)"
  nohup dockerd >/var/log/nfhot-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { say "dockerd did not start; see /var/log/nfhot-dockerd.log"; tail -20 /var/log/nfhot-dockerd.log >&2; exit 1; }
fi

# The Python tools, from PyPI into the tests' cache (Debian 12 has no ruff): ruff, the formatter and
# linter (npm run lint); pytest and jsonschema for the unit tests of src/python (npm run test:python).
PYTHON_TOOLS="ruff==0.17.6 pytest==9.0.2 jsonschema==4.25.1"
tools="${NFHOT_TEST_CACHE:-$HOME/.cache/nfhot-test}/python-tools"
if [ "$(cat "$tools/nfhot-tools" 2>/dev/null)" != "$PYTHON_TOOLS" ]; then
  say "installing $PYTHON_TOOLS (from PyPI) into $tools"
  rm -rf "$tools" && python3 -m venv "$tools" &&
    "$tools/bin/pip" install -q --disable-pip-version-check $PYTHON_TOOLS &&
    echo "$PYTHON_TOOLS" >"$tools/nfhot-tools"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
if [ ! -f dist/cli.js ] || [ -n "$(find src -newer dist/cli.js -print -quit)" ]; then
  say "building"
  npm run --silent build >&2
fi
# The tests' Nextflow matrix (scripts/nextflow.sh: cached outside the repository, nothing of it committed).
for version in 24.10.6 25.04.4; do say "Nextflow $version for the tests: $(bash scripts/nextflow.sh "$version")"; done
say "ready"
