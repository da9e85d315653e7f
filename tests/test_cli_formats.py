"""The output formats: JSON exactly as DESIGN section 2, SARIF valid, GitHub annotations."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from cli_helpers import READ, WRITE, call, project, run_cli

from fmperf_ls.rules import all_rules

ONLY = ("--select", "FMP201", "--no-cache")
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())

READ_FINDING = {
    "path": "app/read.py",
    "line": 5,
    "column": 14,
    "end_line": 5,
    "end_column": 48,
    "code": "FMP201",
    "rule": "chained-indexing",
    "message": "DataFrame indexed twice in a row builds an intermediate copy; "
    "use one .loc[rows, column]",
    "severity": "warning",
    "fix": {
        "message": 'Use prices.loc[prices.hour >= 17, "price"]',
        "safety": "safe",
        "edits": [{
            "path": "app/read.py",
            "line": 5,
            "column": 14,
            "end_line": 5,
            "end_column": 48,
            "new_text": 'prices.loc[prices.hour >= 17, "price"]',
        }],
    },
}


def test_json_is_one_array_of_exactly_the_contract_shape(tmp_path: Path):
    project(tmp_path, {"app/read.py": READ, "app/write.py": WRITE})

    done = run_cli(tmp_path, "check", "app", "--format", "json", *ONLY)

    assert done.returncode == 1
    found = json.loads(done.stdout)
    assert found[0] == READ_FINDING
    assert found[1]["path"] == "app/write.py"
    assert found[1]["severity"] == "error"
    assert found[1]["fix"]["safety"] == "unsafe"
    assert [set(element) for element in found] == [set(READ_FINDING)] * 2
    assert done.stderr == ""


def test_json_of_a_clean_project_is_an_empty_array(tmp_path: Path, capsys):
    project(tmp_path, {"clean.py": "x = 1\n"})

    assert call(capsys, tmp_path, "check", ".", "--format", "json", *ONLY)[:2] == (0, "[]\n")


def test_json_order_is_stable(tmp_path: Path, capsys):
    project(tmp_path, {f"m{number}.py": READ + WRITE.replace("import pandas as pd\n", "")
                       for number in (3, 1, 2)})

    first = call(capsys, tmp_path, "check", ".", "--format", "json", *ONLY)[1]
    second = call(capsys, tmp_path, "check", ".", "--format", "json", *ONLY, "--jobs", "2")[1]

    found = json.loads(first)
    assert first == second
    assert [(item["path"], item["line"]) for item in found] == sorted(
        (item["path"], item["line"]) for item in found
    )


def test_sarif_validates_against_the_official_schema(tmp_path: Path):
    broken = READ + "\n\ndef half(:\n    pass\n"
    project(tmp_path, {"app/read.py": READ, "app/write.py": WRITE, "app/broken.py": broken,
                       "app/blob.py": b"\x00\x01"})

    done = run_cli(tmp_path, "check", "app", "--format", "sarif", *ONLY)

    log = json.loads(done.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(all_rules())
    assert all(rule["helpUri"].endswith(f"docs/rules/{rule['id']}.md") for rule in rules)
    assert all(rule["fullDescription"]["text"] for rule in rules)
    first = run["results"][0]
    assert first["ruleId"] == "FMP201" and first["level"] == "warning"
    assert rules[first["ruleIndex"]]["id"] == "FMP201"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app/broken.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 5, "startColumn": 15, "endLine": 5, "endColumn": 49},
    }
    assert first["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {
        "text": 'prices.loc[prices.hour >= 17, "price"]'
    }
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [note["message"]["text"].split(" (")[0].split(":")[0] for note in notes] == [
        "skipped", "does not parse"
    ]


def test_sarif_with_absolute_paths_validates(tmp_path: Path, capsys):
    project(tmp_path, {"with space/read.py": READ})

    code, out, _ = call(capsys, tmp_path, "check", str(tmp_path), "--format", "sarif", *ONLY)

    log = json.loads(out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].startswith("file:///")
    assert "with%20space/read.py" in location["artifactLocation"]["uri"]


def test_github_annotations(tmp_path: Path, capsys):
    project(tmp_path, {"app/read.py": READ, "app/write.py": WRITE})

    code, out, _ = call(capsys, tmp_path, "check", "app", "--format", "github", *ONLY)

    assert code == 1
    assert out.splitlines() == [
        "::warning file=app/read.py,line=5,col=15,endLine=5,endColumn=49,title=FMP201::"
        "DataFrame indexed twice in a row builds an intermediate copy; "
        "use one .loc[rows, column]",
        "::error file=app/write.py,line=5,col=5,endLine=5,endColumn=39,title=FMP201::"
        "chained assignment never writes to the DataFrame under copy-on-write; "
        "assign through one .loc[rows, column]",
    ]


def test_github_escapes_properties_and_messages():
    from fmperf_ls.report.github import escape_data, escape_property

    assert escape_property("a,b:c%d\ne") == "a%2Cb%3Ac%25d%0Ae"
    assert escape_data("50%: a, b\r\n") == "50%25: a, b%0D%0A"
