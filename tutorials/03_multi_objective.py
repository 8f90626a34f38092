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
# # 3. Accurate *and* fast: multi-objective search with POPNAS
#
# The most accurate model is rarely the one you deploy: on a phone or a busy server you
# also care about how long one prediction takes and how big the model is. Instead of one
# "best" model, a multi-objective search returns the **Pareto front**: the models that no
# other model beats on every objective at once. You then pick from the front the most
# accurate model that fits your latency or size budget.
#
# Every `autokeras_nas` trial records, besides your metrics:
#
# * `latency_ms`: median wall time of 20 single-sample predictions (after a warm-up),
# * `params`: the number of parameters,
# * `train_time_s`: the wall time of `fit`.
#
# Any of them can be an objective. `"name:min"` / `"name:max"` gives the direction.
#
# **Budget.** About two and a half minutes on 2 CPU cores; `AUTOKERAS_NAS_TUTORIAL_QUICK=1` (set by
# the test suite) runs a handful of one-epoch trials.

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

QUICK = os.environ.get("AUTOKERAS_NAS_TUTORIAL_QUICK") == "1"
MAX_TRIALS = 5 if QUICK else 24
EPOCHS = 1 if QUICK else 4
N_INIT = 3 if QUICK else 8  # random trials before the predictors take over
print(f"quick={QUICK}: {MAX_TRIALS} trials x {EPOCHS} epochs")

# %% [markdown]
# **On a GPU, raise** `MAX_TRIALS` (60-100), `EPOCHS` (10+) and the widths in
# `build_model`, and search a real dataset. Measure latency where the model will run:
# the latency of a GPU, or of this shared CPU, is not that of your phone.

# %% [markdown]
# ## A space where size and speed vary
#
# A small CNN for scikit-learn's 8x8 digits (`autokeras_nas.data.load_dataset("digits")`
# gives them as `(8, 8, 1)` images with a seeded train / validation / test split). The
# number and width of the conv layers change the cost by orders of magnitude; pooling
# shrinks the dense layer.

# %%
import keras
from autokeras_nas.data import load_dataset

data = load_dataset("digits", seed=0)
print(data.describe())


