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
# # 2. Searching a dataset from the command line
#
# No Python needed: `autokeras-nas search` loads a dataset by name, searches a default
# space (a small CNN for images, a 1-D CNN for time series, an MLP for tables) or your
# own, prints a leaderboard, and saves the best model. `autokeras-nas report` then reads
# the search directory and draws its plots; `autokeras-nas export` writes the best model
# for deployment.
#
# In a notebook you would type `!autokeras-nas search ...`; here each command runs through
# a small `run` helper (Python's `subprocess`) so that the notebook also works as a plain
# script and stops on the first failing command.
#
# **Budget.** About five minutes on 2 CPU cores (half of it the Fashion-MNIST search for the
# edge); `AUTOKERAS_NAS_TUTORIAL_QUICK=1` (set by the test suite) runs one-epoch trials on
# digits: two in the first search, one more in the steered one, three for the edge and one
# in the Python search at the end.

# %%
import os
import shlex
import subprocess
import sys
from pathlib import Path

QUICK = os.environ.get("AUTOKERAS_NAS_TUTORIAL_QUICK") == "1"
MAX_TRIALS = 2 if QUICK else 12
MORE_TRIALS = 1 if QUICK else 2  # trials the steered search adds
EPOCHS = 1 if QUICK else 4
OUT = Path("runs_cli/digits")
print(f"quick={QUICK}: {MAX_TRIALS} trials x {EPOCHS} epochs")

# The console script next to this Python (or the module, if the script is not installed).
script = Path(sys.executable).with_name("autokeras-nas")
AUTOKERAS_NAS = [str(script)] if script.exists() else [sys.executable, "-m", "autokeras_nas.cli"]


def run(*args):
    """Runs `autokeras-nas ARGS`, prints its output, fails on a non-zero exit."""
    print("$ autokeras-nas", " ".join(shlex.quote(str(a)) for a in args))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([*AUTOKERAS_NAS, *map(str, args)], capture_output=True, text=True,
                          env=env)
    print(proc.stdout)
    if proc.returncode != 0:
        raise RuntimeError(f"exit code {proc.returncode}: {proc.stderr.strip()[-2000:]}")


# %% [markdown]
# **On a GPU, raise** `--max-trials` (50+) and `--epochs` (10+), search a real dataset
# (`--dataset fashion_mnist`, or `tfds:NAME` where a network exists), and add
# `--workers N` for N trials in parallel, one per GPU (notebook 7).

# %% [markdown]
# ## What can be searched
#
# `autokeras-nas datasets` lists the dataset names: `digits` (bundled with scikit-learn),
# `fashion_mnist`, `ucr:NAME` time series, `csv:PATH` tables, `npz:PATH` arrays, image
# folders, `tfds:NAME`. `autokeras-nas strategies` lists the installed strategies.

# %%
run("datasets")
run("strategies")

# %% [markdown]
# ## A search
#
# The options that matter most:
#
# * `--strategy`: `random`, `aging-evolution`, `nash`, `popnas`, `pnas` (or a plugin),
# * `--param NAME=VALUE`: an argument of the strategy, repeatable (here aging evolution's
#   population size),
# * `--max-trials`, `--epochs` (or `--time-budget 10m`): the budget,
# * `--objective`: repeat it for a Pareto search, e.g. accuracy and latency,
# * `--out`: the search directory; running the same command again *resumes* it
#   (`--overwrite` starts afresh),
# * `--progress plain`: one line per trial instead of the live terminal view.
#
# We ask for accuracy and latency, so the search keeps a Pareto front.

# %%
run("search", "--dataset", "digits", "--strategy", "aging-evolution",
    "--param", "population_size=6", "--max-trials", MAX_TRIALS, "--epochs", EPOCHS,
    "--objective", "val_accuracy", "--objective", "latency_ms:min",
    "--seed", 0, "--out", OUT, "--overwrite", "--progress", "plain")

# %% [markdown]
# The search directory holds `results.json` (every trial: hyperparameters, metrics,
# learning curve), `summary.json`, the best model (`best_model.keras`) and KerasTuner's own
# files, so `keras_tuner` tools and `overwrite=False` still work on it.

# %%
print(sorted(p.name for p in OUT.iterdir()))

