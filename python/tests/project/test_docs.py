"""The documentation's promises: a README a newcomer reads in one sitting, guides in docs/ that
say who they are for, a decision index that lists every record, and no relative link (or
anchor) that leads nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


def _project_dir() -> Path:
    """The folder holding dbt_project.yml, wherever this test file sits under python/tests/."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "dbt_project.yml").is_file():
            return folder
    raise RuntimeError("no dbt_project.yml above " + str(Path(__file__).resolve()))


PROJECT = _project_dir()
README = PROJECT / "README.md"
DOCS = PROJECT / "docs"
DECISIONS = DOCS / "decisions"
MARKDOWN = [README, *sorted(DOCS.rglob("*.md"))]
# The guides the README sends a reader to; each starts by saying who it is for.
GUIDES = [
    "campaigns.md",
    "data.md",
    "incremental.md",
    "performance.md",
    "segments.md",
    "serving.md",
    "sqlserver.md",
]
MAX_README_LINES = 150

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def _prose(text: str) -> str:
    """The text without fenced code blocks, where brackets and hashes are not Markdown."""
    return FENCE.sub("", text)


def _links(path: Path) -> list[str]:
    return LINK.findall(INLINE_CODE.sub("", _prose(path.read_text(encoding="utf-8"))))


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file (lower case, punctuation dropped,
    spaces to hyphens, -1, -2, ... for repeated headings)."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in HEADING.findall(_prose(path.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _is_external(target: str) -> bool:
    return re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) is not None


def test_the_readme_is_at_most_150_lines():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"


def test_the_readme_shows_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "make run" in text
    assert "make test" in text


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(PROJECT)))
def test_every_relative_link_points_to_an_existing_file_and_heading(path):
    broken = []
    for target in _links(path):
        if _is_external(target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, f"{path.relative_to(PROJECT)}: {broken}"


def test_the_link_checker_finds_links_and_reports_a_missing_file(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\nSee [a](missing.md), [b](#title), ![c](img.png) and [d](https://x.org).\n"
        "```sh\n[not a link](nowhere.md)\n```\nAnd `[code](nowhere.md)`.\n",
        encoding="utf-8",
    )
    assert _links(page) == ["missing.md", "#title", "img.png", "https://x.org"]
    assert _anchors(page) == {"title"}


def test_anchors_follow_githubs_rules(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "## Quality gates: a champion model\n## The `procedure_table` materialization\n"
        "## Notes (measured 2026-11-23 on the 2-core machine)\n## Notes\n## Notes\n",
        encoding="utf-8",
    )
    assert _anchors(page) == {
        "quality-gates-a-champion-model",
        "the-procedure_table-materialization",
        "notes-measured-2026-11-23-on-the-2-core-machine",
        "notes",
        "notes-1",
    }


@pytest.mark.parametrize("guide", GUIDES)
def test_each_guide_exists_is_linked_from_the_readme_and_says_who_it_is_for(guide):
    path = DOCS / guide
    assert path.is_file(), f"docs/{guide} is missing"
    assert f"docs/{guide}" in _links(README), f"README.md does not link docs/{guide}"
    paragraphs = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    assert paragraphs[0].startswith("# "), f"docs/{guide} starts without a title"
    assert paragraphs[1].startswith("For "), f"docs/{guide} does not start with who it is for"


def test_the_decision_index_names_every_record():
    index = (DECISIONS / "README.md").read_text(encoding="utf-8")
    records = sorted(p.name for p in DECISIONS.glob("*.md") if p.name != "README.md")
    assert records, "docs/decisions/ holds no record"
    assert [name for name in records if name not in index] == []
