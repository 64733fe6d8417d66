"""The README and docs/ hold together: every relative link names a file that exists, every `#anchor` names a
heading of its page (GitHub's slugs), every docs page can be reached from the README, and the README stays
short enough to read in one sitting."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_MAX_LINES = 150
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.M | re.S)
INLINE_CODE = re.compile(r"(`+).*?\1", re.S)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:, ...


def prose(text: str) -> str:
    """The text without code blocks, so an example's brackets are not taken for links or headings."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text without markup, lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading counts by its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor; a repeated heading gets -1, -2, ... as GitHub numbers them."""
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(prose(page.read_text(encoding="utf-8"))):
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    text = INLINE_CODE.sub("", prose(page.read_text(encoding="utf-8")))
    return [target for target in LINK.findall(text) if not EXTERNAL.match(target)]


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with each relative link of `page`, one line each."""
    problems = []
    for target in links(page):
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        where = f"{page.relative_to(root)}: ({target})"
        if not linked.exists():
            problems.append(f"{where} names a file that does not exist")
        elif anchor and linked.suffix != ".md":
            problems.append(f"{where} has an anchor into a file that is not markdown")
        elif anchor and anchor not in anchors(linked):
            problems.append(f"{where}: no heading of {linked.relative_to(root)} has the anchor #{anchor}")
    return problems


def reachable_from(start: Path) -> set[Path]:
    """Every markdown page under the repository reached by following relative links from `start`."""
    seen, todo = {start}, [start]
    while todo:
        page = todo.pop()
        for target in links(page):
            linked = (page.parent / target.partition("#")[0]).resolve()
            if linked.suffix == ".md" and linked.exists() and linked not in seen:
                seen.add(linked)
                todo.append(linked)
    return seen


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page):
    assert broken_links(page) == []


def test_every_docs_page_can_be_reached_from_the_readme():
    orphans = [str(page.relative_to(ROOT)) for page in PAGES if page not in reachable_from(README)]
    assert orphans == [], "link these from the README's 'Where to read next' or from a docs page that is"


def test_the_readme_stays_short():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into a docs/ page"


@pytest.mark.parametrize("heading, anchor", [
    ("The local stack", "the-local-stack"),
    ("A real control plane: `make k8s-up`, `make k8s-verify`, `make k8s-down`",
     "a-real-control-plane-make-k8s-up-make-k8s-verify-make-k8s-down"),
    ("Kafka: from 1 to 3 nodes", "kafka-from-1-to-3-nodes"),
    ("Orders (order-ms)", "orders-order-ms"),
    ("What was changed, and what it costs", "what-was-changed-and-what-it-costs"),
    ("`DB_READ_TIMEOUT` and [the pool](pool.md)", "db_read_timeout-and-the-pool"),
])
def test_anchors_are_githubs(heading, anchor):
    assert slug(heading) == anchor


def test_a_broken_link_or_anchor_is_named(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## Part two\n\n## Part two\n")
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n[ok](other.md#part-two-1) [self](#page) [web](https://example.org/x)\n"
                    "[gone](missing.md) [bad anchor](other.md#part-three)\n\n```sh\n[not a link](nowhere.md)\n```\n"
                    "and `[code](nowhere.md)` neither\n")
    assert broken_links(page, tmp_path) == [
        "page.md: (missing.md) names a file that does not exist",
        "page.md: (other.md#part-three): no heading of other.md has the anchor #part-three",
    ]
