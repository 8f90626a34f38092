"""The dashboard in a real headless Chromium (Selenium; no TensorFlow).

The searches shown: two real digits searches (tests/fixtures/dashboard:
`autokeras-nas search --dataset digits --strategy random --max-trials 6
--epochs 1`, and `--strategy spos --time-budget 60s --epochs 1`) and
synthetic ones of every kind (`autokeras_nas.dashboard.synthetic`: the
image space, NAS-Bench-201 edges with a steering edit, a nash lineage, a
one-shot search, POPNAS predictions). Every view draws a non-empty chart
where it applies and says why where it does not; a trial appended to
results.json appears without a reload; 10,000 trials render in under 2 s.

Needs the Debian packages chromium and chromium-driver (`.ci/run` installs
them): skipped with the reason without them, except on CI (CI=true), where
their absence fails.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from autokeras_nas.dashboard.server import start_background
from autokeras_nas.dashboard.synthetic import append_trial, synthetic_results, write_search
from autokeras_nas.testing.ci import on_ci

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dashboard"
#: The charts of each view.
CHARTS = {
    "progress": ("chart-progress-trials", "chart-progress-time"),
    "pareto": ("chart-pareto",),
    "hyperparameters": ("chart-parallel", "chart-importance"),
    "space": ("chart-embedding", "chart-operations"),
    "oneshot": ("chart-oneshot-estimates", "chart-oneshot-probabilities"),
    "lineage": ("chart-lineage",),
}
#: Search -> charts that must show data (the others may say why they do not apply).
MUST_DRAW = {
    "runs-digits_random": ("chart-progress-trials", "chart-progress-time", "chart-pareto",
                           "chart-parallel", "chart-embedding", "chart-operations"),
    "runs-digits_spos": ("chart-oneshot-estimates", "chart-operations", "chart-parallel"),
    "runs-image": ("chart-pareto", "chart-parallel", "chart-importance", "chart-embedding"),
    "runs-nb201": ("chart-pareto", "chart-operations", "chart-embedding"),
    "runs-nash": ("chart-lineage", "chart-progress-trials"),
    "runs-oneshot": ("chart-oneshot-estimates",),
}
MUST_NOT_APPLY = {
    "runs-image": ("chart-oneshot-estimates", "chart-lineage"),
    "runs-digits_random": ("chart-oneshot-estimates", "chart-lineage"),
}


def _require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if not missing:
        return
    reason = (f"{' and '.join(missing)} missing: the browser tests need the Debian packages "
              "chromium and chromium-driver (apt-get install chromium chromium-driver)")
    if on_ci():
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def driver():
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--enable-unsafe-swiftshader"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    browser.set_page_load_timeout(60)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dash") / "runs"
    for name in ("digits_random", "digits_spos"):
        (root / name).mkdir(parents=True)
        shutil.copy(FIXTURES / name / "results.json", root / name / "results.json")
    for kind in ("image", "nb201", "nash", "oneshot", "popnas"):
        write_search(root / kind, synthetic_results(kind, 30, seed=2))
    return root


@pytest.fixture(scope="module")
def server(runs: Path):
    with start_background([runs], allow_edit=True) as srv:
        yield srv


def wait_for(driver, script: str, timeout: float = 20.0):
    """Polls the page until `script` returns something truthy; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {script}\n{console(driver)}")
        time.sleep(0.05)


def console(driver) -> str:
    return "\n".join(e["message"] for e in driver.get_log("browser")
                     if e["level"] == "SEVERE")


def chart_states(driver, ids: tuple[str, ...]) -> dict[str, tuple[str, int, str]]:
    """Chart id -> (data-rendered, data-points, the not-applicable text), once every
    chart is drawn or says why it does not apply."""
    done = " && ".join(
        f"['true','na'].includes(document.getElementById('{i}').dataset.rendered)" for i in ids)
    wait_for(driver, f"return {done}")
    return {i: tuple(driver.execute_script(
        f"const e = document.getElementById('{i}');"
        "return [e.dataset.rendered, Number(e.dataset.points || 0),"
        " e.parentElement.querySelector('.na').hidden ? '' :"
        " e.parentElement.querySelector('.na').textContent]")) for i in ids}


def show(driver, sid: str, view: str) -> None:
    driver.execute_script(
        "const s = document.getElementById('search-select');"
        f"if (s.value !== '{sid}') {{ s.value = '{sid}'; s.dispatchEvent(new Event('change')); }}"
        f"location.hash = '#/{view}';")