# %% [markdown]
# ## The report
#
# `autokeras-nas report DIR` prints the leaderboard again and writes the plots the search
# calls for: `progress.png` always, `pareto.png` for several objectives (and POPNAS),
# `lineage.png` when trials have parents (NASH), `predictions.png` for POPNAS.
# `--csv` / `--json` write the leaderboard for a spreadsheet or a script. It reads
# `results.json` only and never imports TensorFlow, so it is quick and works on a copy of
# the directory on any machine.

# %%
run("report", OUT, "--csv", OUT / "leaderboard.csv")

# %%
from IPython.display import Image, display

plots = sorted(OUT.glob("*.png"))
print([p.name for p in plots])
for name in ("progress.png", "pareto.png"):
    display(Image(str(OUT / name)))

# %% [markdown]
# How to read them: `progress.png` shows the best objective found so far against the trial
# number and against the cumulative training time (when did the search stop improving?).
# `pareto.png` shows every trial's accuracy against its latency, the non-dominated ones
# joined. With the quick budget there are only two trials: read nothing into them.

# %%
import csv

with open(OUT / "leaderboard.csv") as f:
    rows = list(csv.DictReader(f))
print(f"{len(rows)} rows; columns: {list(rows[0])}")

# %% [markdown]
# ## Watch it live, and steer it
#
# `autokeras-nas dashboard DIR [DIR ...]` (`pip install -e ".[dashboard]"`) serves a web page
# of the searches on http://127.0.0.1:8765/ while they run: the leaderboard, each trial's
# curves and architecture, the best value so far, the Pareto front, the hyperparameters
# against the objective and their importance. With `--allow-edit` the page also *steers* a
# running search: exclude a value (or pin one) and the search honours it from its next
# proposal. Here the server runs in this notebook's process, on a free port, and we read the
# JSON the page reads.

# %%
import json
import urllib.request

from autokeras_nas.dashboard.server import start_background

with start_background([OUT]) as server:
    print("the page:", server.url)
    with urllib.request.urlopen(server.url + "api/searches") as response:
        (summary,) = json.load(response)
print({k: summary[k] for k in ("strategy", "trials", "best") if k in summary})

# %% [markdown]
# The same edits the page makes, from a terminal: `autokeras-nas steer`. On a copy of the
# search (the rest of this notebook uses the original), exclude the `global_avg` head (the
# one this seed's trials draw), then resume the search with two more trials (one with the
# quick budget; running the same command again resumes it): the new trials use the other
# head, and `results.json` records the edit and the first trial it applied to.

# %%
import shutil

STEERED = OUT.with_name("digits_steered")
shutil.rmtree(STEERED, ignore_errors=True)
shutil.copytree(OUT, STEERED)
run("steer", STEERED, "--exclude", "head=global_avg")
run("search", "--dataset", "digits", "--strategy", "aging-evolution",
    "--param", "population_size=6", "--max-trials", MAX_TRIALS + MORE_TRIALS, "--epochs", EPOCHS,
    "--objective", "val_accuracy", "--objective", "latency_ms:min",
    "--seed", 0, "--out", STEERED, "--progress", "plain")
results = json.loads((STEERED / "results.json").read_text())
print("edits:", [(e["action"], e["param"], e["value"], e["first_trial_id"]) for e in results["edits"]])
for t in results["trials"]:
    print(t["trial_id"], t["values"]["head"], "after the edit" if t["edits_seen"] else "")
steered = [t for t in results["trials"] if t["edits_seen"]]
assert len(steered) == MORE_TRIALS and results["edits"][0]["first_trial_id"] == str(MAX_TRIALS)
assert all(t["values"]["head"] == "flatten" for t in steered)

# %% [markdown]
# ## Export
#
# `autokeras-nas export DIR` writes the best model as `model.keras` (and, with the default
# `--format all`, a SavedModel and a TFLite file), loads each back and checks its test
# accuracy against the search's. `--trial ID` exports another trial, for example a faster
# one from the Pareto front.

# %%
run("export", OUT, "--format", "keras", "--out", OUT / "export")

