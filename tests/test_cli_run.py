"""How a run behaves: --jobs, the cache, --since, the progress bar and many files."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import READ, WRITE, call, project, run_cli

from fmperf_ls import cache as cache_module
from fmperf_ls.checker import Options, Project, ProjectRun
from fmperf_ls.config import Settings
from fmperf_ls.discovery import targets

ONLY = ("--select", "FMP201")


def _json(capsys, root: Path, *args: str) -> list[dict]:
    code, out, err = call(capsys, root, "check", ".", "--format", "json", *ONLY, *args)
    assert code in (0, 1), err
    return json.loads(out)


def _many(root: Path, count: int) -> Path:
    files = {}
    for number in range(count):
        name = f"pkg{number % 7}/m{number}.py"
        files[name] = READ if number % 5 == 0 else WRITE if number % 5 == 1 else "x = 1\n"
    return project(root, files)


def test_jobs_give_the_same_results_as_one_process(tmp_path: Path, capsys):
    _many(tmp_path, 60)

    one = _json(capsys, tmp_path, "--no-cache", "--jobs", "1")
    three = _json(capsys, tmp_path, "--no-cache", "--jobs", "3")

    assert len(one) == 24
    assert one == three


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_run_gives_the_garbage_collector_back_as_it_found_it(tmp_path: Path, jobs: int):
    _many(tmp_path, 20)
    thresholds = gc.get_threshold()

    results = _run(tmp_path, use_cache=False, jobs=jobs)

    assert sum(len(result.findings) for result in results) == 8
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0  # the objects frozen for the workers can be freed again


def test_fix_with_jobs_matches_one_process(tmp_path: Path, capsys):
    _many(tmp_path / "a", 30)
    _many(tmp_path / "b", 30)

    call(capsys, tmp_path / "a", "check", ".", *ONLY, "--fix", "--no-cache", "--jobs", "1")
    call(capsys, tmp_path / "b", "check", ".", *ONLY, "--fix", "--no-cache", "--jobs", "3")

    texts = {path.relative_to(tmp_path / "a"): path.read_text()
             for path in (tmp_path / "a").rglob("*.py")}
    assert texts == {path.relative_to(tmp_path / "b"): path.read_text()
                     for path in (tmp_path / "b").rglob("*.py")}


def _run(root: Path, **options) -> list:
    settings = Settings(select=("FMP201",), root=str(root))
    found = targets([str(root)], settings)
    return ProjectRun(Project(root, settings, found), Options(**options), lambda count: None).run()


def test_cache_hit_miss_and_invalidation(tmp_path: Path):
    project(tmp_path, {"read.py": READ, "clean.py": "x = 1\n"})

    cold = _run(tmp_path)
    warm = _run(tmp_path)
    (tmp_path / "clean.py").write_text("y = 2\n")
    edited = _run(tmp_path)

    assert [result.cached for result in cold] == [False, False]
    assert [result.cached for result in warm] == [True, True]
    assert {result.display.rsplit("/", 1)[-1]: result.cached for result in edited} == {
        "clean.py": False, "read.py": True
    }
    assert [result.findings for result in warm] == [result.findings for result in cold]
    assert (tmp_path / ".fmperf_cache" / ".gitignore").read_text().endswith("*\n")


def test_no_cache_neither_reads_nor_writes(tmp_path: Path):
    project(tmp_path, {"read.py": READ})

    results = _run(tmp_path, use_cache=False)

    assert not results[0].cached
    assert not (tmp_path / ".fmperf_cache").exists()


def test_a_model_change_elsewhere_invalidates_every_entry(tmp_path: Path):
    project(tmp_path, {"read.py": READ, "models.py": "class A(Base):\n    x = Column(Integer)\n"})
    _run(tmp_path)

    (tmp_path / "models.py").write_text("class A(Base):\n    y = Column(Integer)\n")

    assert [result.cached for result in _run(tmp_path)] == [False, False]


def test_a_change_to_a_helper_the_findings_rest_on_invalidates_their_entry(tmp_path: Path):
    """use.py's finding rests on the annotation of a helper in another module."""
    helper = "import pandas as pd\n\n\ndef load(path) -> {}:\n    return pd.read_csv(path)\n"
    project(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/helpers.py": helper.format("pd.DataFrame"),
        "pkg/use.py": "import pandas as pd\n\nfrom pkg.helpers import load\n\n"
                      "prices = load('p.csv')\nevening = prices[prices.hour > 17]['price']\n",
    })
    cold = {result.display.rsplit("/", 1)[-1]: result for result in _run(tmp_path)}
    warm = {result.display.rsplit("/", 1)[-1]: result for result in _run(tmp_path)}

    (tmp_path / "pkg" / "helpers.py").write_text(helper.format("dict"))
    edited = {result.display.rsplit("/", 1)[-1]: result for result in _run(tmp_path)}

    assert [finding.code for finding in cold["use.py"].findings] == ["FMP201"]
    assert cold["use.py"].consulted and cold["use.py"].consulted[0][0].endswith("helpers.py")
    assert warm["use.py"].cached and warm["use.py"].findings == cold["use.py"].findings
    assert not edited["use.py"].cached and edited["use.py"].findings == []
    assert edited["__init__.py"].cached


