"""What the type facade answers about pandas expressions, from local evidence only."""

from __future__ import annotations

import textwrap

import pytest

from fmperf_ls.analysis.infer import Kind, TypeFacade
from fmperf_ls.analysis.source import SourceFile

HEADER = "import pandas as pd\nimport numpy as np\ndf = pd.read_csv('a.csv')\ns = df['a']\n"


def kind_of_last(body: str, header: str = HEADER) -> Kind:
    """The kind of the value of the file's last statement (an expression or assignment)."""
    source = SourceFile(header + textwrap.dedent(body).lstrip("\n"))
    statement = [child for child in source.tree.children if child.type != "endmarker"][-1]
    while statement.type in ("simple_stmt", "funcdef", "suite", "if_stmt"):
        statement = [child for child in statement.children if child.type != "newline"][-1]
    expression = statement.children[-1] if statement.type == "expr_stmt" else statement
    if expression.type == "return_stmt":
        expression = expression.children[1]
    return TypeFacade(source).kind(expression)


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ("df", Kind.FRAME),
        ("df['a'] > 0", Kind.SERIES),
        ("0 < df['a']", Kind.SERIES),
        ("(df['a'] > 0) | (df['b'] < 1)", Kind.SERIES),
        ("~(df['a'] > 0)", Kind.SERIES),
        ("-s", Kind.SERIES),
        ("s ** 2", Kind.SERIES),
        ("df > 0", Kind.FRAME),
        ("df.hour >= 17", Kind.SERIES),
        ("df.shape", Kind.OTHER),
        ("df.empty", Kind.OTHER),
        ("df.dtypes", Kind.SERIES),
        ("df.plot", Kind.UNKNOWN),
        ("df.loc[df['a'] > 1]", Kind.FRAME),
        ("df.loc[df['a'] > 1, 'b']", Kind.SERIES),
        ("df.loc[:, ['a', 'b']]", Kind.FRAME),
        ("df.loc[3]", Kind.UNKNOWN),
        ("s.loc[s > 0]", Kind.SERIES),
        ("df.groupby('a')['b'].sum()", Kind.SERIES),
        ("df.groupby('a').sum()", Kind.FRAME),
        ("df.groupby('a').size()", Kind.SERIES),
        ("df.groupby('a').agg('sum')", Kind.UNKNOWN),
        ("df.sum()", Kind.SERIES),
        ("s.sum()", Kind.OTHER),
        ("df.isna().any(axis=1)", Kind.SERIES),
        ("s.str.contains('x')", Kind.SERIES),
        ("s.dt.hour", Kind.SERIES),
        ("s.str.split(',', expand=True)", Kind.UNKNOWN),
        ("s.unique()", Kind.ARRAY),
        ("pd.concat([df, df])", Kind.FRAME),
        ("pd.concat([s, s])", Kind.SERIES),
        ("pd.concat([s, s], axis=1)", Kind.FRAME),
        ("pd.DataFrame.from_records([])", Kind.FRAME),
        ("pd.read_csv('b.csv', chunksize=10)", Kind.UNKNOWN),
        ("pd.read_excel('b.xlsx', sheet_name=None)", Kind.FRAMES),
        ("pd.read_excel('b.xlsx', sheet_name='one')", Kind.FRAME),
        ("np.zeros(3)", Kind.UNKNOWN),
        ("{'a': 1}", Kind.OTHER),
    ],
)
def test_expression_kinds(expression: str, kind: Kind):
    assert kind_of_last(f"x = {expression}\n") is kind


def test_local_function_return_annotation():
    body = """
    def load() -> pd.DataFrame:
        return pd.DataFrame()
    x = load()
    """

    assert kind_of_last(body) is Kind.FRAME


def test_function_defined_in_a_function_is_seen_only_there():
    body = """
    def outer():
        def load() -> pd.Series:
            return pd.Series()
        return load()
    x = load()
    """

    assert kind_of_last(body) is Kind.UNKNOWN


def test_optional_frame_parameter():
    body = """
    def f(frame: pd.DataFrame | None):
        return frame
    """

    assert kind_of_last(body) is Kind.FRAME


def test_frames_from_a_dict_of_sheets():
    body = """
    sheets = pd.read_excel("b.xlsx", sheet_name=None)
    x = sheets["one"]
    """

    assert kind_of_last(body) is Kind.FRAME


@pytest.mark.parametrize(
    "code",
    [
        "x = df[",
        "x = df.loc[df.a >",
        "x = (df['a'] ** )",
        "def f(frame: pd.DataFrame:\n    return frame.",
        "x = pd.concat([",
        "x = await df",
        "x = df.groupby('a')[",
    ],
)
def test_half_typed_code_is_unknown_or_answered_without_errors(code: str):
    source = SourceFile(HEADER + code)
    facade = TypeFacade(source)

    kinds = [facade.kind(node) for node in source.nodes("atom_expr", "power", "name", "atom")]

    assert all(isinstance(kind, Kind) for kind in kinds)


def test_prefixes_of_many_chains_do_not_share_answers():
    """Chain prefixes are temporary objects; a reused id must not return another's kind."""
    body = """
    a = df.groupby("r")["v"].sum().reset_index()
    b = df.groupby("r")["v"].sum().idxmax()
    """
    source = SourceFile(HEADER + textwrap.dedent(body))
    facade = TypeFacade(source)
    from fmperf_ls.analysis.infer import chain_prefix

    chains = [node for node in source.nodes("atom_expr") if "groupby" in node.get_code()]
    kinds = [[facade.kind(chain_prefix(chain, end)) for end in range(1, len(chain.children) + 1)]
             for chain in chains]

    expected = [Kind.FRAME, Kind.UNKNOWN, Kind.GROUPBY, Kind.GROUPBY, Kind.UNKNOWN, Kind.SERIES]
    assert [row[:6] for row in kinds] == [expected, expected]


