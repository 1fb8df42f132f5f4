#!/usr/bin/env bash
# Start `expt serve` on .demo/, create an API key, log a demo run with the
# Python SDK, print where to see it, and keep serving until Ctrl+C.
# The address is EXPT_ADDR (default 127.0.0.1:8080), read by expt itself.
set -euo pipefail
cd "$(dirname "$0")/.."

data=.demo
log=$data/server.log
mkdir -p "$data"
[[ -x bin/expt ]] || { echo "demo: bin/expt is missing; run make build" >&2; exit 1; }
[[ -f python/demo.py ]] || { echo "demo: python/demo.py does not exist yet" >&2; exit 1; }
[[ -x .venv/bin/python ]] || { echo "demo: .venv is missing; run make venv" >&2; exit 1; }

bin/expt serve --data "$data" 2>"$log" &
server=$!
stop() {
	echo
	echo "demo: stopping the server"
	kill -TERM "$server" 2>/dev/null || true
	wait "$server" || true
}
# A script's background job ignores SIGINT, so Ctrl+C must be passed on.
trap 'stop; exit 0' INT TERM
trap 'kill -TERM "$server" 2>/dev/null || true' EXIT

url=
for _ in $(seq 100); do
	url=$(sed -n 's/^expt listening on \(http:[^ ]*\)$/\1/p' "$log")
	[[ -n $url ]] && break
	kill -0 "$server" 2>/dev/null || { cat "$log" >&2; echo "demo: the server did not start" >&2; exit 1; }
	sleep 0.1
done
[[ -n $url ]] || { cat "$log" >&2; echo "demo: no listening line after 10 s" >&2; exit 1; }
echo "demo: server at $url (log: $log)"

# A browser account owns the demo run, so that signing in with it shows the
# run: sign up (or, on a rerun, sign in) and make the API key with that session.
email=demo@example.com
password=demo-password
key=$(.venv/bin/python - "$url" "$email" "$password" <<'PY'
import http.cookiejar, json, sys, time, urllib.error, urllib.request
base, email, password = sys.argv[1:]
jar = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
opener = urllib.request.build_opener(jar)
def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Origin": base})
    with opener.open(req) as resp:
        return json.load(resp)
try:
    post("/api/auth/sign-up/email", {"email": email, "password": password, "name": "Demo"})
except urllib.error.HTTPError as e:
    if e.code != 409:
        raise
    post("/api/auth/sign-in/email", {"email": email, "password": password})
print(post("/api/api-keys", {"name": "demo " + time.strftime("%Y-%m-%dT%H:%M:%S")})["key"])
PY
)
EXPT_LOGGER_API_KEY=$key EXPT_LOGGER_BASE_URL=$url .venv/bin/python python/demo.py

# The newest experiment is the one demo.py just logged.
id=$(EXPT_LOGGER_API_KEY=$key .venv/bin/python - "$url" <<'PY'
import json, os, sys, urllib.request
req = urllib.request.Request(
    sys.argv[1] + "/api/experiments?sort=created&order=desc&limit=1",
    headers={"Authorization": "Bearer " + os.environ["EXPT_LOGGER_API_KEY"]},
)
with urllib.request.urlopen(req) as resp:
    print(json.load(resp)["experiments"][0]["id"])
PY
)
echo
echo "demo: experiment at $url/experiments/$id"
echo "demo: sign in as $email with password $password"
echo "demo: API key for more runs: $key"
echo "demo: serving until Ctrl+C"
wait "$server"