def test_a_settings_change_invalidates(tmp_path: Path):
    project(tmp_path, {"read.py": READ})
    _run(tmp_path)
    settings = Settings(select=("FMP2",), root=str(tmp_path))
    found = targets([str(tmp_path)], settings)

    results = ProjectRun(Project(tmp_path, settings, found), Options(), lambda n: None).run()

    assert not results[0].cached


def test_corrupt_cache_entries_are_ignored(tmp_path: Path):
    project(tmp_path, {"read.py": READ})
    cold = _run(tmp_path)
    entries = list((tmp_path / ".fmperf_cache").rglob("*.json"))
    assert len(entries) == 1

    for garbage in ("{not json", '{"format": 1, "findings": [{"code": 3}]}', "[]"):
        entries[0].write_text(garbage)
        again = _run(tmp_path)
        assert not again[0].cached and again[0].findings == cold[0].findings


def test_cached_findings_round_trip_exactly(tmp_path: Path):
    project(tmp_path, {"read.py": READ, "write.py": WRITE})

    cold = _run(tmp_path)

    for result in cold:
        for finding in result.findings:
            as_dict = cache_module.finding_to_dict(finding)
            assert cache_module.finding_from_dict(json.loads(json.dumps(as_dict))) == finding


def test_fix_after_a_cached_run_still_fixes(tmp_path: Path, capsys):
    project(tmp_path, {"read.py": READ})
    call(capsys, tmp_path, "check", ".", *ONLY)

    call(capsys, tmp_path, "check", ".", *ONLY, "--fix")

    assert ".loc[" in (tmp_path / "read.py").read_text()
    assert call(capsys, tmp_path, "check", ".", *ONLY)[0] == 0


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=env,
                          check=True)
    return done.stdout


def test_since_reports_only_changed_lines(tmp_path: Path, capsys):
    old = READ + "\n\ndef other(prices: pd.DataFrame) -> float:\n    return 1.0\n"
    project(tmp_path, {"read.py": old, "kept.py": READ})
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "start")
    new = old.replace("    return 1.0\n", '    return prices[prices.hour > 1]["price"].sum()\n')
    (tmp_path / "read.py").write_text(new)
    (tmp_path / "fresh.py").write_text(READ)

    found = _json(capsys, tmp_path, "--since", "HEAD")
    everything = _json(capsys, tmp_path)

    assert [(item["path"], item["line"]) for item in found] == [("fresh.py", 5), ("read.py", 10)]
    assert len(everything) == 4


def test_since_a_bad_revision_exits_2(tmp_path: Path, capsys):
    project(tmp_path, {"read.py": READ})
    _git(tmp_path, "init", "-q")

    code, out, err = call(capsys, tmp_path, "check", ".", "--since", "no-such-rev")

    assert (code, out) == (2, "")
    assert "--since no-such-rev: unknown revision 'no-such-rev'" in err


def test_since_outside_a_repository_exits_2(tmp_path: Path, capsys):
    project(tmp_path, {"read.py": READ})

    code, _, err = call(capsys, tmp_path, "check", ".", "--since", "HEAD")

    assert code == 2 and "--since HEAD:" in err


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path):
    _many(tmp_path, 300)

    done = run_cli(tmp_path, "check", ".", *ONLY, "--no-cache", "--format", "json")

    assert done.stderr == ""
    assert len(json.loads(done.stdout)) == 120


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_ten_thousand_files_show_progress_on_a_terminal(tmp_path: Path):
    root = tmp_path / "big"
    project(root, {})
    for folder in range(20):
        (root / f"d{folder}").mkdir()
        for number in range(500):
            (root / f"d{folder}" / f"m{number}.py").write_text("x = 1\n")
    (root / "d0" / "read.py").write_text(READ)
    leader, follower = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "fmperf_ls.cli", "check", ".", *ONLY, "--no-cache"],
            cwd=root, stdout=subprocess.PIPE, stderr=follower, text=True, timeout=300,
        )
        os.close(follower)
        shown = _drain(leader)
    finally:
        os.close(leader)

    assert done.returncode == 1
    assert done.stdout.startswith("d0/read.py:5:15: FMP201")
    assert "fmperf [" in shown and "/10001 files" in shown
    assert "10001/10001 files" in shown
    assert shown.endswith("\r\x1b[K")


