#!/bin/sh
# Container entrypoint: runs the service ("$@") under leakscope.
#
# Two ways, chosen by the environment:
#   LEAKSCOPE_SOCKET set    sidecar mode: a leakscoped container shares the
#                           socket's directory (an emptyDir); the service runs
#                           with LD_PRELOAD and streams to it. Reports are the
#                           sidecar's to write, even if this container is
#                           OOM-killed.
#   LEAKSCOPE_SOCKET unset  self-contained: `leakscope run` wraps the service
#                           and writes reports to LEAKSCOPE_REPORT_DIR.
# LEAKSCOPE_DISABLE=1 runs the service untouched. The service stays PID 1's
# direct child (exec), so signals reach it: `leakscope run` forwards SIGTERM.
#
# Installed as leakscope-entrypoint (cmake --install, the .deb) next to
# leakscope and leakscoped.
#
# Other settings: LEAKSCOPE_PRELOAD (the shim; default ../lib/libleakscope.so
# next to this script, as installed, else /usr/lib/libleakscope.so),
# LEAKSCOPE_WAIT_SECONDS (sidecar socket wait, default 10),
# LEAKSCOPE_RUN_ARGS (extra `leakscope run` options, e.g. "--sample-interval 512K").
set -eu

if [ "$#" -eq 0 ]; then
  echo "leakscope-entrypoint: no command to run" >&2
  exit 2
fi

if [ "${LEAKSCOPE_DISABLE:-0}" = 1 ]; then
  exec "$@"
fi

if [ -n "${LEAKSCOPE_SOCKET:-}" ]; then
  shim="${0%/*}/../lib/libleakscope.so"
  [ -r "$shim" ] || shim=/usr/lib/libleakscope.so
  shim="${LEAKSCOPE_PRELOAD:-$shim}"
  if [ ! -r "$shim" ]; then
    echo "leakscope-entrypoint: $shim not found; running untraced" >&2
    exec "$@"
  fi
  # The sidecar may start after us: wait (bounded) for its socket, so the
  # first allocations are not dropped. Then go on regardless: the shim
  # reconnects once a second by itself.
  waited=0
  while [ ! -S "$LEAKSCOPE_SOCKET" ] && [ "$waited" -lt "${LEAKSCOPE_WAIT_SECONDS:-10}" ]; do
    sleep 1
    waited=$((waited + 1))
  done
  if [ ! -S "$LEAKSCOPE_SOCKET" ]; then
    echo "leakscope-entrypoint: no collector at $LEAKSCOPE_SOCKET yet; the shim will keep trying" >&2
  fi
  LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}"
  export LD_PRELOAD LEAKSCOPE_SOCKET
  exec "$@"
fi

dir="${LEAKSCOPE_REPORT_DIR:-/var/lib/leakscope}"
mkdir -p "$dir"
# shellcheck disable=SC2086  # LEAKSCOPE_RUN_ARGS is a list of options
exec leakscope run -o "$dir" ${LEAKSCOPE_RUN_ARGS:-} -- "$@"
