#!/usr/bin/env bash
# Schemathesis against api/openapi.yaml and a real `expt serve` on 127.0.0.1:
# no 5xx, and every status, content type and body is one the document allows.
#
#   tests/schemathesis/run.sh            # uses bin/expt (make build)
#   EXPT_BIN=/path/to/expt MAX_EXAMPLES=100 SEED=7 tests/schemathesis/run.sh
#   OPENAPI=other.yaml tests/schemathesis/run.sh   # another document
#   EXPT_DB=postgres://user@127.0.0.1:5432/db tests/schemathesis/run.sh
#
# Schemathesis gets its own venv (tests/schemathesis/.venv), made on first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${EXPT_BIN:-$root/bin/expt}
max_examples=${MAX_EXAMPLES:-30}
python=${PYTHON3:-python3}
venv=$here/.venv

[ -x "$bin" ] || { echo "run.sh: $bin missing; run make build" >&2; exit 1; }
if [ ! -f "$venv/.installed" ] || [ "$here/requirements.txt" -nt "$venv/.installed" ]; then
	"$python" -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
	touch "$venv/.installed"
fi

work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# Port 0 lets the kernel pick; the address is read back from the start-up log.
# EXPT_DB=postgres://... runs against PostgreSQL instead (seed.py's user is
# new each time, so the database need not be empty).
store=(--data "$work/data")
[ -n "${EXPT_DB:-}" ] && store=(--db "$EXPT_DB")
"$bin" serve "${store[@]}" --addr 127.0.0.1:0 --log-format json 2>"$work/serve.log" &
pid=$!
addr=
for _ in $(seq 100); do
	addr=$(sed -n 's/.*"msg":"started".*"addr":"\([^"]*\)".*/\1/p' "$work/serve.log" | head -1)
	[ -n "$addr" ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
	sleep 0.1
done
[ -n "$addr" ] || { echo "run.sh: server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
base=http://$addr

eval "$("$python" "$here/seed.py" "$base")"
export EXPT_KEY EXPT_EXPERIMENT EXPT_ROLLOUT EXPT_DOOMED EXPT_DOOMED_KEY

status=0
cd "$here" # schemathesis keeps a cache (.schemathesis/) in the working directory
# No stateful phase: with fixed ids it adds time, not coverage. The seed makes
# failures reproducible from the printed command.
"$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "${OPENAPI:-$root/api/openapi.yaml}" \
	--url "$base" --phases examples,coverage,fuzzing --max-examples "$max_examples" \
	--seed "${SEED:-1}" --workers 2 --no-color --report junit --report-dir "$here/report" || status=$?

# A 5xx is also logged by the server; show those lines whatever schemathesis said.
if grep -q '"level":"ERROR"' "$work/serve.log"; then
	echo "run.sh: the server logged errors:" >&2
	grep '"level":"ERROR"' "$work/serve.log" | head -20 >&2
	status=1
fi
exit $status