# %% [markdown]
# ## The same from Python
#
# The commands are thin: the steps they run live in `autokeras_nas.workflow`, for your
# scripts and notebooks. `load_search` reads a search directory back (`results.json` and
# `summary.json`), `search_dataset` loads its dataset with the same seed and split, and
# `export` does what `autokeras-nas export` does and returns the manifest. Here we check
# the exported file, then export the fastest trial of the Pareto front as well.

# %%
import keras
from autokeras_nas import workflow

found = workflow.load_search(OUT)
data = workflow.search_dataset(found.summary)  # the search's test split
model = keras.models.load_model(OUT / "export" / "model.keras")
print(f"exported model: test accuracy "
      f"{workflow.accuracy(model, data.x_test, data.y_test, batch_size=256):.3f}")

completed = workflow.require_completed(found.results, OUT)
fastest = min(completed, key=lambda t: t["metrics"]["latency_ms"])
result = workflow.export(OUT, trial_id=fastest["trial_id"], formats=["keras"],
                         out=OUT / "export_fastest")
print(f"trial {fastest['trial_id']} ({fastest['metrics']['latency_ms']:.2f} ms): "
      f"{result.manifest['files']['keras']}, test accuracy "
      f"{result.manifest['test_accuracy']['keras']:.3f}")

# %% [markdown]
# Checked (the test suite runs this notebook): the exported file gives the test accuracy
# the search reported for its best model, and the leaderboard has one row per trial.

# %%
exported_accuracy = workflow.accuracy(model, data.x_test, data.y_test, batch_size=256)
assert abs(exported_accuracy - found.summary["test_accuracy"]) < 0.005, exported_accuracy
assert len(rows) == len(found.results["trials"]) == MAX_TRIALS, len(rows)

# %% [markdown]
# ## For the edge: a latency budget and an int8 TFLite file
#
# A model for a phone or a microcontroller must fit a latency budget and ship quantized.
# `--constraint latency_ms<=N` rejects every candidate slower than N ms before it trains
# (it is built and timed, never trained, and recorded as `infeasible`); `export --quantize
# int8` converts the best model to a full-integer TFLite file calibrated on the validation
# split, then scores and times the float and the int8 files side by side. The tutorial
# searches Fashion-MNIST; the test suite (`QUICK`) uses digits to stay fast.

# %%
import json

EDGE = Path("runs_cli/edge")
EDGE_DATASET = "digits" if QUICK else "fashion_mnist"
run("search", "--dataset", EDGE_DATASET, "--strategy", "random",
    "--max-trials", 3 if QUICK else 4, "--epochs", EPOCHS if QUICK else 2, "--constraint", "latency_ms<=5", "--out", EDGE, "--overwrite",
    "--progress", "plain")
run("export", EDGE, "--quantize", "int8", "--format", "tflite", "--out", EDGE / "export")

# %% [markdown]
# `export.json` records what was printed: each file's size, its TFLite latency (median of
# 100 single-sample runs on one thread, with the interquartile range) and its test accuracy.

# %%
record = json.loads((EDGE / "export" / "export.json").read_text())["quantization"]
for name, model in record["models"].items():
    print(f"{name:6s} {model['bytes'] / 1024:7.1f} KiB  {model['latency']['median_ms']:.3f} ms  "
          f"test accuracy {model['test']['accuracy']:.4f}")
edge_trials = json.loads((EDGE / "results.json").read_text())["trials"]
assert all(t["metrics"]["latency_ms"] <= 5 for t in edge_trials if t["status"] == "completed")
assert record["models"]["int8"]["bytes"] < record["models"]["float"]["bytes"]
assert (EDGE / "export" / "model_int8.tflite").is_file()

# %% [markdown]
# A whole search is one call: `SearchConfig` holds what the command's options say, and
# `search` returns the best trial, its test accuracy and where the model and summary went
# (`--param` is `params=`).

# %%
config = workflow.SearchConfig(out_dir="runs_cli/python", dataset="digits",
                               strategy="aging-evolution", params={"population_size": 4},
                               max_trials=1 if QUICK else 8, epochs=1, overwrite=True)
outcome = workflow.search(config)
print(f"best trial {outcome.best['trial_id']}: test accuracy {outcome.test_accuracy:.3f}; "
      f"{outcome.model_path}")