def open_page(driver, url: str) -> None:
    """Loads the page afresh (not a same-document hash change) and waits for its first view."""
    driver.get("about:blank")
    driver.get(url)
    wait_for(driver, "return document.body.dataset.ready === 'true'")


def test_every_view_draws_or_says_why(driver, server) -> None:
    open_page(driver, server.url)
    sids = driver.execute_script(
        "return [...document.querySelectorAll('#search-select option')].map(o => o.value)")
    assert sids == ["runs-digits_random", "runs-digits_spos", "runs-image", "runs-nash",
                    "runs-nb201", "runs-oneshot", "runs-popnas"]
    for sid in sids:
        drawn: dict[str, tuple[str, int, str]] = {}
        for view, ids in CHARTS.items():
            show(driver, sid, view)
            drawn.update(chart_states(driver, ids))
        for chart, (state, points, reason) in drawn.items():
            assert (state == "true" and points > 0) or (state == "na" and reason), (sid, chart,
                                                                                  state, points)
        for chart in MUST_DRAW.get(sid, ()):
            assert drawn[chart][0] == "true" and drawn[chart][1] > 0, (sid, chart, drawn[chart])
        for chart in MUST_NOT_APPLY.get(sid, ()):
            assert drawn[chart][0] == "na", (sid, chart)
    # The best-so-far view overlays every search: a best-so-far line each.
    show(driver, "runs-image", "progress")
    chart_states(driver, CHARTS["progress"])
    names = driver.execute_script(
        "return document.getElementById('chart-progress-trials').data.map(t => t.name)")
    assert sum(n.endswith("best so far") for n in names) == len(sids)
    # The nb201 search's edit is marked where it first applied.
    show(driver, "runs-nb201", "progress")
    chart_states(driver, CHARTS["progress"])
    shapes = driver.execute_script(
        "return document.getElementById('chart-progress-trials').layout.shapes.length")
    assert shapes >= 1
    assert "SEVERE" not in console(driver)


def test_leaderboard_sorts_filters_and_opens_a_trial(driver, server) -> None:
    open_page(driver, server.url + "#/leaderboard")
    show(driver, "runs-nb201", "leaderboard")
    wait_for(driver, "return document.querySelector('#leaderboard tbody tr')"
                     " && document.querySelector('#leaderboard thead th[data-key=\"p:edge_0_1\"]')")
    first = driver.execute_script(
        "return document.querySelector('#leaderboard tbody tr').dataset.trialId")
    driver.execute_script(
        "document.querySelector('#leaderboard thead th[data-key=\"m:params\"]').click()")
    params = driver.execute_script(
        "const i = [...document.querySelectorAll('#leaderboard thead th')]"
        ".findIndex(th => th.dataset.key === 'm:params');"
        "return [...document.querySelectorAll('#leaderboard tbody tr')]"
        ".map(tr => Number(tr.children[i].textContent))")
    assert params == sorted(params)  # a cost sorts smallest first
    box = driver.find_element("id", "lb-filter")
    box.send_keys("edge_0_1=none")
    wait_for(driver, "return document.getElementById('leaderboard').dataset.rows !== '30'")
    rows = driver.execute_script(
        "const i = [...document.querySelectorAll('#leaderboard thead th')]"
        ".findIndex(th => th.dataset.key === 'p:edge_0_1');"
        "return [...document.querySelectorAll('#leaderboard tbody tr')]"
        ".map(tr => tr.children[i].textContent)")
    assert rows and set(rows) == {"none"}
    box.clear()
    driver.execute_script("document.getElementById('lb-filter').dispatchEvent(new Event('input'))")
    wait_for(driver, "return document.getElementById('leaderboard').dataset.rows === '30'")
    driver.find_element("css selector", f"#leaderboard tbody tr[data-trial-id='{first}']").click()
    wait_for(driver, "return location.hash.startsWith('#/trial/runs-nb201/')")
    states = chart_states(driver, ("chart-curve", "chart-graph", "chart-predictions"))
    assert states["chart-curve"][0] == "true" and states["chart-curve"][1] > 0
    assert states["chart-graph"][0] == "true" and states["chart-graph"][1] > 0
    assert states["chart-predictions"][0] == "na"
    assert "edge_0_1" in driver.find_element("id", "trial-values").text
    # A POPNAS trial shows its prediction against the actual value.
    driver.execute_script("location.hash = '#/trial/runs-popnas/0025'")
    states = chart_states(driver, ("chart-curve", "chart-graph", "chart-predictions"))
    assert states["chart-predictions"][0] == "true" and states["chart-predictions"][1] > 0
    # A trial that does not exist says so, and the previous trial's page is not left showing.
    driver.execute_script("location.hash = '#/trial/runs-popnas/nope'")
    wait_for(driver, "return document.getElementById('error-banner').textContent.includes(\"'nope'\")")
    assert driver.find_element("id", "trial-title").text == "runs/popnas: trial nope"
    assert driver.find_element("id", "trial-values").text.strip() == ""
    assert driver.find_element("id", "trial-notes").text.strip() == ""


