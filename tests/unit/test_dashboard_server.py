"""The dashboard's server without a browser: a real uvicorn server in a thread,
requests with the standard library (endpoints, safety, torn files, the CLI)."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from autokeras_nas.cli import main
from autokeras_nas.dashboard import data
from autokeras_nas.dashboard.server import create_app, is_loopback, resolve_token, start_background
from autokeras_nas.dashboard.server import BackgroundServer
from autokeras_nas.testing.cli import one_line_error
from autokeras_nas.dashboard.synthetic import append_trial, synthetic_results, write_search

SECRET = "TOP-SECRET-CONTENT-0451"


def request(url: str, path: str, *, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Sends `path` exactly as given (no normalisation) to the server at `url`."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def get_json(url: str, path: str) -> object:
    status, _, body = request(url, path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


@pytest.fixture(scope="module")
def searches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A parent folder of one search of each synthetic kind, and a secret beside it."""
    root = tmp_path_factory.mktemp("dash")
    for kind in ("image", "nb201", "nash", "oneshot", "popnas"):
        write_search(root / "runs" / kind, synthetic_results(kind, 24, seed=1))
    (root / "secret.txt").write_text(SECRET)
    (root / "runs" / "image" / "secret.txt").write_text(SECRET)
    os.symlink(root / "secret.txt", root / "runs" / "image" / "link.txt")
    return root


@pytest.fixture(scope="module")
def server(searches: Path):
    with start_background([searches / "runs"]) as srv:
        yield srv


# -- endpoints ---------------------------------------------------------------------
def test_page_and_its_static_files(server: BackgroundServer) -> None:
    status, headers, body = request(server.url, "/")
    assert status == 200 and b'id="leaderboard"' in body
    assert headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    for name, needle in (("dashboard.js", b"loadPlotly"), ("dashboard.css", b"--accent"),
                         ("plotly.min.js", b"plotly")):
        status, _, body = request(server.url, f"/static/{name}")
        assert status == 200 and needle in body[:200_000], name


def test_a_parent_directory_adds_its_searches(server: BackgroundServer) -> None:
    config = get_json(server.url, "/api/config")
    assert config["allow_edit"] is False
    names = [s["name"] for s in config["searches"]]
    assert names == [f"runs/{k}" for k in ("image", "nash", "nb201", "oneshot", "popnas")]
    image = config["searches"][0]
    assert image["trials"] == 24 and image["strategy"] == "random" and image["version"]
    assert image["objectives"][0]["name"] == "val_accuracy" and image["error"] is None


def test_leaderboard_is_compact_columns_without_curves(server: BackgroundServer) -> None:
    lb = get_json(server.url, "/api/s/runs-nb201/leaderboard")
    assert lb["metrics"][:2] == ["val_accuracy", "params"]  # both objectives first
    assert len(lb["trial_id"]) == 24 and len(lb["metric"]["val_accuracy"]) == 24
    assert set(lb["params"]) == {f"edge_{i}_{j}" for j in range(1, 4) for i in range(j)}
    assert sorted(r for r in lb["rank"] if r is not None) == list(range(1, 25))
    assert lb["edits_seen"].count(1) == 12
    assert "curve" not in json.dumps(lb)


def test_trial_page_has_curve_graph_and_predictions(server: BackgroundServer) -> None:
    nb201 = get_json(server.url, "/api/s/runs-nb201/trial/0003")
    assert nb201["trial"]["curve"] and nb201["graph"]["nodes"]
    assert all({"x", "y"} <= set(n) for n in nb201["graph"]["nodes"])
    popnas = get_json(server.url, "/api/s/runs-popnas/trial/0020")
    quantities = {p["quantity"] for p in popnas["predictions"]}
    assert "accuracy" in quantities
    nash = get_json(server.url, "/api/s/runs-nash/trial/0005")
    assert nash["trial"]["outputs"]["preservation_error"] >= 0 and nash["trial"]["parent_id"]


