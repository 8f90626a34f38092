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
# # 4. NASH: watching a network grow by network morphisms
#
# NASH (Elsken, Metzen & Hutter, 2017) is hill climbing over architectures where every
# move is a **network morphism**: a change of the network that keeps the function it
# computes. A child made deeper (a new conv layer initialised as the identity), wider
# (units copied, Net2Net-style), or given a skip connection (with zero weights) starts
# exactly where its trained parent ended, so a few epochs of training are enough to see
# whether the change helps. The search:
#
# 1. trains a small start network (conv-pool-conv-pool-conv-dense),
# 2. for `n_steps` steps: makes `n_neigh - 1` children of the current best, each by
#    `n_nm` random morphisms, plus the best itself trained further; trains each for
#    `epochs_neigh` epochs with SGDR (cosine learning-rate schedule, restarted for every
#    child); the best on validation becomes the next parent,
# 3. trains the winner for `epochs_final` more epochs.
#
# This notebook runs it on scikit-learn's 8x8 digits (400 training images) and looks inside: how the network
# grows, the lineage of the winner, and the measured preservation errors.
#
# **Budget.** Three to four minutes on 2 CPU cores; `AUTOKERAS_NAS_TUTORIAL_QUICK=1`
# (set by the test suite) runs two tiny steps.

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

QUICK = os.environ.get("AUTOKERAS_NAS_TUTORIAL_QUICK") == "1"
N_NEIGH = 2 if QUICK else 4        # neighbours per step (one of them: the parent trained further)
N_NM = 2 if QUICK else 3           # morphisms per child
STEPS = 2 if QUICK else 5          # hill-climbing steps
EPOCHS_START, EPOCHS_NEIGH, EPOCHS_FINAL = (1, 1, 1) if QUICK else (4, 2, 6)
MAX_TRIALS = 1 + STEPS * N_NEIGH + 1  # start + steps + final training
print(f"quick={QUICK}: {STEPS} steps of {N_NEIGH} neighbours, {MAX_TRIALS} trials")

# %% [markdown]
# **On a GPU, raise** towards the paper's settings: `N_NEIGH=8`, `N_NM=5`, `STEPS=8`,
# epochs 20 / 17 / 20, wider start filters (`MorphHyperModel(filters=(64, 128, 256))`),
# and use a real dataset such as CIFAR-10 or Fashion-MNIST. `time_budget_s=` stops the
# search when the next step would not fit in a training-time budget.

# %% [markdown]
# ## The start network
#
# `autokeras_nas.tuner.MorphHyperModel` is the morphable network as a KerasTuner
# hypermodel. Its architecture is a JSON spec (a list of nodes); the tuner turns each
# spec into a Keras model, and a child's spec records the morphisms that made it.

# %%
from autokeras_nas.data import load_dataset
from autokeras_nas.tuner import MorphHyperModel

data = load_dataset("digits", seed=0)
print(data.describe())
# Trained on all 1,150 images, this network reaches 99 % validation accuracy within a few
# epochs; every neighbour then ties and hill climbing has nothing left to tell apart. The
# first 400 training images (in random order, all ten classes) keep the task open.
x_train, y_train = data.x_train[:400], data.y_train[:400]
hypermodel = MorphHyperModel(data.input_shape, data.num_classes, filters=(16, 32, 64),
                             dense_units=64, max_lr=0.02)


def layers(net):
    """The spec's layers, e.g. conv16 pool conv32 ..."""
    out = []
    for node in net["nodes"][1:]:
        size = node.get("filters") or node.get("units") or ""
        out.append(f"{node['op']}{size}")
    return " ".join(out)


def depth(net):
    """Weight layers (conv, projection, dense, output) on the longest input-output path."""
    longest = {}
    for node in net["nodes"]:
        before = max((longest[i] for i in node.get("inputs", [])), default=0)
        longest[node["id"]] = before + (node["op"] in ("conv", "proj", "dense", "output"))
    return longest[net["nodes"][-1]["id"]]


print(layers(hypermodel.start), "| depth", depth(hypermodel.start))

# %% [markdown]
# ## The search
#
# `autokeras_nas.Nash` takes the hypermodel and the NASH knobs. It sets every trial's
# epochs itself (`search(epochs=...)` is ignored).

# %%
import keras
import autokeras_nas

