"""The query library's files, the Browser guide and style: checked without Neo4j."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from converge_graph.core.cypher import (
    LibraryQuery,
    browser_edit_url,
    cypher_literal,
    load_library,
    load_query,
    parse,
)
from converge_graph.errors import InvalidInput, QueryFileError

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "cypher" / "queries"
BROWSER = ROOT / "cypher" / "browser"
PATHS = sorted(QUERIES.glob("*.cypher"))
# The values the guide's clickable queries use (the seed's demo customer).
GUIDE_DEMO = {
    "urn": "urn:email:john.smith@apple.com",
    "limit": 25,
    "type": "email",
    "min_profiles": 3,
    "days": 30,
}
REQUIRED = {
    "cluster_by_alias", "person_timeline", "person_devices_and_sources",
    "profiles_merged_via_alias_type", "conversion_paths", "largest_clusters", "hub_aliases",
    "duplicates_per_datasource", "events_per_datasource_per_day", "merges_per_day",
    "orphan_profiles", "browser_cluster",
}  # fmt: skip


# -- headers ----------------------------------------------------------------------------


def test_the_library_has_every_query_the_issue_asks_for() -> None:
    assert REQUIRED <= {path.stem for path in PATHS}


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_file_opens_with_description_params_and_returns(path: Path) -> None:
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("//"):
            break
        header.append(line)
    assert not header[0].startswith(("// params:", "// returns:")), "first line: a description"
    assert len(header[0]) <= 160, "the description is one line that --list can show"
    assert any(line.startswith("// params: ") for line in header)
    assert header[-1].startswith("// returns: ")
    kinds = ["params" if line.startswith("// params:") else "other" for line in header[1:-1]]
    assert kinds == sorted(kinds, key=lambda k: k == "params"), "notes come before params"

    query = parse(load_query(path))
    assert query.description == header[0][3:].strip()
    assert query.returns and query.statement


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_no_query_walks_an_unbounded_variable_length_path(path: Path) -> None:
    assert unbounded_patterns(parse(load_query(path)).statement) == []


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_query_only_reads(path: Path) -> None:
    statement = parse(load_query(path)).statement.upper()
    for clause in ("CREATE ", "MERGE ", "DELETE ", "SET ", "REMOVE ", "CALL APOC"):
        assert clause not in statement


def unbounded_patterns(statement: str) -> list[str]:
    """Variable-length relationships or quantified paths without an upper bound."""
    code = re.sub(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|`[^`]*`", "''", statement)
    found = []
    for match in re.finditer(r"\[[^\[\]]*?\*\s*(\d*)\s*(\.\.)?\s*(\d*)\s*\]", code):
        lower, dots, upper = match.groups()
        if (dots and not upper) or (not dots and not lower):
            found.append(match.group(0))
    found += re.findall(r"\)\s*(?:\+|\*|\{\s*\d*\s*,\s*\})", code)
    return found


@pytest.mark.parametrize(
    ("pattern", "unbounded"),
    [
        ("MATCH (a)-[:SAME_AS*]-(b)", True),
        ("MATCH (a)-[r:SAME_AS*2..]-(b)", True),
        ("MATCH (a)-[*]->(b)", True),
        ("MATCH ((a)-[:SAME_AS]->(b))+", True),
        ("MATCH ((a)-[:SAME_AS]->(b)){1,}", True),
        ("MATCH (a)-[:SAME_AS*1..3]-(b)", False),
        ("MATCH (a)-[:SAME_AS*2]-(b)", False),
        ("MATCH ((a)-[:SAME_AS]->(b)){1,3}", False),
        ("RETURN count(*), [x IN xs | x * 2], 'a*]'", False),
    ],
)
def test_the_unbounded_pattern_check_itself(pattern: str, unbounded: bool) -> None:
    assert bool(unbounded_patterns(pattern)) is unbounded


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "q.cypher"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("// params: $x (int) — x\n// returns: x\nRETURN $x AS x", "description"),
        ("// Does it.\n// params: $x (int) — x\nRETURN $x AS x", "returns"),
        ("// Does it.\n// returns: x\nRETURN 1 AS x", "params"),
        ("// Does it.\n// params: none\n// returns: x\nRETURN $x AS x", "declares"),
        ("// Does it.\n// params: $x (int) — x\n// returns: x\nRETURN 1 AS x", "declares"),
        ("// Does it.\n// params: $x (date) — x\n// returns: x\nRETURN $x AS x", "type"),
        ("// Does it.\n// params: $x int\n// returns: x\nRETURN $x AS x", "params: $name"),
        ("// Does it.\n// params: $x (int, default ten) — x\n// returns: x\nRETURN $x AS x", "int"),
    ],
)
def test_a_bad_header_fails_fast_naming_the_file(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(QueryFileError) as raised:
        parse(load_query(write(tmp_path, text)))
    assert "q.cypher" in raised.value.message and complaint in raised.value.message


def test_dollars_inside_strings_and_quoted_names_are_not_parameters(tmp_path: Path) -> None:
    text = (
        "// Emails.\n// params: $limit (int, default 5) — at most\n// returns: email, note\n"
        "MATCH (p:Profile) RETURN p.`$email` AS email, 'costs $5' AS note LIMIT $limit"
    )
    query = parse(load_query(write(tmp_path, text)))

    assert [p.name for p in query.params] == ["limit"]
    assert query.inline({"limit": 3}).endswith("'costs $5' AS note LIMIT 3")
    assert "p.`$email`" in query.inline({"limit": 3})


# -- parameters -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def library() -> dict[str, LibraryQuery]:
    return load_library(QUERIES)


def test_bind_types_values_and_fills_defaults(library: dict[str, LibraryQuery]) -> None:
    timeline = library["person_timeline"]
    assert timeline.bind(["urn=urn:email:a=b@c.io"]) == {"urn": "urn:email:a=b@c.io", "limit": 50}
    assert timeline.bind(["urn=x", "limit=7"]) == {"urn": "x", "limit": 7}
    assert library["duplicates_per_datasource"].bind([]) == {}


@pytest.mark.parametrize(
    ("name", "pairs", "field", "says"),
    [
        ("person_timeline", ["limit=3"], "urn", "needs --param urn="),
        ("person_timeline", ["urn=x", "limit=ten"], "limit", "takes an int"),
        ("person_timeline", ["urn=x", "colour=red"], "colour", "it takes urn (string)"),
        ("person_timeline", ["urn"], "param", "key=value"),
    ],
)
def test_bind_says_which_parameter_is_wrong(
    library: dict[str, LibraryQuery], name: str, pairs: list[str], field: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        library[name].bind(pairs)
    assert raised.value.field == field and says in raised.value.message


def test_cypher_literals_escape_what_would_break_out_of_a_string() -> None:
    assert cypher_literal("o'neil\\") == "'o\\'neil\\\\'"
    assert cypher_literal([1, 2.5, True, None]) == "[1, 2.5, true, null]"
    assert cypher_literal({"a`b": "x"}) == "{`a``b`: 'x'}"


def test_browser_edit_url_opens_the_editor_with_the_query() -> None:
    url = browser_edit_url("http://localhost:7474/browser/", "MATCH (n {id: 'a&b'}) RETURN n")
    assert url.startswith("http://localhost:7474/browser/?cmd=edit&arg=MATCH%20%28n")
    assert "%26" in url and "&b" not in url


# -- Browser guide and style ------------------------------------------------------------


class _Guide(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, list[str]]] = []
        self.runnable: list[str] = []
        self.slides = 0
        self.outline: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        self.stack.append((tag, classes))
        if tag in ("article", "carousel"):
            self.outline.append(f"{tag}.{'.'.join(classes)}")
        if tag == "slide":
            self.slides += 1
            assert [t for t, _ in self.stack[:-1]][-2:] == ["article", "carousel"]
        if tag == "pre" and "runnable" in classes:
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        opened, _ = self.stack.pop()
        assert opened == tag, f"<{opened}> closed by </{tag}>"
        if tag == "pre" and self._text is not None:
            self.runnable.append("".join(self._text).strip())
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


@pytest.fixture(scope="module")
def guide() -> _Guide:
    parser = _Guide()
    parser.feed((BROWSER / "guide.html").read_text(encoding="utf-8"))
    parser.close()
    assert parser.stack == [], "every element is closed"
    return parser


def test_guide_is_a_browser_carousel_of_slides(guide: _Guide) -> None:
    text = (BROWSER / "guide.html").read_text(encoding="utf-8")
    assert re.search(r"<title>[^<]+</title>", text)
    assert '<article class="guide">' in text
    assert guide.outline[:2] == ["article.guide", "carousel.deck.container-fluid"]
    assert guide.slides >= 8


def test_every_clickable_guide_query_is_a_library_query_with_demo_values(
    guide: _Guide, library: dict[str, LibraryQuery]
) -> None:
    rendered = {name: query.inline(GUIDE_DEMO) for name, query in library.items()}
    shown = set()
    for block in guide.runnable:
        if block.startswith(":") or block == "CALL db.schema.visualization()":
            continue
        matches = [name for name, text in rendered.items() if text == block]
        assert matches, f"guide query not from the library:\n{block}"
        shown.update(matches)
    assert shown == set(library), "every library query appears in the guide"


def test_guide_commands_point_at_the_style_and_guide_the_api_serves(guide: _Guide) -> None:
    commands = [block for block in guide.runnable if block.startswith(":")]
    assert ":style http://localhost:8000/browser/style.grass" in commands
    assert ":play http://localhost:8000/browser/guide.html" in commands


def grass_rules(text: str) -> dict[str, dict[str, str]]:
    """The rules exactly as Neo4j Browser's GraphStyle.parse reads them.

    Quotes only protect braces; each property is split on ':' and its first two parts
    kept, so a value holding a ':' would be cut short there.
    """
    rules: dict[str, str] = {}
    keyword, body, in_string, in_props = "", "", False, False
    for char in text:
        if char == "{" and not in_string:
            in_props = True
        elif char == "}" and not in_string:
            in_props = False
            rules[keyword], keyword, body = body, "", ""
        elif char == "'":
            in_string = not in_string
        elif in_props:
            body += char
        elif not char.isspace():
            keyword += char
    parsed: dict[str, dict[str, str]] = {}
    for selector, props in rules.items():
        parsed[selector] = {}
        for prop in props.split(";"):
            parts = prop.split(":")
            if len(parts) >= 2 and parts[0].strip() and parts[1].strip():
                parsed[selector][parts[0].strip()] = parts[1].strip()
    return parsed


def test_style_colours_and_captions_every_label_of_the_model() -> None:
    text = (BROWSER / "style.grass").read_text(encoding="utf-8")
    assert "/*" not in text and "//" not in text, "Browser's GraSS parser has no comments"
    rules = grass_rules(text)

    captions = {
        "node.Profile": "{profile_id}",
        "node.Alias": "{urn}",
        "node.Event": "{event_name}",
        "node.Datasource": "{name}",
        "relationship.SAME_AS": "{reason}",
    }
    for selector, caption in captions.items():
        assert rules[selector]["caption"] == caption
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", rules[selector]["color"])
    colours = {rules[s]["color"] for s in ("node.Profile", "node.Alias", "node.Event",
                                           "node.Datasource")}  # fmt: skip
    assert len(colours) == 4, "each label has its own colour"
    sizes = {s: int(rules[s]["diameter"].removesuffix("px")) for s in captions if "node" in s}
    assert sizes["node.Event"] < sizes["node.Alias"] < sizes["node.Profile"]