def test_views(server: BackgroundServer) -> None:
    progress = get_json(server.url, "/api/s/runs-nb201/progress")
    assert progress["objective"]["name"] == "val_accuracy"
    assert len(progress["trials"]["best"]) == 24
    assert progress["edits"][0]["index"] == 13  # the trial it first applied to, 1-based
    pareto = get_json(server.url, "/api/s/runs-nb201/view/pareto")
    assert (pareto["x"], pareto["y"]) == ("params", "val_accuracy")
    assert any(pareto["points"]["front"]) and not all(pareto["points"]["front"])
    chosen = get_json(server.url, "/api/s/runs-image/view/pareto?x=latency_ms&y=val_loss")
    assert (chosen["x"], chosen["y"]) == ("latency_ms", "val_loss")
    hyper = get_json(server.url, "/api/s/runs-image/view/hyperparameters")
    assert hyper["parallel"]["dimensions"] and hyper["importance"]
    space = get_json(server.url, "/api/s/runs-nb201/view/space")
    assert len(space["embedding"]["x"]) == 24
    assert any(r["param"] == "*" for r in space["operations"])
    oneshot = get_json(server.url, "/api/s/runs-oneshot/view/oneshot")
    assert oneshot["oneshot"]["estimates"]
    assert get_json(server.url, "/api/s/runs-image/view/oneshot")["oneshot"] is None
    assert get_json(server.url, "/api/s/runs-nash/view/lineage")["lineage"]["edges"]
    lineage = get_json(server.url, "/api/s/runs-image/view/lineage")
    assert lineage["lineage"] is None and lineage["reason"]
    edits = get_json(server.url, "/api/s/runs-nb201/view/edits")
    assert edits["edits"][0]["param"] == "*" and edits["edits"][0]["first_trial_id"] == "0012"
    offered = {e["param"]: e["values"] for e in edits["space"]}
    assert offered["edge_0_1"] == ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                   "avg_pool_3x3"]
    assert "nor_conv_3x3" in offered["*"]


@pytest.mark.parametrize("path", [
    "/api/s/nope/leaderboard", "/api/s/runs-image/trial/nope", "/api/s/runs-image/view/nope",
    "/api/nope", "/static/nope.js", "/results.json", "/runs/image/results.json",
])
def test_unknown_things_are_404(server: BackgroundServer, path: str) -> None:
    assert request(server.url, path)[0] == 404