keras.utils.set_random_seed(0)
tuner = autokeras_nas.Nash(
    hypermodel,
    objective="val_accuracy",
    max_trials=MAX_TRIALS,
    n_neigh=N_NEIGH,
    n_nm=N_NM,
    epochs_start=EPOCHS_START,
    epochs_neigh=EPOCHS_NEIGH,
    epochs_final=EPOCHS_FINAL,
    seed=0,
    directory="runs_nash",
    project_name="digits",
    overwrite=True,
)
tuner.search(x_train, y_train, validation_data=(data.x_val, data.y_val),
             batch_size=32, verbose=0)

# %% [markdown]
# ## What `results.json` records
#
# Every trial names its `parent_id`; its `notes` say where it came from (`origin`: start,
# neighbour or final), its hill-climbing `step` and the `morphisms` applied to the parent;
# its `outputs` hold the measured `preservation_error`; its `arch` holds the network spec.

# %%
import autokeras_nas

results = autokeras_nas.read_results(tuner.project_dir)
trials = {t["trial_id"]: t for t in results["trials"]}
print(f"{'trial':>5} {'origin':>9} {'step':>4} {'parent':>6} {'val_acc':>7} {'params':>7} "
      f"{'depth':>5}  morphisms")
for t in trials.values():
    notes, net = t["notes"], t["arch"]["net"]
    step = notes.get("step", 0 if notes["origin"] == "start" else "")
    print(f"{t['trial_id']:>5} {notes['origin']:>9} {step!s:>4} {t['parent_id'] or '-':>6} "
          f"{t['metrics']['val_accuracy']:7.3f} {t['metrics']['params']:7.0f} {depth(net):5d}  "
          f"{'; '.join(notes.get('morphisms', [])) or '-'}")

# %% [markdown]
# ## The network grows
#
# Left: the search tree. Each dot is a trial at its step (the start network at 0, the final
# training last); a line joins each child to its parent; the red path is the lineage of the
# final model. Right: the parameters of every trial, and of each step's chosen network.
# Morphisms only add (layers, units, connections), so the chosen networks grow step by
# step unless the parent trained further beats all its children. Neighbours of one step
# are spread a little sideways so that they do not hide each other.

# %%
import matplotlib.pyplot as plt
import numpy as np


def show(fig, filename):
    """Saves `fig` beside the notebook (to open at full size) and shows it inline."""
    fig.savefig(filename, dpi=110)
    plt.show()


last_step = max(t["notes"].get("step", 0) for t in trials.values())
siblings = {}  # (parent, step) -> ids, to spread the neighbours of a step a little


def step_of(t):
    """x position: the step (start 0, final last), neighbours spread by +-0.15."""
    notes = t["notes"]
    if notes["origin"] == "start":
        return 0
    if notes["origin"] == "final":
        return last_step + 1
    group = siblings.setdefault((t["parent_id"], notes["step"]), [])
    if t["trial_id"] not in group:
        group.append(t["trial_id"])
    return notes["step"] + 0.3 * (group.index(t["trial_id"]) / max(1, N_NEIGH - 1) - 0.5)


final = next(t for t in trials.values() if t["notes"]["origin"] == "final")
lineage = [final]
while lineage[-1]["parent_id"] is not None:
    lineage.append(trials[lineage[-1]["parent_id"]])
lineage.reverse()
on_path = {t["trial_id"] for t in lineage}

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
for t in trials.values():
    if t["parent_id"] is not None:
        p = trials[t["parent_id"]]
        path = t["trial_id"] in on_path and p["trial_id"] in on_path
        for ax, key in ((left, "val_accuracy"), (right, "params")):
            ax.plot([step_of(p), step_of(t)], [p["metrics"][key], t["metrics"][key]],
                    c="C3" if path else "0.75", lw=2 if path else 0.8, zorder=2 if path else 1)
for ax, key in ((left, "val_accuracy"), (right, "params")):
    xs = [step_of(t) for t in trials.values()]
    ys = [t["metrics"][key] for t in trials.values()]
    colors = ["C3" if t["trial_id"] in on_path else "C0" for t in trials.values()]
    ax.scatter(xs, ys, c=colors, s=22, zorder=3)
    ax.set_xticks(range(last_step + 2), ["start", *range(1, last_step + 1), "final"])
    ax.set_xlabel("hill-climbing step")
    ax.grid(alpha=0.3)
for t in lineage:
    right.annotate(f"depth {depth(t['arch']['net'])}", (step_of(t), t["metrics"]["params"]),
                   textcoords="offset points", xytext=(4, -10), fontsize=7, color="C3")
