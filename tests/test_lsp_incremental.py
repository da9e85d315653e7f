"""An open document is checked from its diff-parsed tree, and nothing else is built for it."""

from __future__ import annotations

import textwrap

from fmperf_ls.engine import Engine
from fmperf_ls.lsp.incremental import DocumentSource, forget

TEXT = textwrap.dedent("""
    import pandas as pd


    def evening(frame: pd.DataFrame) -> float:
        return float(frame[frame.hour >= 17]["price"].sum())
    """).lstrip("\n")
URI = "file:///project/prices.py"


def test_an_edit_is_checked_on_the_updated_tree_without_an_ast_outline():
    """The outline costs more than the diff parse: the editor's engine has no gates.

    The diff parser updates the first version's tree in place: what was
    learned about the old tree (definitions by name) must not answer for the new.
    """
    engine = Engine(gates=False)
    try:
        first = DocumentSource(TEXT, "/project/prices.py", 1, URI)
        edited = DocumentSource(TEXT.replace("17", "18"), "/project/prices.py", 2, URI)

        reports = [engine.check(first), engine.check(edited)]

        assert [[finding.code for finding in report.findings] for report in reports] == [
            ["FMP201"], ["FMP201"]
        ]
        assert all(source.parsed and source.built_outline is None
                   for source in (first, edited))
    finally:
        forget(URI)


def test_a_gated_engine_reads_the_imports_of_an_unparsed_file_from_its_outline():
    source = DocumentSource("import os\n\nfor name in os.listdir():\n    print(name)\n",
                            "/project/plain.py", 1, URI)
    try:
        report = Engine().check(source)

        assert report.findings == []
        assert not source.parsed and source.built_outline is not None
    finally:
        forget(URI)