def test_a_new_trial_appears_without_reload(driver, server, runs: Path) -> None:
    open_page(driver, server.url + "#/leaderboard")
    show(driver, "runs-image", "leaderboard")
    wait_for(driver, "return document.getElementById('leaderboard').dataset.rows === '30'"
                     " && document.querySelector('#leaderboard tbody tr[data-trial-id=\"0000\"]')")
    driver.execute_script("window.__not_reloaded = true")
    append_trial(runs / "image", "0777", 0.9999)
    start = time.monotonic()
    wait_for(driver, "return document.querySelector('#leaderboard tbody tr[data-trial-id=\"0777\"]')",
             timeout=10)
    waited = time.monotonic() - start
    assert driver.execute_script("return window.__not_reloaded === true")
    assert driver.execute_script(
        "return document.querySelector('#leaderboard tbody tr').dataset.trialId") == "0777"
    assert waited < 6, waited  # polled every 2 s
    # The best-so-far chart follows too.
    show(driver, "runs-image", "progress")
    chart_states(driver, CHARTS["progress"])
    append_trial(runs / "image", "0778", 0.5)
    wait_for(driver, "const d = document.getElementById('chart-progress-trials');"
                     "return d.data && d.data.some(t => (t.customdata || [])"
                     ".some(c => c[1] === '0778'))", timeout=10)


def test_steering_from_the_page(driver, server, runs: Path) -> None:
    open_page(driver, server.url + "#/edits")
    show(driver, "runs-nb201", "edits")
    wait_for(driver, "return !document.getElementById('edit-form').hidden"
                     " && document.querySelector('#edit-param option[value=\"edge_0_2\"]')")
    driver.execute_script(
        "const p = document.getElementById('edit-param'); p.value = 'edge_0_2';"
        "p.dispatchEvent(new Event('change'));"
        "const v = document.getElementById('edit-value'); v.value = JSON.stringify('none');")
    driver.find_element("id", "edit-apply").click()
    wait_for(driver, "return document.getElementById('edit-message').textContent")
    assert driver.execute_script("return document.getElementById('edit-message').className") == "ok", \
        driver.find_element("id", "edit-message").text
    edits = json.loads((runs / "nb201" / "steering.json").read_text())["edits"]
    assert (edits[-1]["action"], edits[-1]["param"], edits[-1]["value"]) == (
        "exclude", "edge_0_2", "none")
    wait_for(driver, "return [...document.querySelectorAll('#edits-table tbody tr')]"
                     ".some(tr => tr.textContent.includes('edge_0_2'))")
    text = driver.find_element("id", "edits-table").text
    assert "pending" in text and "avg_pool_3x3" in text  # the new edit, and the one taken in
    # Clearing every edit clears each hyperparameter, and each value of a "*" edit.
    driver.find_element("id", "edit-clear-all").click()
    wait_for(driver, "return [...document.querySelectorAll('#edits-table tbody tr')]"
                     ".filter(tr => tr.textContent.includes('clear')).length === 2")
    clears = [(e["param"], e["value"]) for e in
              json.loads((runs / "nb201" / "steering.json").read_text())["edits"]
              if e["action"] == "clear"]
    assert sorted(clears, key=str) == sorted([("*", "avg_pool_3x3"), ("edge_0_2", None)], key=str)


def test_read_only_page_hides_the_edit_controls(driver, runs: Path) -> None:
    with start_background([runs / "image"]) as srv:
        open_page(driver, srv.url + "#/edits")
        wait_for(driver, "return document.getElementById('edits-table').dataset.rendered")
        assert driver.execute_script("return document.getElementById('edit-form').hidden")
        assert driver.find_element("id", "edit-readonly").is_displayed()