def _drain(descriptor: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 65536)
        except OSError:  # the other end closed: Linux reports EIO
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def _orm_example() -> tuple[str, str]:
    from fmperf_ls.rules import all_rules

    example = all_rules()["FMP101"].examples[0]
    report = example.source.replace("from models import", "from app.models import")
    return report, example.other_files["models.py"]


def test_models_outside_the_checked_paths_are_indexed(tmp_path: Path, capsys):
    report, models = _orm_example()
    project(tmp_path, {"app/__init__.py": "", "app/models.py": models, "app/report.py": report})

    code, out, _ = call(capsys, tmp_path, "check", "app/report.py", "--select", "FMP101",
                        "--no-cache")

    assert code == 1
    assert out.startswith("app/report.py:6:30: FMP101 ")


def test_extend_model_modules_brings_in_excluded_or_outside_models(tmp_path: Path, capsys):
    report, models = _orm_example()
    files = {"app/__init__.py": "", "app/models.py": models, "app/report.py": report}
    project(tmp_path / "excluded", files, config='exclude = ["app/models.py"]\n')
    project(tmp_path / "extended", files, config=(
        'exclude = ["app/models.py"]\nextend-model-modules = ["app.models"]\n'
    ))

    without = call(capsys, tmp_path / "excluded", "check", "app", "--select", "FMP101",
                   "--no-cache")
    extended = call(capsys, tmp_path / "extended", "check", "app", "--select", "FMP101",
                    "--no-cache")

    assert without[0] == 0
    assert extended[0] == 1 and extended[1].startswith("app/report.py:6:30: FMP101 ")


def test_a_rule_that_raises_is_logged_and_the_others_still_report(tmp_path: Path, capsys,
                                                                  monkeypatch):
    from fmperf_ls.rules import all_rules

    def explode(self, ctx):
        raise KeyError("boom")

    def explode_gate(self, outline, ctx):
        raise ValueError("gate boom")

    monkeypatch.setattr(all_rules()["FMP202"], "check", explode)
    monkeypatch.setattr(all_rules()["FMP202"], "gate", lambda self, outline, ctx: True)
    monkeypatch.setattr(all_rules()["FMP201"], "gate", explode_gate)
    project(tmp_path, {"read.py": READ})

    code, out, err = call(capsys, tmp_path, "check", ".", "--select", "FMP201,FMP202",
                          "--jobs", "1")

    assert code == 1 and out.startswith("read.py:5:15: FMP201 ")  # a broken gate lets it run
    assert "gate of rule FMP201 failed on" in err
    assert "rule FMP202 failed on" in err and "KeyError: 'boom'" in err
    assert not list((tmp_path / ".fmperf_cache").rglob("*.json")), "a failure is not cached"


def test_progress_draws_only_for_long_runs_on_a_terminal(monkeypatch):
    import io

    from fmperf_ls.report import progress

    many, few, piped = io.StringIO(), io.StringIO(), io.StringIO()
    bars = [progress.Progress(300, many, enabled=True), progress.Progress(5, few, enabled=True),
            progress.Progress(300, piped)]
    for bar in bars:
        for _ in range(bar.total):
            bar.advance()
        bar.close()

    assert many.getvalue().startswith("\rfmperf [")
    assert "300/300 files" in many.getvalue() and many.getvalue().endswith("\r\x1b[K")
    assert few.getvalue() == "", "a short, quick run draws nothing"
    assert piped.getvalue() == "", "StringIO is not a terminal"


def test_progress_appears_once_a_small_run_turns_slow(monkeypatch):
    import io

    from fmperf_ls.report import progress

    clock = iter([0.0, 0.5, 1.5, 1.6])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    stream = io.StringIO()
    bar = progress.Progress(10, stream, enabled=True)

    bar.advance()
    assert stream.getvalue() == ""
    bar.advance()
    assert stream.getvalue().endswith("2/10 files")
