"""The report of `autokeras-nas bench oneshot`: each supernet's rank
statistics against the ground truth, the memory claim, and the table.
Numpy (and SciPy) only."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from autokeras_nas.bench.oneshot_truth import choice_rank, rank_correlations

__all__ = ["format_oneshot", "memory_claim", "run_line", "summarize"]


def summarize(record: dict[str, Any], truth: Sequence[float]) -> dict[str, Any]:
    """A supernet's record with its rank statistics against `truth` (the
    sample's true accuracies, in sample order)."""
    out = dict(record)
    if out.get("status") != "ok" or not truth:
        return out
    estimates = out.get("estimates") or []
    if estimates:  # none when the benchmark ran without estimates
        out.update(rank_correlations(truth, estimates))
        out["chosen"] = choice_rank(truth, estimates)
    derived = out.get("derived_truth")
    if derived:
        rank = 1 + sum(1 for t in truth if t > derived["mean"])
        out["derived_rank"] = {"rank": rank, "of": len(truth) + 1,
                               "top_quarter": rank <= math.ceil((len(truth) + 1) / 4),
                               "true_accuracy": derived["mean"],
                               "test_accuracy": derived.get("test_mean")}
    log_probs = out.get("controller_log_probs")
    if log_probs:
        out["controller_choice"] = choice_rank(truth, log_probs)
        out["controller_kendall_tau"] = rank_correlations(truth, log_probs)["kendall_tau"]
    return out


def memory_claim(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """"Single-path training uses at most half the peak memory of
    all-paths", from the supernets' peak resident memory above what their
    process held before the supernet was built: spos (or another
    single-path run without conditional weights) against oneshot (an
    all-paths run). None without both."""
    ok = [r for r in runs if r.get("status") == "ok" and r.get("peak_increase_mb") is not None]
    single = sorted((r for r in ok if r.get("mode") == "single" and not r["conditional"]),
                    key=lambda r: r["strategy"] != "spos")
    every = [r for r in ok if r.get("mode") == "all"]
    if not single or not every:
        return None
    a, b = single[0], every[0]
    ratio = a["peak_increase_mb"] / max(b["peak_increase_mb"], 1e-9)
    return {"single": a["label"], "all": b["label"], "single_increase_mb": a["peak_increase_mb"],
            "all_increase_mb": b["peak_increase_mb"], "ratio": round(ratio, 3),
            "holds": bool(ratio <= 0.5)}


def _num(value: Any, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _rank(choice: Mapping[str, Any] | None) -> str:
    return "-" if not choice else f"{choice['rank']}/{choice['of']}"


def run_line(record: Mapping[str, Any]) -> str:
    if record.get("status") != "ok":
        return f"{record['label']}: FAILED: {record.get('error')}"
    return (f"{record['label']}: supernet {record['supernet_train_s']:.0f} s, peak "
            f"{_num(record.get('peak_rss_mb'), '.0f')} MiB, tau "
            f"{_num(record.get('kendall_tau'), '.2f')}")


def _truth_lines(truth: Mapping[str, Any]) -> list[str]:
    means = [a["mean"] for a in truth["architectures"]]
    ceiling = truth["noise_ceiling"]
    return [f"ground truth: {len(means)} cells trained alone for {truth['epochs']} epoch(s) with "
            f"seeds {truth['seeds'][0]} and {truth['seeds'][1]} (mean "
            f"{truth['mean_train_time_s']:.0f} s each); val accuracy {min(means):.4f} to "
            f"{max(means):.4f}",
            f"noise ceiling (seed {truth['seeds'][0]} vs seed {truth['seeds'][1]}): tau "
            f"{_num(ceiling['kendall_tau'], '.3f')}, rho {_num(ceiling['spearman_rho'], '.3f')}"]


def _table(payload: Mapping[str, Any]) -> list[str]:
    """The supernets' rows (none without supernets)."""
    if not payload["runs"]:
        return []
    head = (f"{'supernet':<20}{'tau':>7}{'rho':>7}{'chosen':>8}{'its acc':>9}{'epochs':>8}"
            f"{'train s':>9}{'peak MiB':>10}{'(+supernet)':>12}")
    lines = ["", head]
    for r in payload["runs"]:
        if r.get("status") != "ok":
            lines.append(f"{r['label']:<20}FAILED: {r.get('error')}")
            continue
        chosen = r.get("chosen") or {}
        lines.append(f"{r['label']:<20}{_num(r.get('kendall_tau'), '.3f'):>7}"
                     f"{_num(r.get('spearman_rho'), '.3f'):>7}{_rank(chosen):>8}"
                     f"{_num(chosen.get('true_accuracy'), '.4f'):>9}{r['epochs']:>8}"
                     f"{r['supernet_train_s']:>9.0f}{_num(r.get('peak_rss_mb'), '.0f'):>10}"
                     f"{'+' + _num(r.get('peak_increase_mb'), '.0f'):>12}")
    if payload.get("truth"):
        lines.append("chosen: the truth rank of the supernet's best estimate (1 = best of "
                     "the sample); its acc: that cell's true accuracy")
    for r in payload["runs"]:
        if r.get("derived_rank"):
            d, share = r["derived_rank"], r.get("parameter_free_share")
            test = d.get("test_accuracy")
            lines.append(f"{r['label']}: its derived cell (what it retrains), trained alone "
                         f"like the sample, ranks {_rank(d)} (the sample and itself; "
                         f"accuracy {_num(d['true_accuracy'], '.4f')}"
                         + ("" if test is None else f", test accuracy {test:.4f}") + "); "
                         f"{_num(None if share is None else 100 * share, '.0f')}% of its "
                         f"edges are parameter-free: {_cell(r.get('derived'))}")
    for r in payload["runs"]:
        if r.get("controller_choice"):
            lines.append(f"{r['label']}: the 'chosen' cell is its best estimate (what the "
                         "enas strategy retrains); the controller's most probable cell of the "
                         f"sample ranks {_rank(r['controller_choice'])} (tau of its "
                         f"log-probabilities {_num(r.get('controller_kendall_tau'), '.3f')})")
    return lines


def _cell(arch: Mapping[str, str] | None) -> str:
    return "-" if not arch else " ".join(f"{k}={v}" for k, v in sorted(arch.items()))


def format_oneshot(payload: Mapping[str, Any]) -> str:
    """The benchmark as a table, with the ground truth and the memory claim."""
    lines = [f"bench oneshot on {payload['dataset_loaded']} ({payload['train_size']} train / "
             f"{payload['val_size']} val), NAS-Bench-201 cells (channels "
             f"{payload['space']['channels']}, {payload['space']['cells_per_stage']} cell(s) "
             f"per stage), batch {payload['batch_size']}, seed {payload['seed']}"
             + "".join(f", {k}={v}" for k, v in sorted((payload.get("params") or {}).items()))]
    if payload.get("truth"):
        lines += _truth_lines(payload["truth"])
    lines += _table(payload)
    memory = payload.get("memory")
    if memory:
        verdict = "holds" if memory["holds"] else "does not hold"
        lines.append(f"memory: single-path ({memory['single']}) +{memory['single_increase_mb']:.0f}"
                     f" MiB vs all-paths ({memory['all']}) +{memory['all_increase_mb']:.0f} MiB "
                     f"above the process before the supernet: ratio {memory['ratio']:.2f}; "
                     f"'at most half' {verdict}")
    lines += [f"note: {note}" for note in payload.get("notes", [])]
    return "\n".join(lines)