# -- safety --------------------------------------------------------------------------
TRAVERSALS = [
    "/static/../secret.txt", "/static/../../secret.txt", "/static/%2e%2e%2fsecret.txt",
    "/static/%2e%2e/%2e%2e/secret.txt", "/static/..%2f..%2f..%2fsecret.txt",
    "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt", "/static/..%5c..%5csecret.txt",
    "/../secret.txt", "/%2e%2e/%2e%2e/secret.txt", "/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/static/%2fetc%2fpasswd", "/static//etc/passwd", "/static/link.txt",
    "/api/s/..%2f..%2fsecret.txt/leaderboard", "/api/s/runs-image/trial/..%2f..%2fsecret.txt",
    "/api/s/runs-image/trial/%2e%2e%2f%2e%2e%2fsecret.txt", "/api/s/runs-image/trial/secret.txt",
    "/api/s/runs-image/trial/link.txt", "/api/s/runs-image/view/..%2f..%2fsecret.txt",
    "/api/s/runs-image/../../../secret.txt", "/runs/image/secret.txt", "/runs/image/link.txt",
    "/api/s/%2e%2e/leaderboard",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_refused(server: BackgroundServer, path: str) -> None:
    status, _, body = request(server.url, path)
    assert status in (400, 403, 404), (path, status)
    assert SECRET.encode() not in body


def test_read_only_refuses_edits(server: BackgroundServer, searches: Path) -> None:
    status, _, body = request(server.url, "/api/s/runs-image/edits", method="POST",
                              body=b'{"action": "exclude", "param": "head", "value": "flatten"}',
                              headers={"Content-Type": "application/json",
                                       "Origin": server.url.rstrip("/")})
    assert status == 403 and b"--allow-edit" in body
    assert not (searches / "runs" / "image" / "steering.json").exists()
    for method in ("PUT", "DELETE", "PATCH"):
        assert request(server.url, "/api/s/runs-image/leaderboard", method=method)[0] == 405


def test_edits_with_allow_edit_need_same_origin_json(tmp_path: Path) -> None:
    results = synthetic_results("nb201", 8)
    del results["edits"]
    write_search(tmp_path / "s", results)
    with start_background([tmp_path / "s"], allow_edit=True) as srv:
        origin = srv.url.rstrip("/")
        edit = json.dumps({"action": "exclude", "param": "edge_0_1", "value": "nor_conv_3x3"})
        json_headers = {"Content-Type": "application/json"}
        # Another site's page (Origin), a request without Origin, a form post: refused.
        for headers in ({**json_headers, "Origin": "http://evil.example"},
                        json_headers,
                        {**json_headers, "Origin": origin, "Sec-Fetch-Site": "cross-site"}):
            status, _, _ = request(srv.url, "/api/s/s/edits", method="POST", body=edit.encode(),
                                   headers=headers)
            assert status == 403, headers
        status, _, _ = request(srv.url, "/api/s/s/edits", method="POST", body=b"action=exclude",
                               headers={"Content-Type": "application/x-www-form-urlencoded",
                                        "Origin": origin})
        assert status == 415
        assert not (tmp_path / "s" / "steering.json").exists()
        status, _, body = request(srv.url, "/api/s/s/edits", method="POST", body=edit.encode(),
                                  headers={**json_headers, "Origin": origin})
        assert status == 201, body
        record = json.loads(body)
        assert (record["action"], record["param"], record["value"], record["source"]) == (
            "exclude", "edge_0_1", "nor_conv_3x3", "dashboard")
        assert (tmp_path / "s" / "steering.json").exists()
        listed = get_json(srv.url, "/api/s/s/view/edits")["edits"]
        assert listed[-1]["id"] == record["id"] and listed[-1]["pending"] is True
        for bad, says in (({"action": "explode", "param": "x"}, "unknown action"),
                          ({"action": "exclude", "param": "edge_0_1", "value": "conv9x9"},
                           "conv9x9"),  # checked against the space the search recorded
                          ({"action": "exclude", "param": "nope", "value": "none"}, "nope")):
            status, _, body = request(srv.url, "/api/s/s/edits", method="POST",
                                      body=json.dumps(bad).encode(),
                                      headers={**json_headers, "Origin": origin})
            error = json.loads(body)["error"]
            assert status == 400 and says in error and "\n" not in error, error
        assert get_json(srv.url, "/api/config")["allow_edit"] is True


def test_token_required_then_cookie(tmp_path: Path) -> None:
    write_search(tmp_path / "s", synthetic_results("image", 5))
    token = "t0ken-for-tests"
    app = create_app(data.discover([tmp_path / "s"]), token=token)
    with BackgroundServer(app) as srv:
        for path in ("/", "/api/config", "/static/dashboard.js", "/api/s/s/leaderboard"):
            assert request(srv.url, path)[0] == 401, path
        assert request(srv.url, "/api/config?token=wrong")[0] == 401
        assert request(srv.url, "/api/config", headers={"X-Dashboard-Token": "wrong"})[0] == 401
        status, headers, _ = request(srv.url, f"/?token={token}")
        assert status == 303 and headers["location"] == "/"
        cookie = headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        pair = cookie.split(";")[0]
        assert request(srv.url, "/api/config", headers={"Cookie": pair})[0] == 200
        assert request(srv.url, "/", headers={"Cookie": pair})[0] == 200
        assert request(srv.url, "/api/config", headers={"X-Dashboard-Token": token})[0] == 200
        assert request(srv.url, "/api/config",
                       headers={"Authorization": f"Bearer {token}"})[0] == 200


def test_loopback_without_token_answers_loopback_hosts_only(server: BackgroundServer) -> None:
    port = urlsplit(server.url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
        assert request(server.url, "/api/config", headers={"Host": host})[0] == 200
    # A page of another site that resolved its name to 127.0.0.1 (DNS rebinding).
    status, _, body = request(server.url, "/api/config", headers={"Host": f"evil.example:{port}"})
    assert status == 403 and b"trial" not in body


def test_token_rules() -> None:
    assert resolve_token("127.0.0.1", None) is None
    assert resolve_token("localhost", None) is None and resolve_token("::1", None) is None
    generated = resolve_token("0.0.0.0", None)
    assert generated and len(generated) >= 24
    assert resolve_token("192.168.1.5", None) != generated
    assert resolve_token("0.0.0.0", "mine") == "mine"
    assert is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")
    with pytest.raises(data.DashboardError):
        resolve_token("0.0.0.0", " ")


# -- live results -------------------------------------------------------------------
def test_torn_results_keep_the_last_good_parse(tmp_path: Path) -> None:
    write_search(tmp_path / "s", synthetic_results("image", 6))
    path = tmp_path / "s" / "results.json"
    good = path.read_text()
    with start_background([tmp_path / "s"]) as srv:
        before = get_json(srv.url, "/api/s/s/leaderboard")
        version = get_json(srv.url, "/api/searches")[0]["version"]
        for torn in (good[: len(good) // 2], "garbage{{{", "", '{"format": "other"}'):
            path.write_text(torn)  # in place, as a careless writer would
            assert get_json(srv.url, "/api/s/s/leaderboard") == before
            summary = get_json(srv.url, "/api/searches")[0]
            assert summary["version"] == version and summary["error"]
            assert summary["trials"] == 6
            for view in ("progress", "view/pareto", "trial/0001"):
                get_json(srv.url, f"/api/s/s/{view}")
        path.write_text(good)
        append_trial(tmp_path / "s", "0099", 0.999)
        after = get_json(srv.url, "/api/s/s/leaderboard")
        assert after["trial_id"][-1] == "0099" and after["rank"][-1] == 1
        summary = get_json(srv.url, "/api/searches")[0]
        assert summary["error"] is None and summary["version"] != version


def test_version_is_cheap_and_changes_with_the_file(tmp_path: Path) -> None:
    write_search(tmp_path / "s", synthetic_results("image", 6))
    search = data.discover([tmp_path / "s"])[0]
    first = search.version
    body = search.leaderboard()
    assert search.leaderboard() is body  # cached for this version
    time.sleep(0.01)
    append_trial(tmp_path / "s", "0100", 0.5)
    assert search.version != first and search.leaderboard() is not body


def test_discover_errors(tmp_path: Path) -> None:
    with pytest.raises(data.DashboardError, match="no search directory"):
        data.discover([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(data.DashboardError, match="no results.json in"):
        data.discover([tmp_path / "empty"])
    write_search(tmp_path / "a" / "x", synthetic_results("image", 3))
    write_search(tmp_path / "b" / "x", synthetic_results("image", 3))
    found = data.discover([tmp_path / "a", tmp_path / "b", tmp_path / "a" / "x"])
    assert [s.id for s in found] == ["a-x", "b-x"]  # the repeated directory once


def test_ten_thousand_trials_leaderboard_is_compact_and_cached(tmp_path: Path) -> None:
    # The time it takes is measured in a browser (test_dashboard_browser); here
    # what is sent: compact columns, computed once per file version.
    write_search(tmp_path / "big", synthetic_results("image", 10_000))
    with start_background([tmp_path / "big"]) as srv:
        get_json(srv.url, "/api/config")
        status, _, body = request(srv.url, "/api/s/big/leaderboard")
        lb = json.loads(body)
        assert status == 200 and len(lb["trial_id"]) == 10_000 and "curve" not in lb
        assert len(body) < (tmp_path / "big" / "results.json").stat().st_size / 2
        assert request(srv.url, "/api/s/big/leaderboard")[2] == body


# -- the command --------------------------------------------------------------------
def test_cli_help() -> None:
    result = CliRunner().invoke(main, ["dashboard", "--help"])
    assert result.exit_code == 0
    assert "--allow-edit" in result.output and "--token" in result.output


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_cli_bad_directory_is_a_one_line_error(tmp_path: Path, make: str) -> None:
    target = tmp_path / make
    if make == "empty":
        target.mkdir()
    result = CliRunner().invoke(main, ["dashboard", str(target), "--port", "0"])
    assert result.exit_code == 2
    line = one_line_error(result.output)
    assert str(target) in line


def test_cli_port_in_use_is_a_one_line_error(server: BackgroundServer, searches: Path) -> None:
    port = str(urlsplit(server.url).port)
    result = CliRunner().invoke(main, ["dashboard", str(searches / "runs"), "--port", port])
    assert result.exit_code == 2
    assert "cannot listen" in one_line_error(result.output)


def test_cli_non_loopback_host_prints_a_token_and_requires_it(searches: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "autokeras_nas.cli", "dashboard", str(searches / "runs" / "image"),
         "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("open ") or not line:
                break
        match = re.search(r"http://0\.0\.0\.0:(\d+)/\?token=([\w-]+)", "".join(lines))
        assert match, "".join(lines)
        port, token = match.groups()
        url = f"http://127.0.0.1:{port}/"
        assert request(url, "/api/config")[0] == 401
        assert request(url, "/api/config", headers={"X-Dashboard-Token": token})[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_missing_extra_names_the_pip_install() -> None:
    script = ("import sys; sys.modules['starlette'] = None\n"
              "try:\n    import autokeras_nas.dashboard.server\n"
              "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    assert 'pip install "autokeras-nas[dashboard]"' in out.stdout, out.stderr


def test_dashboard_imports_neither_tensorflow_nor_the_server_until_it_serves() -> None:
    script = ("import sys\nimport autokeras_nas, autokeras_nas.dashboard.data\n"
              "from autokeras_nas.cli import main\n"
              "print([m for m in ('tensorflow', 'keras', 'starlette', 'uvicorn')"
              " if m in sys.modules])\n"
              "import autokeras_nas.dashboard.server\n"
              "print([m for m in ('tensorflow', 'keras') if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split("\n")[:2] == ["[]", "[]"], out.stdout + out.stderr


def test_a_view_that_fails_answers_500_with_a_reason(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise ValueError("unexpected\ndata")

    monkeypatch.setattr(data.analysis, "importance", broken)
    write_search(tmp_path / "s", synthetic_results("image", 6))
    with start_background([tmp_path / "s"]) as srv:
        status, _, body = request(srv.url, "/api/s/s/view/hyperparameters")
        assert status == 500
        assert json.loads(body)["error"] == ("cannot compute the hyperparameters view: "
                                             "ValueError: unexpected data")
        assert request(srv.url, "/api/s/s/view/space")[0] == 200
