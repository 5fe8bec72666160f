#!/usr/bin/env bash
# Installs the Debian packages leakscope needs to build and test, and only the
# missing ones: running it again on a ready machine does nothing (no apt-get).
set -euo pipefail

# The one list of dependencies: one package per line, why on the right.
PACKAGES=(
  build-essential    # gcc/g++, make
  cmake              # build system
  pkg-config         # finds libunwind, liblz4, libdw
  libmimalloc-dev    # the shim's private heap (dlopen'd RTLD_LOCAL)
  libunwind-dev      # stack unwinding in the shim
  robin-map-dev      # collector's live-allocation table (tsl::robin_map)
  liblz4-dev         # wire frame compression
  libprotobuf-dev    # wire and report messages (collector, viewer)
  protobuf-compiler  # protoc, generates the message classes
  libgtest-dev       # unit tests
  libbenchmark-dev   # benchmarks (bench/)
  libdw-dev          # symbolization (function, file, line, inlines)
  zlib1g-dev         # crc32 of report files
  heaptrack          # the reference the integration tests compare against
  python3            # integration tests
  elfutils           # eu-* tools for inspecting debug info
  golang-go          # `go tool pprof` reads leakscope's pprof export in the viewer tests
  prometheus         # collector/prometheus.* tests: a real server scrapes leakscoped; promtool checks the rules
  clang              # scripts/fuzz-decoder builds the libFuzzer target with it
  libclang-rt-14-dev # libFuzzer and the sanitizer runtimes for clang
  nodejs             # node + npm: `npm ci` of viewer/html at build time; real_programs: worker threads
  chromium           # headless browser for the `leakscope html` page's end-to-end test
  libjemalloc2       # scripts/compare-peers: jemalloc's heap profiler (prof is compiled in)
  libgoogle-perftools4  # scripts/compare-peers: gperftools' heap profiler (libtcmalloc)
  valgrind           # scripts/compare-peers: instruction counts (callgrind)
  redis-server       # tests/integration/real_programs: a real server traced (redis-benchmark)
  redis-tools        # redis-benchmark, redis-cli for it (scripts/bench-redis)
  nginx              # tests/integration/real_programs: master + forked workers traced
  sqlite3            # tests/integration/real_programs: real work, same output traced
  git                # tests/integration/real_programs: init, commits (fork+exec children)
  openjdk-17-jdk-headless  # tests/integration/real_programs: a JVM (threads, zlib, direct buffers)
  postgresql         # tests/integration/real_programs: initdb, postgres and pgbench traced
  memcached          # tests/integration/real_programs: a threaded server under load
  libmemcached-tools # scripts/bench-real-programs: memcaslap drives memcached
  python3-yaml       # tests/api/k8s_manifests_check.py reads the Kubernetes recipes
  systemd            # systemd-analyze verify of dist/systemd/leakscoped.service
  groff-base         # groff -man -ww: the man pages format without warnings
  man-db             # man -l: the man pages as a reader gets them
)

missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "installed" ]] || echo "$pkg"
  done
}

# Root in CI and containers; sudo on a workstation.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "install-deps: not root and no sudo: run this script as root" >&2
    exit 1
  fi
}

# tests/security/ act as a hostile local user: a real second uid, with no
# home and no shell. Created once; kept out of the way of real accounts.
TEST_USER=leakscope-test
ensure_test_user() {
  id -u "$TEST_USER" >/dev/null 2>&1 && return 0
  if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null; then
    echo "install-deps: cannot create user $TEST_USER (not root): tests/security will say so" >&2
    return 0
  fi
  as_root useradd --system --no-create-home --shell /usr/sbin/nologin "$TEST_USER" ||
    echo "install-deps: useradd $TEST_USER failed: tests/security will say so" >&2
}

main() {
  ensure_test_user
  local missing
  mapfile -t missing < <(missing_packages)
  # Debian's nodejs comes without npm (a separate package); NodeSource's has it
  # built in and conflicts with Debian's npm: ask for npm only where it is absent.
  if ! command -v npm >/dev/null 2>&1 && [[ -z "$(dpkg-query -W -f='${db:Status-Status}' npm 2>/dev/null | grep -x installed)" ]]; then
    missing+=(npm)
  fi
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    return 0
  fi
  echo "install-deps: installing ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
}

main "$@"
