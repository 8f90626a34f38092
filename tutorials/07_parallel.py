# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. Parallel and distributed search
#
# A search is a queue of trainings: with several GPUs (or machines) you want several
# trials training at once. `autokeras_nas` uses KerasTuner's own distributed mode, no
# scheduler of its own:
#
# * one **chief** process runs the oracle (the strategy) as a gRPC server and trains
#   nothing,
# * **workers** ask it for a trial, train it, report the results, and ask again,
# * all of them run the *same program* on a *shared search directory*, told apart by three
#   environment variables: `KERASTUNER_TUNER_ID` (`chief`, `tuner0`, `tuner1`, ...),
#   `KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT` (where the chief listens).
#
# On one machine, `autokeras-nas search --workers N` (or `autokeras_nas.launch.run_parallel`
# for your own script) starts the chief and N workers for you. Across machines you set the
# variables yourself. The strategies never block a worker needlessly: aging evolution
# always has a trial to give; NASH and POPNAS make a worker wait only at the end of a step.
#
# **Budget.** About two and a half minutes on 2 CPU cores; `AUTOKERAS_NAS_TUTORIAL_QUICK=1` (set by the
# test suite) runs two one-epoch trials on two workers in each search. On a CPU with 2 cores,
# two workers share them, so do not expect a two-fold speed-up here: the point is the mechanics.

# %%
import os
import re
import subprocess
import sys
import time
from pathlib import Path

QUICK = os.environ.get("AUTOKERAS_NAS_TUTORIAL_QUICK") == "1"
WORKERS = 2
MAX_TRIALS = 2 if QUICK else 12
SCRIPT_TRIALS = 2 if QUICK else 12  # trials of the second search (your own script)
EPOCHS = 1 if QUICK else 4
print(f"quick={QUICK}: {MAX_TRIALS} trials x {EPOCHS} epochs on {WORKERS} workers")

# %% [markdown]
# **On a GPU, raise** `WORKERS` to the number of GPUs (each worker gets its own through
# `CUDA_VISIBLE_DEVICES`), and `MAX_TRIALS` and `EPOCHS` with them. On one GPU, a single
# process is usually best; on one large GPU per trial, combine with
# `--distribute mirrored` inside each trial only when one model is too slow on one GPU.

# %% [markdown]
# ## From the command line: `--workers`
#
# The same command as a one-process search, plus `--workers 2`. The parent process
# prints every child's lines prefixed with its id (`[chief]`, `[tuner0]`, ...) and keeps
# them in `--out/logs/`. We read its output as it comes and note the time of each line, to
# draw who trained what, when.

# %%
script = Path(sys.executable).with_name("autokeras-nas")
AUTOKERAS_NAS = [str(script)] if script.exists() else [sys.executable, "-m", "autokeras_nas.cli"]
OUT = Path("runs_parallel/cli")
command = [*AUTOKERAS_NAS, "search", "--dataset", "digits", "--strategy", "aging-evolution",
           "--max-trials", str(MAX_TRIALS), "--epochs", str(EPOCHS), "--seed", "0",
           "--out", str(OUT), "--overwrite", "--progress", "plain", "--workers", str(WORKERS)]
print("$ autokeras-nas", " ".join(command[len(AUTOKERAS_NAS):]))

env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
lines = []  # (seconds since start, line)
start = time.monotonic()
with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                      env=env) as proc:
    for line in proc.stdout:
        lines.append((time.monotonic() - start, line.rstrip()))
wall_s = time.monotonic() - start
shown = [text for _, text in lines if re.search(r"trial \d+: (start|completed|failed)|chief and|done|rank", text)]
print("\n".join(shown))
if proc.returncode != 0:
    raise RuntimeError("\n".join(text for _, text in lines[-20:]))

# %% [markdown]
# ## Who trained what, when
#
# Each bar is a trial, from its `start` line to its `completed` line, on the row of the
# worker that trained it. Bars of different workers that overlap in time are trials
# trained in parallel. The gap before the first bar is the start-up of the processes
# (each imports TensorFlow); after the last bar the chief prints the leaderboard and
# exports the best model.

# %%
import matplotlib.pyplot as plt

pattern = re.compile(r"^\[(tuner\d+)\] trial (\d+): (start|completed|stopped|failed)")
spans = {}  # trial id -> [worker, start s, end s]
for t, text in lines:
    m = pattern.match(text)
    if m:
        worker, trial_id, event = m.groups()
        if event == "start":
            spans[trial_id] = [worker, t, None]
        elif trial_id in spans:
            spans[trial_id][2] = t
workers = sorted({w for w, _, _ in spans.values()})
busy = sum(end - begin for _, begin, end in spans.values() if end is not None)
print(f"wall time {wall_s:.1f} s; trials busy {busy:.1f} s in total over {len(workers)} workers")

