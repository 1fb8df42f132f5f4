"""Give the schemathesis run something real to find: a user, an API key and
two experiments with data. Prints shell assignments for run.sh to eval.

Standard library only, so it runs before (and outside) any venv.
"""

import json
import sys
import urllib.request
import uuid
from http.cookiejar import CookieJar
from typing import Any


def main() -> None:
    base = sys.argv[1]
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    key = ""

    def call(method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if key:
            req.add_header("Authorization", "Bearer " + key)
        with opener.open(req, timeout=10) as resp:
            return json.load(resp)

    email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"  # a fresh user even on a used database
    call("POST", "/api/auth/sign-up/email", {"email": email, "password": "correct horse", "name": "Fuzz"})
    key = call("POST", "/api/api-keys", {"name": "schemathesis"})["key"]

    exp = call("POST", "/api/experiments", {"name": "target", "config": {"lr": 1e-6, "model": "m"}})["experimentId"]
    call(
        "POST",
        f"/api/experiments/{exp}/scalars",
        {
            "scalars": [
                {"step": s, "mode": mode, "name": name, "value": v}
                for s in range(20)
                for mode in ("train", "eval")
                for name, v in (("loss", 1.0 / (s + 1)), ("reward", "NaN" if s == 3 else s / 20))
            ]
        },
    )
    ids = call(
        "POST",
        f"/api/experiments/{exp}/rollouts",
        {
            "rollouts": [
                {
                    "id": f"r{s}-{i}",
                    "step": s,
                    "mode": "train",
                    "promptText": f"prompt {s}",
                    "messages": [{"role": "assistant", "content": f"answer {i}"}],
                    "rewards": {"correctness": i / 4, "format": 1},
                }
                for s in range(5)
                for i in range(4)
            ]
        },
    )["ids"]
    call(
        "POST",
        f"/api/experiments/{exp}/errors",
        {"errors": [{"message": "boom", "step": 2, "errorType": "ValueError"}]},
    )
    call("POST", f"/api/experiments/{exp}/env-logs", {"logs": [{"rolloutId": "r0-0", "content": "stdout"}]})
    # A second experiment for DELETE /api/experiments/{id}, so that deleting
    # does not leave every other operation with a 404.
    doomed = call("POST", "/api/experiments", {"name": "doomed"})["experimentId"]
    # Likewise a second key for DELETE /api/api-keys/{id}; the run uses the first.
    doomed_key = call("POST", "/api/api-keys", {"name": "doomed"})["id"]

    print(f"EXPT_KEY={key}")
    print(f"EXPT_EXPERIMENT={exp}")
    print(f"EXPT_ROLLOUT={ids[0]}")
    print(f"EXPT_DOOMED={doomed}")
    print(f"EXPT_DOOMED_KEY={doomed_key}")


if __name__ == "__main__":
    main()
