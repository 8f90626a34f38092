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
# # 5. Time-series classification with POPNAS
#
# POPNAS (Falanti et al., POPNASv3) searches **cells**: small graphs of blocks, each block
# `(input 1, operator 1, input 2, operator 2)` adding two transformed earlier outputs. A
# cell is stacked into a network (motifs of normal cells, with reduction cells that halve
# the length and double the filters between them). The search is progressive:
#
# 1. train cells of one block,
# 2. fit two predictors on every trained cell: a random forest for the accuracy and a
#    ridge regression for the training time per epoch,
# 3. expand every kept cell by every possible new block, predict all candidates, and
#    train the `k` on the Pareto front of (predicted accuracy high, predicted time low),
#    plus `n_explore` cells that use the least-tried operators,
# 4. repeat up to `max_blocks` blocks.
#
# The same code searches images (2-D operators) and time series (1-D operators: separable
# and dilated convolutions, pooling, LSTM, GRU). Here: **GunPoint**, from the UCR archive
# (bundled with sktime; `pip install "autokeras-nas[timeseries]"`): 150-step motion
# traces of an actor drawing a gun or pointing a finger.
#
# **Budget.** About four minutes on 2 CPU cores; `AUTOKERAS_NAS_TUTORIAL_QUICK=1` (set by the
# test suite) trains a handful of two-block cells.

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Before TensorFlow is imported: its oneDNN CPU kernels corrupt memory (the process aborts
# with "double free or corruption") when training some strided 1-D convolutions on
# 150-step series with a batch of 35 (TF 2.21). The plain kernels compute the same.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

QUICK = os.environ.get("AUTOKERAS_NAS_TUTORIAL_QUICK") == "1"
MAX_BLOCKS = 2 if QUICK else 3   # blocks of the largest cell
K_INITIAL = 2 if QUICK else 12   # one-block cells trained (of the 105 possible)
K = 1 if QUICK else 4            # cells kept per step by the predictors' Pareto front
N_EXPLORE = 1                    # exploration cells per step
EPOCHS = 5 if QUICK else 25      # the training set is tiny: epochs are cheap
MAX_TRIALS = K_INITIAL + (MAX_BLOCKS - 1) * (K + N_EXPLORE)
print(f"quick={QUICK}: {MAX_TRIALS} cells of up to {MAX_BLOCKS} blocks, {EPOCHS} epochs each")

# %% [markdown]
# **On a GPU, raise** `MAX_BLOCKS` to 4-5, `K_INITIAL` to all one-block cells, `K` to 8-16,
# `EPOCHS`, and the macro structure (`filters=24-48`, `normal_cells=2`, `motifs=3`); add
# the recurrent operators `"lstm"` and `"gru"`, which are slow on a CPU.

# %% [markdown]
# ## The data
#
# `load_dataset("ucr:GunPoint")` returns z-normalised series of shape `(steps, channels)`,
# the official test set, and a seeded stratified validation split of the official training
# set. GunPoint's training set has only 50 series, so we hold out 30 % (15) for
# validation.

# %%
import numpy as np
from autokeras_nas.data import load_dataset

data = load_dataset("ucr:GunPoint", seed=0, validation_split=0.3)
print(data.describe())
print(data.source)

# %%
import matplotlib.pyplot as plt
from IPython.display import Image, display


def show(fig, filename):
    """Saves `fig` beside the notebook (to open at full size) and shows it inline."""
    fig.savefig(filename, dpi=110)
    plt.show()


fig, ax = plt.subplots(figsize=(7, 3))
for label in range(data.num_classes):
    series = data.x_train[data.y_train == label][:5, :, 0]
    for i, s in enumerate(series):
        ax.plot(s, c=f"C{label}", lw=1, alpha=0.8, label=f"class {label}" if i == 0 else None)
ax.set_xlabel("time step")
ax.set_ylabel("z-normalised position")
ax.set_title("GunPoint: five training series per class")
ax.legend()
fig.tight_layout()
show(fig, "05_series.png")

# %% [markdown]
# ## The cell space
#
# `CellHyperModel` is the cell space as a KerasTuner hypermodel; the input's rank selects
# the 1-D operators. We leave out the recurrent ones to keep the notebook fast, and use a
# small macro structure: 2 motifs of 1 normal cell, 8 filters.

# %%
from autokeras_nas.spaces import OPS_1D
from autokeras_nas.tuner import CellHyperModel

print("all 1-D operators:", OPS_1D)
ops = ("identity", "sep7", "conv7", "conv13", "dconv7-2", "maxpool3", "avgpool3")
hypermodel = CellHyperModel(data.input_shape, data.num_classes, ops=ops, max_blocks=MAX_BLOCKS,
                            motifs=2, normal_cells=1, filters=8, learning_rate=3e-3)
print(f"one-block cells: {len(hypermodel.space.one_block_cells())}")

# %% [markdown]
# ## The search
#
# `Popnas` with a `CellHyperModel` is the progressive search. `k_initial` samples that
# many one-block cells; `k` and `n_explore` set the cells trained at each later step.

# %%
import keras
import autokeras_nas

keras.utils.set_random_seed(0)
tuner = autokeras_nas.Popnas(
    hypermodel,
    objective="val_accuracy",
    max_trials=MAX_TRIALS,
    k_initial=K_INITIAL,
    k=K,
    n_explore=N_EXPLORE,
    seed=0,
    directory="runs_gunpoint",
    project_name="popnas",
    overwrite=True,
)
tuner.search(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
             epochs=EPOCHS, batch_size=16, verbose=0)

# %% [markdown]
# Every trained cell is in `results.json`: its `arch` (the cell's blocks, inputs -1 and
# -2 being the previous two cells' outputs, 0, 1, ... earlier blocks of the same cell) and,
# from the second step on, the predictions that chose it (`notes`).

# %%
results = autokeras_nas.read_results(tuner.project_dir)
trials = [t for t in results["trials"] if t["status"] == "completed"]
print(f"{'trial':>5} {'blocks':>6} {'origin':>8} {'val_acc':>7} {'pred_acc':>8} "
      f"{'s/epoch':>7} {'pred_s':>6}  cell")
for t in trials:
    n, m = t["notes"], t["metrics"]
    pred_acc = f"{n['predicted_accuracy']:.3f}" if "predicted_accuracy" in n else "-"
    pred_time = f"{n['predicted_time_per_epoch']:.3f}" if "predicted_time_per_epoch" in n else "-"
    print(f"{t['trial_id']:>5} {n['blocks']:>6} {n['origin']:>8} {m['val_accuracy']:7.3f} "
          f"{pred_acc:>8} {m['train_time_s'] / m['epochs']:7.3f} {pred_time:>6}  {t['arch']['cell']}")

# %% [markdown]
# Checked (the test suite runs this notebook): `k_initial` one-block cells, then every
# cell of `b` blocks extends a trained cell of `b - 1` blocks by one block, and was chosen
# by both predictors.

# %%
space = hypermodel.space
cells = {space.canonical(t["arch"]["cell"]): t for t in trials}
assert sum(t["notes"]["blocks"] == 1 for t in trials) == K_INITIAL
for cell, t in cells.items():
    assert len(cell) == t["notes"]["blocks"] <= MAX_BLOCKS, (t["trial_id"], cell)
    if len(cell) > 1:
        assert any(cell in space.expand(p) for p in cells if len(p) == len(cell) - 1), \
            f"trial {t['trial_id']} does not extend a trained cell"
        assert {"predicted_accuracy", "predicted_time_per_epoch"} <= set(t["notes"])
assert max(len(c) for c in cells) == MAX_BLOCKS

# %% [markdown]
# ## Predicted against actual
#
# The predictors decide which cells are trained, so how well do they predict? For every
# cell trained from the second step on, the prediction made before training (x) against
# what training gave (y). On the diagonal the prediction was exact. What matters for the
# search is mostly the *ranking* (Spearman correlation, printed below): a predictor that
# is off by a constant still picks the right cells.

# %%
predicted = [t for t in trials if "predicted_accuracy" in t["notes"]]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
pairs = (
    (left, "predicted_accuracy", lambda t: t["metrics"]["val_accuracy"], "validation accuracy"),
    (right, "predicted_time_per_epoch", lambda t: t["metrics"]["train_time_s"] / t["metrics"]["epochs"],
     "training time per epoch (s)"),
)
for ax, note, actual, label in pairs:
    x = np.array([t["notes"][note] for t in predicted])
    y = np.array([actual(t) for t in predicted])
    blocks = np.array([t["notes"]["blocks"] for t in predicted])
    for b in sorted(set(blocks)):
        ax.scatter(x[blocks == b], y[blocks == b], s=30, label=f"{b} blocks", c=f"C{b}")
    low, high = min(x.min(), y.min()), max(x.max(), y.max())
    pad = 0.05 * (high - low or 1)
    ax.plot([low - pad, high + pad], [low - pad, high + pad], "k--", lw=0.8, label="exact")
    ax.set_xlabel(f"predicted {label}")
    ax.set_ylabel(f"actual {label}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
left.set_title("accuracy predictor (random forest)")
right.set_title("time predictor (ridge regression)")
fig.tight_layout()
show(fig, "05_predicted_vs_actual.png")
for quantity, row in tuner.predictor_correlations().items():
    print(f"Spearman, predicted vs actual {quantity} over {row['n']:.0f} cells: "
          + ", ".join(f"{k} {v:+.2f}" for k, v in row.items() if k != "n"))

# %% [markdown]
# How to read it: above the diagonal a cell did better (or took longer) than predicted,
# below it worse (or faster). On GunPoint neither predictor has much to work with, and the
# plot shows why:
#
# * accuracy: 15 validation series make it move in steps of 1/15, and many cells classify
#   all of them correctly: a ceiling at 1.0 that no predictor can rank,
# * time: an epoch over 35 series is three batches, whose time is mostly Keras' fixed cost
#   per batch and whatever else the CPU is doing, not the operators; the actual times sit
#   in a narrow band while the predictions, fitted on the operators' costs, spread.
#
# On a larger dataset with longer trainings both signals grow. The Spearman correlations
# (ranking agreement, from -1 to 1; NaN with too few points or no spread) say the same in
# numbers. With the quick setting there are only a few points: read nothing into them.
#
# `Popnas.search` also wrote `pareto.png` in the search directory: every trained cell's
# validation accuracy against its training time, with the front.

# %%
display(Image(os.path.join(tuner.project_dir, "pareto.png")))

# %% [markdown]
# ## The best cell on the test set
#
# The official test set (150 series) was never seen by the search.

# %%
best_trial = tuner.oracle.get_best_trials(1)[0]
model = tuner.get_best_models(1)[0]
_, test_accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
cell = next(t["arch"]["cell"] for t in trials if t["trial_id"] == best_trial.trial_id)
print(f"best cell (trial {best_trial.trial_id}): {cell}")
print(f"validation accuracy {best_trial.score:.3f}, test accuracy {test_accuracy:.3f}, "
      f"{model.count_params()} parameters")

# %% [markdown]
# From the shell: `autokeras-nas search --dataset ucr:GunPoint --strategy popnas --out runs/gp`.