def test_a_name_rebound_from_itself_keeps_its_kind():
    body = """
    frame = pd.read_csv("b.csv")
    frame = frame.dropna()
    frame = frame[frame["a"] > 0]
    x = frame
    """

    assert kind_of_last(body) is Kind.FRAME


def test_a_frame_returned_by_a_helper_in_another_module_is_known(tmp_path):
    """jedi follows the import (plain or dotted) to the helper's return annotation."""
    from fmperf_ls.analysis.infer import jedi_definition
    from fmperf_ls.analysis.source import SourceFile
    from fmperf_ls.engine import Engine

    (tmp_path / "helpers.py").write_text(
        "import pandas as pd\n\n\ndef load_prices(path: str) -> pd.DataFrame:\n"
        "    return pd.read_csv(path)\n"
    )
    text = (
        "import helpers\nfrom helpers import load_prices\n\n\n"
        "def by_name():\n    prices = load_prices('p.csv')\n"
        "    return prices[prices.hour > 3]['price']  # pandas\n\n\n"
        "def by_module():\n    prices = helpers.load_prices('p.csv')\n"
        "    return prices[prices.hour > 3]['price']\n"
    )
    engine = Engine(jedi_lookup=jedi_definition(tmp_path), budget_seconds=30.0)

    report = engine.check(SourceFile(text, str(tmp_path / "use.py")))

    assert [(finding.code, finding.range.start.line) for finding in report.findings] == [
        ("FMP201", 6), ("FMP201", 11)]


@pytest.mark.parametrize("files_fixed", [True, False])
def test_a_command_line_run_reuses_the_tree_jedi_parsed(tmp_path, files_fixed):
    """Following a helper costs one parse of its module in a run, two in the editor."""
    from parso.cache import parser_cache

    from fmperf_ls.analysis.jedi_bridge import JediBridge
    from fmperf_ls.analysis.source import SourceFile

    helpers = tmp_path / "helpers.py"
    helpers.write_text("import pandas as pd\n\n\ndef load(path: str) -> pd.DataFrame:\n"
                       "    return pd.read_csv(path)\n")
    source = SourceFile("from helpers import load\n\nframe = load('p.csv')\n",
                        str(tmp_path / "use.py"))
    name = source.tree.get_leaf_for_position((3, 8))
    bridge = JediBridge(tmp_path, files_fixed=files_fixed)

    definition = bridge.definition_of(source, name)

    assert definition is not None and definition.type == "funcdef"
    jedi_trees = [trees[helpers].node for trees in parser_cache.values() if helpers in trees]
    assert (definition.get_root_node() in jedi_trees) is files_fixed


HELPER_SHAPES = {
    "a sole def": ("def load(path: str) -> pd.DataFrame:\n    return pd.read_csv(path)\n",
                   False),
    "a string annotation": ("def load(path) -> 'pd.DataFrame':\n    return pd.read_csv(path)\n",
                            False),
    "a def per branch": ("if pd:\n    def load(path) -> pd.DataFrame:\n        return 1\n"
                         "else:\n    def load(path) -> pd.DataFrame:\n        return 2\n", True),
    "a re-export": ("from frames.io import load\n", True),
    "a class": ("class load(pd.DataFrame):\n    pass\n", False),
}


@pytest.mark.parametrize("shape", HELPER_SHAPES)
def test_a_helper_defined_once_is_read_off_its_module_outline(tmp_path, shape):
    """No jedi (and no parse of the helper's module) when the outline names the function
    or class; the finding is the one jedi leads to either way."""
    from fmperf_ls.analysis.infer import jedi_definition
    from fmperf_ls.analysis.project import ProjectIndex
    from fmperf_ls.engine import Engine

    helpers, asks_jedi = HELPER_SHAPES[shape]
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "__init__.py").write_text("")
    (tmp_path / "frames" / "io.py").write_text(
        "import pandas as pd\n\n\ndef load(path) -> pd.DataFrame:\n    return pd.read_csv(path)\n")
    (tmp_path / "frames" / "helpers.py").write_text("import pandas as pd\n\n\n" + helpers)
    text = ("import pandas as pd\n\nfrom frames.helpers import load\n\n\n"
            "def evening() -> pd.Series:\n    prices = load('p.csv')\n"
            "    return prices[prices.hour > 17]['price']\n")
    jedi = jedi_definition(tmp_path)
    asked = []

    def lookup(source, name):
        asked.append(name.value)
        return jedi(source, name)

    engine = Engine(project=ProjectIndex(tmp_path), jedi_lookup=lookup, budget_seconds=30.0)
    path = str(tmp_path / "frames" / "use.py")

    report = engine.check(SourceFile(text, path))
    by_jedi = Engine(jedi_lookup=jedi, budget_seconds=30.0).check(SourceFile(text, path))

    expected = [] if shape == "a class" else [("FMP201", 7)]  # a class call is not followed
    assert [(finding.code, finding.range.start.line) for finding in report.findings] == expected
    assert report.findings == by_jedi.findings
    assert bool(asked) is asks_jedi