fig, ax = plt.subplots(figsize=(8, 1.2 + 0.6 * len(workers)))
for trial_id, (worker, begin, end) in sorted(spans.items(), key=lambda s: int(s[0])):
    row = workers.index(worker)
    end = wall_s if end is None else end
    ax.barh(row, end - begin, left=begin, height=0.6, color=f"C{int(trial_id) % 10}",
            edgecolor="black")
    ax.text(begin + (end - begin) / 2, row, trial_id, ha="center", va="center", fontsize=8)
ax.set_yticks(range(len(workers)), workers)
ax.set_xlim(0, wall_s)
ax.set_xlabel("seconds since the command started")
ax.set_title(f"autokeras-nas search --workers {WORKERS}: trials per worker")
ax.grid(alpha=0.3, axis="x")
fig.tight_layout()
fig.savefig("07_timeline.png", dpi=110)
plt.show()

# %% [markdown]
# The search directory is the same as a one-process search's: `results.json` with every
# trial, whichever worker trained it, the best model, and `logs/` with one log per
# process. `autokeras-nas report` works on it unchanged. Rerunning the command resumes the
# search, in parallel or not.

# %%
import autokeras_nas

results = autokeras_nas.read_results(str(OUT))
print(sorted(p.name for p in (OUT / "logs").iterdir()))
print([(t["trial_id"], t["status"], round(t["metrics"].get("val_accuracy", float("nan")), 3))
       for t in results["trials"]])

# Checked (the test suite runs this notebook): every trial completed and is in
# results.json, each was trained by a worker (not the chief), and each process kept a log.
assert len(results["trials"]) == MAX_TRIALS
assert all(t["status"] == "completed" for t in results["trials"])
assert {t["trial_id"] for t in results["trials"]} == set(spans)
assert set(workers) <= {f"tuner{i}" for i in range(WORKERS)}
assert {"chief.log", *(f"tuner{i}.log" for i in range(WORKERS))} <= {
    p.name for p in (OUT / "logs").iterdir()}

# %% [markdown]
# ## Your own script, on many machines
#
# The recipe needs nothing from `autokeras_nas`: write your search as usual, with a shared
# `directory` and `overwrite=False` (the processes must not wipe each other's files), and
# start the same script several times with the three variables. On machine A (the chief,
# reachable by the others at 10.0.0.1) and on every worker machine, with the search
# directory on a shared file system:
#
# ```bash
# # machine A: the oracle
# KERASTUNER_TUNER_ID=chief  KERASTUNER_ORACLE_IP=10.0.0.1 KERASTUNER_ORACLE_PORT=8000 python search.py
# # machine B, C, ...: one worker per GPU, each with its own id
# KERASTUNER_TUNER_ID=tuner0 KERASTUNER_ORACLE_IP=10.0.0.1 KERASTUNER_ORACLE_PORT=8000 python search.py
# KERASTUNER_TUNER_ID=tuner1 KERASTUNER_ORACLE_IP=10.0.0.1 KERASTUNER_ORACLE_PORT=8000 python search.py
# ```
#
# The chief's port accepts anyone who reaches it, without authentication: open it only on
# a private network. A worker that dies mid-trial is noticed by the chief (workers send a
# heartbeat while they train) and its trial is given to another worker.
#
# On one machine, `autokeras_nas.launch.run_parallel` does exactly this on loopback (a
# free port, one process per worker, a share of the CPU cores or one GPU each, logs in
# `log_dir`). Here is the script, written to a file:

# %%
SCRIPT = f'''
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
import autokeras_nas

x, y = load_digits(return_X_y=True)
x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.25, random_state=0)


def build_model(hp):
    model = keras.Sequential([keras.Input((64,))])
    for i in range(hp.Int("layers", 1, 3)):
        model.add(keras.layers.Dense(hp.Int(f"units_{{i}}", 32, 256, step=32), activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


tuner = autokeras_nas.AgingEvolution(
    build_model, objective="val_accuracy", max_trials={SCRIPT_TRIALS}, seed=0,
    directory="runs_parallel", project_name="script", overwrite=False)
tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs={EPOCHS}, verbose=0)
who = os.environ.get("KERASTUNER_TUNER_ID", "single process")
print(f"{{who}}: search finished", flush=True)
'''
Path("search.py").write_text(SCRIPT)

# %%
import shutil
from autokeras_nas.launch import run_parallel

shutil.rmtree("runs_parallel/script", ignore_errors=True)
result = run_parallel([sys.executable, "search.py"], workers=WORKERS,
                      log_dir="runs_parallel/script_logs", echo=None)
print(f"{result.wall_s:.1f} s, chief on port {result.port}; last line of each log:")
for log in sorted(Path("runs_parallel/script_logs").glob("*.log")):
    print(f"  {log.name}: {log.read_text().strip().splitlines()[-1]}")
script_results = autokeras_nas.read_results("runs_parallel/script")
print(f"{len(script_results['trials'])} trials; best {script_results['best_trial_ids'][:1]}")
assert len(script_results["trials"]) == SCRIPT_TRIALS
assert all(log.read_text().strip().endswith("search finished")
           for log in Path("runs_parallel/script_logs").glob("*.log"))
