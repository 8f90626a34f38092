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
# # 1. A drop-in for `keras_tuner.RandomSearch`
#
# You already have a KerasTuner script: a `build_model(hp)` function and
#
# ```python
# tuner = keras_tuner.RandomSearch(build_model, objective="val_accuracy", max_trials=20)
# tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=5)
# ```
#
# `autokeras_nas` gives you four search strategies with the same signature. Change
# one name and keep the rest of the script (`search`, `get_best_models`,
# `get_best_hyperparameters`, `results_summary`, `overwrite=False` to resume):
#
# | tuner | what it does |
# |---|---|
# | `autokeras_nas.RandomSearch` | random search without repeats (optionally with ASHA early stopping) |
# | `autokeras_nas.AgingEvolution` | regularized evolution: mutate the winner of a small tournament, retire the oldest |
# | `autokeras_nas.Nash` | hill climbing: neighbours of the best model, warm-started from its weights |
# | `autokeras_nas.Popnas` | model-based (SMBO): a Gaussian process predicts which configuration to try next |
#
# This notebook runs all four on the same `build_model(hp)` and the same data
# (scikit-learn's bundled 8x8 digits) and compares how fast each finds a good model.
#
# **Budget.** About five minutes on 2 CPU cores (64 trainings). The test suite sets
# `AUTOKERAS_NAS_TUTORIAL_QUICK=1` to run it in seconds with tiny budgets (the numbers
# then mean little).

# %%
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quieter TensorFlow start-up

QUICK = os.environ.get("AUTOKERAS_NAS_TUTORIAL_QUICK") == "1"
MAX_TRIALS = 4 if QUICK else 16  # trials per strategy
EPOCHS = 1 if QUICK else 5       # training epochs per trial
print(f"quick={QUICK}: {MAX_TRIALS} trials x {EPOCHS} epochs per strategy")

# %% [markdown]
# **On a GPU, raise** `MAX_TRIALS` (50-100) and `EPOCHS` (10-20), and use a real
# dataset (e.g. Fashion-MNIST with `autokeras_nas.data.load_dataset("fashion_mnist")`);
# the search code below does not change.

# %% [markdown]
# ## Data and your `build_model(hp)`
#
# The digits come with scikit-learn: 1,797 images of 8x8 pixels, flattened to 64
# features. We keep 20 % for a final test and 20 % of the rest for validation, which
# the tuners use to rank trials.

# %%
import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

x, y = load_digits(return_X_y=True)
x = (x / 16.0).astype("float32")
x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
x_train, x_val, y_train, y_val = train_test_split(
    x_rest, y_rest, test_size=0.2, random_state=0, stratify=y_rest)
print(x_train.shape, x_val.shape, x_test.shape)


# %%
def build_model(hp):
    """An MLP for the 64 pixels, as in the KerasTuner guide."""
    model = keras.Sequential([keras.Input((64,))])
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(keras.layers.Dense(
            units=hp.Int(f"units_{i}", min_value=32, max_value=256, step=32),
            activation=hp.Choice("activation", ["relu", "tanh"])))
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(rate=0.25))
    model.add(keras.layers.Dense(10, activation="softmax"))
    learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log", default=1e-3)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# %% [markdown]
# ## The four tuners
#
# Every tuner takes KerasTuner's arguments (`objective`, `max_trials`, `directory`,
# `project_name`, `overwrite`, ...) plus `seed` (the same seed gives the same
# proposals) and its own knobs:
#
# * `AgingEvolution(population_size=P, sample_size=S)`: the last P results form the
#   population; each child mutates one hyperparameter of the best of S random members.
#   Small P and S explore, large ones exploit.
# * `Nash(n_neigh=N, n_nm=K, epochs_start=..., epochs_neigh=...)`: each step trains N
#   neighbours of the current best, each with K hyperparameters changed, and starts each
#   from the parent's weights in the layers whose names and shapes match. Nash sets the
#   epochs of every trial itself, so `search(epochs=...)` is ignored; we give it the same
#   `EPOCHS`. It stops at the last whole step that fits in `max_trials`. Its first trial
#   uses the `default` of every hyperparameter (hence `default=1e-3` for the learning
#   rate above: without it, the default of a `Float` is its minimum).
# * `Popnas(n_init=I)`: I random trials, then each trial is the configuration with the
#   best optimistic prediction of a Gaussian process fitted on the results so far; once 40
#   trials have run and 20 in a row brought no new best, it restarts with fresh random
#   trials and a new model (`restart_patience=20`).

# %%
import autokeras_nas

common = dict(objective="val_accuracy", max_trials=MAX_TRIALS, seed=0,
              directory="runs_drop_in", overwrite=True)