left.set_ylabel("validation accuracy")
left.set_title("search tree; red: lineage of the final model")
right.set_ylabel("parameters")
right.set_title("network size (red: lineage, with its depth)")
fig.tight_layout()
show(fig, "04_growth.png")

# %% [markdown]
# ## The lineage of the winner
#
# Following `parent_id` from the final model back to the start network gives the chain of
# morphisms that built it. An empty list is the parent trained further.

# %%
for t in lineage:
    notes = t["notes"]
    print(f"trial {t['trial_id']:>2} ({notes['origin']}, val_acc {t['metrics']['val_accuracy']:.3f}, "
          f"{t['metrics']['params']:.0f} params, depth {depth(t['arch']['net'])})")
    for m in notes.get("morphisms", []):
        print(f"      + {m}")
print("final network:", layers(final["arch"]["net"]))

# %% [markdown]
# ## Were the morphisms function-preserving?
#
# Before training a child, the tuner loads the parent's weights, maps them through the
# morphisms and measures `preservation_error`: the largest absolute difference between
# parent and child outputs (class probabilities, inference mode) on a batch of training
# images. Up to float32 round-off it should be 0; the tests hold it below 1e-4.

# %%
children = [t for t in trials.values() if "preservation_error" in t["outputs"]]
errors = np.array([t["outputs"]["preservation_error"] for t in children])
ids = np.array([int(t["trial_id"]) for t in children])
trained_further = np.array([not t["notes"].get("morphisms") for t in children])
print(f"{len(children)} children: largest preservation error {errors.max():.2e}, "
      f"{np.sum(errors == 0)} exactly 0")
# Checked (the test suite runs this notebook): some children were morphed, every child
# started within 1e-4 of its parent's function, and no morphism removed parameters.
assert (~trained_further).any(), "no child was morphed"
assert errors.max() < 1e-4, errors.max()
assert all(t["metrics"]["params"] >= trials[t["parent_id"]]["metrics"]["params"]
           for t in trials.values() if t["parent_id"] is not None)

fig, ax = plt.subplots(figsize=(6.5, 3.8))
floor = 1e-9  # log scale: errors of exactly 0 are drawn at this floor, as open circles
for mask, label, face in (
        (~trained_further & (errors > 0), "morphed child", "C0"),
        (~trained_further & (errors == 0), "morphed child, exactly 0", "none"),
        (trained_further, "no morphism (parent trained further, final)", "0.6")):
    if mask.any():
        ax.scatter(ids[mask], np.maximum(errors[mask], floor), s=30, label=label,
                   facecolors=face, edgecolors="C0" if face != "0.6" else "0.4")
ax.axhline(1e-4, c="C3", ls="--", label="tolerance 1e-4")
ax.set_yscale("log")
ax.set_ylim(floor / 3, 10.0)  # room above the line for the legend
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
ax.set_xlabel("trial")
ax.set_ylabel("max |child - parent| output")
ax.set_title("function preservation of every child at its start")
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=7, loc="upper left", ncol=2)
fig.tight_layout()
show(fig, "04_preservation.png")

# %% [markdown]
# How to read it: every dot is one child; all should lie far below the dashed line. Skip
# connections with zero weights preserve the function exactly (0, open circles); widening
# and deepening divide and re-multiply weights, which costs float32 round-off (about
# 1e-7). A child above the line would not have started from its parent's function: a bug
# in a morphism's weight transfer, not bad luck.
#
# ## Which model to keep
#
# NASH's answer is the final model: the last step's winner after its longer training.
# `get_best_models(1)` answers KerasTuner's question instead, the trial with the best
# validation accuracy, which can be an earlier neighbour (a step's winner is the best of
# *its* neighbours, even when that is below its parent: each SGDR restart first costs some
# accuracy). `snapshot_ensemble()` averages the winner of every step, the paper's cheap
# ensemble. The test set was never seen by the search.

# %%
candidates = {
    f"final model (trial {final['trial_id']})": tuner.load_model(tuner.oracle.get_trial(final["trial_id"])),
    f"best validation (trial {tuner.oracle.get_best_trials(1)[0].trial_id})": tuner.get_best_models(1)[0],
    "snapshot ensemble": tuner.snapshot_ensemble(),
}
for name, model in candidates.items():
    _, test_accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
    print(f"{name:30s} test accuracy {test_accuracy:.3f}")
