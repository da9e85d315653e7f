"""`fmperf check`, `rules` and `explain` end to end: exit codes, text output, fixes, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import CLEAN, READ, WRITE, call, project, run_cli

from fmperf_ls.rules import all_rules

ONLY = ("--select", "FMP201", "--no-cache")
"""Other rules land over time; these tests are about the command, so one rule is enough."""


def test_findings_exit_1_with_text_lines_and_summary(tmp_path: Path):
    project(tmp_path, {"app/read.py": READ, "app/write.py": WRITE})

    done = run_cli(tmp_path, "check", "app", *ONLY)

    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "app/read.py:5:15: FMP201 DataFrame indexed twice in a row builds an intermediate "
        "copy; use one .loc[rows, column]",
        "app/write.py:5:5: FMP201 chained assignment never writes to the DataFrame under "
        "copy-on-write; assign through one .loc[rows, column]",
        "Found 2 findings (1 fixable with --fix, 1 more with --unsafe-fixes).",
    ]
    assert done.stderr == ""


def test_clean_project_exits_0(tmp_path: Path, capsys):
    project(tmp_path, {"clean.py": CLEAN})

    code, out, err = call(capsys, tmp_path, "check", ".", *ONLY)

    assert (code, out, err) == (0, "All checks passed.\n", "")


def test_paths_join_what_was_given(tmp_path: Path, capsys):
    project(tmp_path, {"pkg/sub/read.py": READ})

    _, by_folder, _ = call(capsys, tmp_path, "check", "pkg", *ONLY)
    _, by_file, _ = call(capsys, tmp_path / "pkg", "check", "sub/read.py", *ONLY)
    _, absolute, _ = call(capsys, tmp_path, "check", str(tmp_path / "pkg"), *ONLY)

    assert by_folder.startswith("pkg/sub/read.py:5:15: FMP201")
    assert by_file.startswith("sub/read.py:5:15: FMP201")
    assert absolute.startswith(f"{tmp_path}/pkg/sub/read.py:5:15: FMP201")


def test_select_and_ignore(tmp_path: Path, capsys):
    project(tmp_path, {"read.py": READ})

    ignored = call(capsys, tmp_path, "check", ".", "--no-cache", "--ignore", "FMP2")
    other = call(capsys, tmp_path, "check", ".", "--no-cache", "--select", "FMP9")

    assert ignored[0] == 0 and "FMP201" not in ignored[1]
    assert other[0] == 0


def test_config_select_applies_and_the_flag_overrides_it(tmp_path: Path, capsys):
    project(tmp_path, {"read.py": READ}, config='ignore = ["FMP201"]\n')

    from_config = call(capsys, tmp_path, "check", ".", "--no-cache")
    overridden = call(capsys, tmp_path, "check", ".", "--no-cache", "--select", "FMP201")

    assert from_config[0] == 0
    assert overridden[0] == 1 and "FMP201" in overridden[1]


@pytest.mark.parametrize(("config", "named"), [
    ('selct = ["FMP201"]\n', "selct: unknown key; known keys: exclude, extend-model-modules"),
    ('select = ["E501"]\n', "select: not a rule code or prefix: E501"),
    ('severity = { FMP201 = "loud" }\n',
     "severity: FMP201 = 'loud': expected one of error, warning, information, hint"),
])
def test_bad_config_exits_2_naming_file_key_and_accepted_values(tmp_path: Path, config, named):
    project(tmp_path, {"read.py": READ}, config=config)

    done = run_cli(tmp_path, "check", ".")

    assert done.returncode == 2
    assert done.stdout == ""
    assert f"{tmp_path / 'pyproject.toml'}: [tool.fmperf] {named}" in done.stderr
    assert done.stderr.count("[tool.fmperf]") == 1, "the problem is reported once"


def test_bad_flag_values_exit_2(tmp_path: Path, capsys):
    project(tmp_path, {"read.py": READ})

    assert call(capsys, tmp_path, "check", ".", "--select", "PD901")[0] == 2
    with pytest.raises(SystemExit) as raised:
        call(capsys, tmp_path, "check", ".", "--format", "xml")
    assert raised.value.code == 2
    assert call(capsys, tmp_path, "check", "missing.py")[0] == 2


def test_bad_select_message(tmp_path: Path, capsys):
    project(tmp_path, {"read.py": READ})

    code, out, err = call(capsys, tmp_path, "check", ".", "--select", "PD901")

    assert code == 2 and out == ""
    assert "--select: not a rule code or prefix: PD901" in err


def test_a_file_that_does_not_parse_still_gets_its_findings(tmp_path: Path):
    broken = READ + "\n\ndef half(:\n    pass\n"
    project(tmp_path, {"broken.py": broken})

    done = run_cli(tmp_path, "check", "broken.py", *ONLY)

    assert done.returncode == 1
    assert done.stdout.startswith("broken.py:5:15: FMP201 ")
    assert done.stderr.startswith("broken.py:9:")
    assert "error: does not parse (SyntaxError" in done.stderr
    assert done.stderr.rstrip().endswith("findings may be incomplete")


def test_syntax_parso_does_not_know_is_not_called_an_error(tmp_path: Path):
    matching = READ + (
        "\n\ndef kind(value):\n"
        "    match value:\n"
        "        case {\"type\": str() as name}:\n"
        "            return name\n"
        "        case _:\n"
        "            return None\n"
    )
    project(tmp_path, {"matching.py": matching})

    done = run_cli(tmp_path, "check", "matching.py", *ONLY)

    assert done.returncode == 1
    assert done.stdout.startswith("matching.py:5:15: FMP201 ")
    assert done.stderr == ""


def test_a_file_no_rule_parses_is_still_checked_for_syntax(tmp_path: Path, capsys):
    project(tmp_path, {"plain.py": "def f(:\n    return 1\n"})

    code, out, err = call(capsys, tmp_path, "check", ".", *ONLY)

    assert code == 0
    assert err.startswith("plain.py:1:") and "does not parse" in err


def test_non_utf8_binary_and_empty_files(tmp_path: Path):
    project(tmp_path, {
        "latin.py": "x = 'caf\xe9'\n".encode("latin-1"),
        "blob.py": b"\x89PNG\r\n\x1a\n\x00\x00\x00",
        "empty.py": "",
        "read.py": READ,
    })

    done = run_cli(tmp_path, "check", ".", *ONLY)

    assert done.returncode == 1
    assert done.stdout.startswith("read.py:5:15: FMP201")
    errors = done.stderr.splitlines()
    assert errors == [
        "blob.py: error: binary file; skipped",
        "latin.py: error: not valid utf-8 text (byte 0xe9 at offset 8); skipped",
    ]


def test_a_declared_encoding_is_honoured(tmp_path: Path, capsys):
    text = "# -*- coding: latin-1 -*-\n" + READ.replace("float(", "float( # caf\xe9\n")
    project(tmp_path, {"latin.py": text.encode("latin-1")})

    code, out, err = call(capsys, tmp_path, "check", ".", *ONLY)

    assert (code, err) == (1, "")
    assert out.startswith("latin.py:6:15: FMP201")


def test_nothing_is_written_without_fix(tmp_path: Path):
    project(tmp_path, {"read.py": READ, "write.py": WRITE})
    before = {path: path.read_bytes() for path in tmp_path.rglob("*.py")}

    for extra in ([], ["--diff"], ["--diff", "--unsafe-fixes"], ["--unsafe-fixes"],
                  ["--format", "json"], ["--format", "sarif"], ["--format", "github"]):
        run_cli(tmp_path, "check", ".", "--select", "FMP201", *extra)

    assert {path: path.read_bytes() for path in tmp_path.rglob("*.py")} == before


def test_fix_applies_safe_fixes_only(tmp_path: Path):
    project(tmp_path, {"read.py": READ, "write.py": WRITE})

    done = run_cli(tmp_path, "check", ".", "--fix", *ONLY)

    assert done.returncode == 1, "the unsafe one remains"
    assert (tmp_path / "read.py").read_text() == READ.replace(
        'prices[prices.hour >= 17]["price"]', 'prices.loc[prices.hour >= 17, "price"]'
    )
    assert (tmp_path / "write.py").read_text() == WRITE
    assert done.stdout.splitlines()[-1] == "Found 2 findings (1 fixed, 1 remaining)."


def test_unsafe_fixes_fix_everything(tmp_path: Path, capsys):
    project(tmp_path, {"read.py": READ, "write.py": WRITE})

    code, out, _ = call(capsys, tmp_path, "check", ".", "--fix", "--unsafe-fixes", *ONLY)

    assert code == 0
    assert out == "Found 2 findings (2 fixed, 0 remaining).\n"
    assert 'prices.loc[prices.hour >= 17, "price"] = 0.0' in (tmp_path / "write.py").read_text()
    assert call(capsys, tmp_path, "check", ".", *ONLY)[0] == 0


def test_diff_shows_what_fix_would_do_and_exits_1(tmp_path: Path, capsys):
    project(tmp_path, {"read.py": READ, "write.py": WRITE})

    code, out, err = call(capsys, tmp_path, "check", ".", "--diff", *ONLY)

    assert code == 1
    assert out.splitlines() == [
        "--- a/read.py",
        "+++ b/read.py",
        "@@ -2,5 +2,5 @@",
        " ",
        " ",
        " def evening_peak(prices: pd.DataFrame) -> float:",
        '-    evening = prices[prices.hour >= 17]["price"]',
        '+    evening = prices.loc[prices.hour >= 17, "price"]',
        "     return float(evening.max())",
    ]
    assert err == "Would fix 1 finding in 1 file.\n"
    unsafe = call(capsys, tmp_path, "check", ".", "--diff", "--unsafe-fixes", *ONLY)
    assert unsafe[0] == 1 and unsafe[1].count("+++ b/") == 2


def test_diff_without_changes_exits_0(tmp_path: Path, capsys):
    project(tmp_path, {"clean.py": CLEAN})

    assert call(capsys, tmp_path, "check", ".", "--diff", *ONLY)[:2] == (0, "")


def test_fix_keeps_crlf_newlines_bom_and_permissions(tmp_path: Path, capsys):
    data = b"\xef\xbb\xbf" + READ.replace("\n", "\r\n").encode()
    project(tmp_path, {"read.py": data})
    (tmp_path / "read.py").chmod(0o640)

    call(capsys, tmp_path, "check", ".", "--fix", *ONLY)

    fixed = (tmp_path / "read.py").read_bytes()
    assert fixed.startswith(b"\xef\xbb\xbf")
    assert fixed.count(b"\r\n") == READ.count("\n")
    assert b'.loc[prices.hour >= 17, "price"]' in fixed
    assert (tmp_path / "read.py").stat().st_mode & 0o777 == 0o640
    assert [path.name for path in tmp_path.iterdir() if path.suffix == ".fmperf"] == []


def test_a_file_that_does_not_parse_is_never_fixed(tmp_path: Path, capsys):
    broken = READ + "\n\ndef half(:\n    pass\n"
    project(tmp_path, {"broken.py": broken})

    code, _, _ = call(capsys, tmp_path, "check", ".", "--fix", "--unsafe-fixes", *ONLY)

    assert code == 1
    assert (tmp_path / "broken.py").read_text() == broken


def test_exclude_globs(tmp_path: Path, capsys):
    project(tmp_path, {"app/read.py": READ, "migrations/read.py": READ},
            config='exclude = ["migrations"]\n')

    _, out, _ = call(capsys, tmp_path, "check", ".", *ONLY)

    assert "app/read.py" in out and "migrations" not in out


def test_skipped_folders(tmp_path: Path, capsys):
    project(tmp_path, {".venv/lib/read.py": READ, "node_modules/x/read.py": READ,
                       "env/pyvenv.cfg": "home = /usr\n", "env/lib/read.py": READ,
                       "build/read.py": READ})

    code, out, err = call(capsys, tmp_path, "check", ".", *ONLY)

    assert (code, out) == (0, "All checks passed.\n")
    assert "no Python files found" in err


def test_rules_lists_every_rule(capsys):
    code, out, _ = call(capsys, Path.cwd(), "rules")

    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["code", "name", "fix", "summary"]
    assert [line.split()[0] for line in lines[1:]] == list(all_rules())
    assert any(line.startswith("FMP201  chained-indexing") and " yes " in line for line in lines)


def test_explain_prints_the_rule_page(capsys):
    code, out, _ = call(capsys, Path.cwd(), "explain", "fmp201")

    assert code == 0
    assert out.startswith("# FMP201 chained-indexing\n")
    assert "## Why it is slow" in out


def test_explain_unknown_code_exits_2(capsys):
    code, out, err = call(capsys, Path.cwd(), "explain", "FMP999")

    assert (code, out) == (2, "")
    assert "unknown rule code 'FMP999'" in err


def test_no_command_is_a_usage_error(tmp_path: Path):
    assert run_cli(tmp_path).returncode == 2


def test_verbose_logs_to_stderr_only(tmp_path: Path):
    project(tmp_path, {"read.py": READ})

    done = run_cli(tmp_path, "-v", "check", "read.py", *ONLY, "--format", "json")

    assert done.stdout.startswith("[")
    assert "fmperf: DEBUG: fmperf_ls.checker: checked 1 file" in done.stderr