population = max(2, MAX_TRIALS // 4)
tuners = {
    "RandomSearch": autokeras_nas.RandomSearch(build_model, project_name="random", **common),
    "AgingEvolution": autokeras_nas.AgingEvolution(
        build_model, project_name="aging", population_size=population,
        sample_size=max(2, population // 2), **common),
    "Nash": autokeras_nas.Nash(
        build_model, project_name="nash", n_neigh=3, n_nm=1,
        epochs_start=EPOCHS, epochs_neigh=EPOCHS, **common),
    "Popnas": autokeras_nas.Popnas(
        build_model, project_name="popnas", n_init=max(2, MAX_TRIALS // 4), **common),
}

# %% [markdown]
# `search` is KerasTuner's: the same call for every tuner.

# %%
import time

keras.utils.set_random_seed(0)
seconds = {}
for name, tuner in tuners.items():
    start = time.perf_counter()
    tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=EPOCHS,
                 batch_size=32, verbose=0)
    seconds[name] = time.perf_counter() - start
    print(f"{name:15s} {len(tuner.oracle.trials):3d} trials in {seconds[name]:5.1f} s")

# %% [markdown]
# Everything KerasTuner offers still works, for example the summary of the best trial:

# %%
tuners["AgingEvolution"].results_summary(num_trials=1)

# %% [markdown]
# ## Best-so-far validation accuracy
#
# Each search directory holds `results.json`: every trial's hyperparameters, status,
# metrics (yours plus `train_time_s`, `params`, `latency_ms`), learning curve and parent.
# `autokeras_nas.read_results` reads it (it is plain JSON). For each strategy we plot the
# best validation accuracy found after 1, 2, ... trials: the curve that rises earliest
# and highest found good models with the fewest trainings.

# %%
def best_so_far(results):
    """Best val_accuracy after each trial, in the order the trials ran."""
    trials = sorted(results["trials"], key=lambda t: int(t["trial_id"]))
    best, curve = -np.inf, []
    for t in trials:
        value = t["metrics"].get("val_accuracy")
        if t["status"] == "completed" and value is not None:
            best = max(best, value)
        curve.append(best)
    return np.array(curve)


results = {name: autokeras_nas.read_results(t.project_dir) for name, t in tuners.items()}
curves = {name: best_so_far(r) for name, r in results.items()}
for name, curve in curves.items():
    print(f"{name:15s} best val_accuracy {curve[-1]:.3f} after {len(curve)} trials")

# %% [markdown]
# What the table above promised, checked (the test suite runs this notebook): every
# tuner ran within its `max_trials`, every trial completed, and `RandomSearch` never
# repeated a configuration.

# %%
for name, r in results.items():
    assert 0 < len(r["trials"]) <= MAX_TRIALS, (name, len(r["trials"]))
    assert all(t["status"] == "completed" for t in r["trials"]), name
drawn = [json.dumps(t["values"], sort_keys=True) for t in results["RandomSearch"]["trials"]]
assert len(set(drawn)) == len(drawn), "RandomSearch repeated a configuration"

# %%
import matplotlib.pyplot as plt


def show(fig, filename):
    """Saves `fig` beside the notebook (to open at full size) and shows it inline."""
    fig.savefig(filename, dpi=110)
    plt.show()


fig, ax = plt.subplots(figsize=(6.5, 4))
for name, curve in curves.items():
    ax.step(np.arange(1, len(curve) + 1), curve, where="post", marker="o", ms=3, label=name)
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
ax.set_xlabel("trial")
ax.set_ylabel("best validation accuracy so far")
ax.set_title(f"digits, {EPOCHS} epoch(s) per trial, seed 0")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
show(fig, "01_best_so_far.png")

# %% [markdown]
# How to read it: every curve starts at the first trial's accuracy and only goes up.
# One seed on one small dataset is an anecdote, not a benchmark: the ranking of
# strategies changes from seed to seed. To compare strategies properly, run many seeds;
# notebook 6 does that in seconds on a tabular benchmark.

# %% [markdown]
# ## The best model, as with KerasTuner
#
# `get_best_models` and `get_best_hyperparameters` work as before. The test set was kept
# out of the search, so its accuracy is an honest estimate.

# %%
for name, tuner in tuners.items():
    model = tuner.get_best_models(1)[0]
    hp = tuner.get_best_hyperparameters(1)[0]
    _, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"{name:15s} test accuracy {test_accuracy:.3f}  "
          f"{json.dumps({k: v for k, v in hp.values.items() if not k.startswith('nas/')})}")

# %% [markdown]
# Next: notebook 3 searches for accuracy *and* speed at once, notebook 4 shows Nash on a
# network that grows by function-preserving morphisms.
