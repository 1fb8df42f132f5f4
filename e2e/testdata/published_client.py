"""Drive the published expt-logger client (from the package index, unchanged) against our server.

Run with the interpreter of a venv that has `expt-logger==0.1.0.dev22` installed, with
EXPT_LOGGER_BASE_URL and EXPT_LOGGER_API_KEY set. Exits non-zero on the first disagreement.
"""

import os
import sys

import expt_logger
import requests
from expt_logger.client import APIClient

base = os.environ["EXPT_LOGGER_BASE_URL"]
key = os.environ["EXPT_LOGGER_API_KEY"]


def check(cond: bool, what: str) -> None:
    if not cond:
        print(f"published client: FAILED: {what}", file=sys.stderr)
        sys.exit(1)


run = expt_logger.init(name="published-client", config={"lr": 3e-6, "batch_size": 8})
exp_id = run._experiment_id
check(run.experiment_url == f"{base}/experiments/{exp_id}", "experiment_url")

for step in range(5):
    expt_logger.log({"train/loss": 1.0 / (step + 1), "train/kl": 0.01 * step, "eval/acc": 0.5}, commit=False)
    expt_logger.log_rollout(
        prompt="What is 2+2?",
        messages=[{"role": "assistant", "content": f"The answer is 4 (step {step})."}],
        rewards={"correctness": 1.0, "format": 0.5},
        mode="train",
        commit=False,
        id=f"r-{step}",
    )
    expt_logger.log_environment(f"r-{step}", f"sandbox output for step {step}", commit=False)
    expt_logger.commit()
expt_logger.log_error(ValueError("reward model timed out"), step=4)
run.config["epochs"] = 3
expt_logger.end()

s = requests.Session()
s.headers["Authorization"] = f"Bearer {key}"
exp = s.get(f"{base}/api/experiments/{exp_id}").json()
check(exp["status"] == "complete", f"status complete, got {exp['status']!r}")
check(exp["name"] == "published-client", "name")
check(exp["config"] == {"lr": 3e-6, "batch_size": 8, "epochs": 3}, f"config, got {exp['config']}")
if os.environ.get("EXPECT_PROJECT_ID"):  # a key limited to one project logs into it
    check(exp["projectId"] == int(os.environ["EXPECT_PROJECT_ID"]), f"project, got {exp['projectId']}")
details = s.get(f"{base}/api/experiments/{exp_id}/details").json()
check(details["latestStep"] == 4, f"latestStep 4, got {details.get('latestStep')}")

train = s.get(f"{base}/api/experiments/{exp_id}/scalars", params={"mode": "train"}).json()
check(sorted(train) == ["kl", "loss"], f"train metric names, got {sorted(train)}")
check([p["step"] for p in train["loss"]] == [0, 1, 2, 3, 4], f"loss steps, got {train['loss']}")
check(abs(train["loss"][1]["value"] - 0.5) < 1e-12, "loss value at step 1")
evals = s.get(f"{base}/api/experiments/{exp_id}/scalars", params={"mode": "eval"}).json()
check(len(evals["acc"]) == 5, "eval/acc points")

rollouts = s.get(f"{base}/api/experiments/{exp_id}/rollouts", params={"limit": 100}).json()["rollouts"]
check(len(rollouts) == 5, f"5 rollouts, got {len(rollouts)}")
check({r["clientId"] for r in rollouts} == {f"r-{i}" for i in range(5)}, "client rollout ids kept")
summary = s.get(f"{base}/api/experiments/{exp_id}/rollouts/summary", params={"mode": "train"}).json()
check(len(summary["groups"]) == 5, "one group per step")

client = APIClient(base, key)
logs = client.get_env_logs(exp_id, "r-3")
check([entry["content"] for entry in logs] == ["sandbox output for step 3"], f"env logs, got {logs}")
errors = s.get(f"{base}/api/experiments/{exp_id}/errors").json()["errors"]
check(len(errors) == 1 and errors[0]["message"] == "reward model timed out", f"errors, got {errors}")
check(errors[0]["errorType"] == "ValueError" and errors[0]["step"] == 4, f"error fields, got {errors[0]}")

check(client.delete_experiments(exp_id) == 1, "delete_experiments counts 1")
check(s.get(f"{base}/api/experiments/{exp_id}").status_code == 404, "deleted experiment is gone")
print("published client: ok")
