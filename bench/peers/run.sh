#!/usr/bin/env bash
# expt-logger against wandb, trackio and mlflow on this machine; writes bench/results/DATE-peers.md.
#
#   bash bench/peers/run.sh [--quick] [peers.py flags...]
#
# The peers live in their own venv, .venv-bench, so they never become dependencies of the SDK or of
# its test venv. EXPT_BIN picks the server binary (default bin/expt, built by `make build`);
# PEERS_OUT the report (default bench/results/$(date +%F)-peers.md; --quick writes nowhere unless set).
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=.venv-bench
# Pinned to the versions the committed figures were measured with; bump them together with a new run.
PEERS=(wandb==0.31.0 trackio==0.43.0 mlflow==3.17.2)

if [[ ! -x $VENV/bin/python ]] || ! $VENV/bin/python -c 'import wandb, trackio, mlflow' 2>/dev/null; then
  echo "peers: installing ${PEERS[*]} into $VENV (about a minute, once)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "${PEERS[@]}"
fi

BIN=${EXPT_BIN:-bin/expt}
if [[ ! -x $BIN ]]; then
  echo "peers: $BIN not found; run 'make build' first (or set EXPT_BIN)" >&2
  exit 2
fi

args=(--expt-bin "$BIN")
quick=0
for a in "$@"; do [[ $a == --quick ]] && quick=1; done
if [[ -n ${PEERS_OUT:-} ]]; then
  args+=(--out "$PEERS_OUT")
elif [[ $quick == 0 ]]; then
  args+=(--out "bench/results/$(date +%F)-peers.md")
fi
# A hard bound on the whole run besides every per-phase bound inside it.
exec timeout --kill-after=30 900 "$VENV/bin/python" bench/peers/peers.py "${args[@]}" "$@"