def test_ten_thousand_trials_load_under_two_seconds(driver, tmp_path: Path) -> None:
    write_search(tmp_path / "big", synthetic_results("image", 10_000))
    with start_background([tmp_path / "big"]) as srv:
        driver.get("about:blank")
        driver.get(srv.url)
        wait_for(driver, "return document.body.dataset.leaderboardMs")
        loaded_ms = float(driver.execute_script("return document.body.dataset.leaderboardMs"))
        api_ms = driver.execute_script(
            "const e = performance.getEntriesByType('resource')"
            ".find(r => r.name.endsWith('/leaderboard'));"
            "return e ? e.responseEnd - e.startTime : null")
        assert driver.execute_script(
            "return document.getElementById('leaderboard').dataset.rows") == "10000"
        assert driver.execute_script(
            "return document.querySelectorAll('#leaderboard tbody tr').length") == 100
        print(f"10,000 trials: leaderboard rendered {loaded_ms:.0f} ms after navigation "
              f"(API {api_ms:.0f} ms)")
        assert loaded_ms < 2000, loaded_ms
        # Responsive: sorting and filtering the 10,000 rows redraw quickly.
        elapsed = driver.execute_script(
            "const t = performance.now();"
            "document.querySelector('#leaderboard thead th[data-key=\"m:val_accuracy\"]').click();"
            "return performance.now() - t")
        assert elapsed < 500, elapsed
        elapsed = driver.execute_script(
            "const t = performance.now(); state.lb.filter = 'head=flatten val_accuracy>0.8';"
            "drawLeaderboard(); return performance.now() - t")
        assert elapsed < 500, elapsed
        # The heavier views of 10,000 trials draw too (WebGL scatters).
        driver.execute_script("location.hash = '#/space'")
        states = chart_states(driver, CHARTS["space"])
        assert states["chart-embedding"][:2] == ("true", 10_000)  # not plotly's no-WebGL notice
        driver.execute_script("location.hash = '#/hyperparameters'")
        states = chart_states(driver, CHARTS["hyperparameters"])
        assert states["chart-parallel"][0] == "true" and states["chart-parallel"][1] > 9_000


def _results_of(directory: Path) -> dict | None:
    try:
        return json.loads((directory / "results.json").read_text())
    except (OSError, ValueError):
        return None


@pytest.mark.tf
def test_an_exclusion_made_on_the_page_steers_a_running_search(driver, tmp_path: Path) -> None:
    """A real `autokeras-nas search` runs while the analyst excludes a value
    on the page: the search's next proposals avoid it, and its results.json
    records the edit and which trials came after it."""
    from autokeras_nas.testing.cli import cli_command
    from autokeras_nas.testing.processes import finish, spawn

    out = tmp_path / "live"
    search = spawn([*cli_command(), "search", "--dataset", "digits", "--strategy", "random",
                    "--max-trials", "14", "--epochs", "1", "--seed", "3", "--out", str(out)])
    try:
        deadline = time.monotonic() + 240
        while not ((r := _results_of(out)) and len(r["trials"]) >= 2 and r.get("space")):
            assert search.poll() is None and time.monotonic() < deadline, "the search did not start"
            time.sleep(0.2)
        with start_background([out], allow_edit=True) as srv:
            open_page(driver, srv.url + "#/edits")
            wait_for(driver, "return !document.getElementById('edit-form').hidden"
                             " && document.querySelector('#edit-param option[value=\"head\"]')")
            driver.execute_script(
                "const a = document.getElementById('edit-action'); a.value = 'exclude';"
                "a.dispatchEvent(new Event('change'));"
                "const p = document.getElementById('edit-param'); p.value = 'head';"
                "p.dispatchEvent(new Event('change'));"
                "const v = document.getElementById('edit-value'); v.value = JSON.stringify('flatten');")
            driver.find_element("id", "edit-apply").click()
            wait_for(driver, "return document.getElementById('edit-message').className === 'ok'")
            # the page shows the edit applied once the search proposed a trial under it
            wait_for(driver, "return [...document.querySelectorAll('#edits-table tbody tr')]"
                             ".some(tr => tr.textContent.includes('head') &&"
                             " !tr.textContent.includes('pending'))", timeout=120)
        output = finish(search, timeout=300)
    finally:
        finish(search, timeout=1)
    assert search.returncode == 0, output[-2000:]
    results = _results_of(out)
    (edit,) = results["edits"]
    assert (edit["action"], edit["param"], edit["value"], edit["source"], edit["applied"]) == (
        "exclude", "head", "flatten", "dashboard", True)
    trials = results["trials"]
    after = [t for t in trials if t["edits_seen"] == edit["id"]]
    before = [t for t in trials if t["edits_seen"] is None]
    assert len(trials) == 14 and before and after and len(before) + len(after) == 14
    assert edit["first_trial_id"] == after[0]["trial_id"]
    # unsteered, random search would draw flatten for about half of these trials
    assert len(after) >= 5 and all(t["values"]["head"] != "flatten" for t in after)
    print(f"{len(before)} trials before the edit, {len(after)} after")