def build_model(hp):
    inputs = keras.Input(data.input_shape)
    x = inputs
    for i in range(hp.Int("conv_layers", 1, 3)):
        x = keras.layers.Conv2D(hp.Choice(f"filters_{i}", [8, 16, 32, 64, 128]), 3,
                                padding="same", activation="relu")(x)
    if hp.Boolean("pool"):
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(hp.Choice("units", [16, 64, 256]), activation="relu")(x)
    outputs = keras.layers.Dense(data.num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 3e-4, 3e-3, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# %% [markdown]
# ## The search
#
# `objective` takes a list. `Popnas` on your own `build_model` is Pareto SMBO: after
# `n_init` random trials, a random forest per objective predicts every candidate
# configuration, and the next trial is the one whose optimistic prediction (mean +
# `kappa` x spread of the trees) adds the most to the hypervolume of the front found so
# far. `kappa=0` trusts the predictions; larger values explore more.

# %%
import autokeras_nas

keras.utils.set_random_seed(0)
tuner = autokeras_nas.Popnas(
    build_model,
    objective=["val_accuracy", "latency_ms:min"],
    max_trials=MAX_TRIALS,
    n_init=N_INIT,
    kappa=0.5,
    seed=0,
    directory="runs_multi_objective",
    project_name="popnas",
    overwrite=True,
)
tuner.search(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
             epochs=EPOCHS, batch_size=32, verbose=0)

# %% [markdown]
# ## Reading the front
#
# With several objectives, `get_best_trials(n)` (and so `get_best_models(n)`) ranks by
# Pareto front, not by a weighted sum: the non-dominated trials come first, then the next
# front, and within a front the most isolated first (crowding distance). `results.json`
# keeps every objective's raw value; `best_trial_ids` lists the same order.

# %%
from autokeras_nas.core import non_dominated_sort

def describe(values):
    """The hyperparameters a trial used (KerasTuner also keeps the values of
    inactive ones, e.g. `filters_2` of a one-layer model)."""
    layers = values["conv_layers"]
    filters = "-".join(str(values[f"filters_{i}"]) for i in range(layers))
    return (f"conv {filters}, pool={values['pool']}, dense {values['units']}, "
            f"lr={values['lr']:.1e}")


results = autokeras_nas.read_results(tuner.project_dir)
done = [t for t in results["trials"] if t["status"] == "completed"]
points = [(t["metrics"]["val_accuracy"], -t["metrics"]["latency_ms"]) for t in done]
front = [done[i] for i in non_dominated_sort(points)[0]]  # larger is better on both axes
front.sort(key=lambda t: t["metrics"]["latency_ms"])

print(f"{len(done)} completed trials, {len(front)} on the front (fastest first):")
print(f"{'trial':>5} {'val_acc':>8} {'latency_ms':>10} {'params':>9}  architecture")
for t in front:
    m = t["metrics"]
    print(f"{t['trial_id']:>5} {m['val_accuracy']:8.3f} {m['latency_ms']:10.2f} {m['params']:9.0f}  "
          f"{describe(t['values'])}")
print("ranking of get_best_trials:", [t.trial_id for t in tuner.oracle.get_best_trials(len(done))])

# %% [markdown]
# Checked (the test suite runs this notebook): no completed trial is at least as good
# on both objectives and better on one than a front trial, every other trial is
# dominated by a front trial, and `get_best_trials` puts the front first.

# %%
def dominates(a, b):
    """a is at least as accurate and as fast as b, and better on one."""
    ma, mb = a["metrics"], b["metrics"]
    return (ma["val_accuracy"] >= mb["val_accuracy"] and ma["latency_ms"] <= mb["latency_ms"]
            and (ma["val_accuracy"] > mb["val_accuracy"] or ma["latency_ms"] < mb["latency_ms"]))


on_front = {t["trial_id"] for t in front}
assert not any(dominates(a, b) for a in done for b in front)
assert all(any(dominates(f, t) for f in front) for t in done if t["trial_id"] not in on_front)
ranked = [t.trial_id for t in tuner.oracle.get_best_trials(len(done))]
assert set(ranked[:len(front)]) == on_front, (ranked, on_front)

# %% [markdown]
# `autokeras_nas.report.pareto_plot` draws every completed trial and the front for any
# two recorded metrics (x is minimised, y maximised) and returns the size of the front.
# Latency first: the trials the search optimised.

# %%
from IPython.display import Image, display
from autokeras_nas.report import pareto_plot

n_front = pareto_plot(results, "03_pareto_latency.png", x="latency_ms", y="val_accuracy")
print(f"{n_front} trials on the (latency, accuracy) front")
display(Image("03_pareto_latency.png"))

# %% [markdown]
# How to read it: each grey dot is a trial; the red line joins the front, labelled by trial
# id. Going right along the front buys accuracy with latency; a dot below and right of the
# line is dominated (another model is both faster and more accurate). The latency of these
# tiny models is about a millisecond, mostly Keras' per-call overhead, and it is measured
# on whatever else the CPU is doing: differences of a fraction of a millisecond are partly
# noise (rerun the notebook and the front changes; a trial measured during a burst of other
# work lands far right and squeezes the plot), a reason to measure on the target device.
#
# The costs span orders of magnitude, so we draw both on log scales ourselves, with the
# number of parameters next to latency. Red: the front the search optimised (accuracy,
# latency). Blue rings: the front by parameters, a deterministic cost that was only
# recorded, not searched.

# %%
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter


def front_ids(trials, cost):
    """Ids of the trials on the (cost down, val_accuracy up) front."""
    points = [(t["metrics"]["val_accuracy"], -t["metrics"][cost]) for t in trials]
    return {trials[i]["trial_id"] for i in non_dominated_sort(points)[0]}


searched = front_ids(done, "latency_ms")
ringed = front_ids(done, "params")
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
for ax, cost, label in ((axes[0], "latency_ms", "latency (ms, log scale)"),
                        (axes[1], "params", "parameters (log scale)")):
    for t in done:
        x, y = t["metrics"][cost], t["metrics"]["val_accuracy"]
        on = t["trial_id"] in searched
        ax.scatter(x, y, s=36 if on else 14, c="C3" if on else "0.6", zorder=3 if on else 2)
        if t["trial_id"] in ringed:
            ax.scatter(x, y, s=120, facecolors="none", edgecolors="C0", lw=1.5, zorder=4)
        if on:
            ax.annotate(t["trial_id"], (x, y), textcoords="offset points", xytext=(5, -10),
                        fontsize=7, color="C3")
    ax.set_xscale("log")
    if cost == "latency_ms":  # plain numbers on the ticks: 0.4, 0.6, 1, 2, 4 ...
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "246" else ""))
    ax.set_xlabel(label)
    ax.grid(alpha=0.3, which="both")
axes[0].set_ylabel("validation accuracy")
axes[0].legend(handles=[
    Line2D([], [], ls="", marker="o", c="0.6", ms=4, label="trial"),
    Line2D([], [], ls="", marker="o", c="C3", ms=6, label="front of the search (latency)"),
    Line2D([], [], ls="", marker="o", mfc="none", mec="C0", ms=10, label="front by parameters"),
], loc="lower right", fontsize=8)
fig.suptitle("the same trials against two costs")
fig.tight_layout()
fig.savefig("03_fronts.png", dpi=110)
plt.show()

# %% [markdown]
# The parameter count spans orders of magnitude: the first dense layer dominates it, so
# pooling before it shrinks the model most. It is the cost to read for a memory budget.
# A red dot without a ring is fast but not small; a ring without red is small but was not
# among the fastest. To search for both, add `"params:min"` to `objective`.

# %% [markdown]
# ## Picking a model under a budget
#
# Say predictions must take at most the median latency of the trials. The most accurate
# front model within that budget is the one to deploy; `tuner.load_model(trial)` gives it
# with its best weights, like `get_best_models`.

# %%
import numpy as np

budget_ms = float(np.median([t["metrics"]["latency_ms"] for t in done]))
affordable = [t for t in front if t["metrics"]["latency_ms"] <= budget_ms] or front[:1]
chosen = max(affordable, key=lambda t: t["metrics"]["val_accuracy"])
model = tuner.load_model(tuner.oracle.get_trial(chosen["trial_id"]))
_, test_accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
print(f"budget {budget_ms:.2f} ms -> trial {chosen['trial_id']}: "
      f"val {chosen['metrics']['val_accuracy']:.3f}, test {test_accuracy:.3f}, "
      f"{chosen['metrics']['latency_ms']:.2f} ms, {chosen['metrics']['params']:.0f} params")

# %% [markdown]
# The same search from the shell: `autokeras-nas search --dataset digits --strategy popnas
# --objective val_accuracy --objective latency_ms:min --out runs/mo`.
