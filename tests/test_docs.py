"""The READMEs cannot drift from the code: every claim here is checked against the tree."""

import re

import pytest

from tutorial.cli import command_names
from tutorial.stepdiff import changed_files
from tutorial.steps import NOTEBOOKS_DIR, REPO_ROOT, all_steps

STEPS = all_steps()
STEP_IDS = [step.name for step in STEPS]
READMES = [REPO_ROOT / "README.md"] + [step.path / "README.md" for step in STEPS]
REQUIRED_SECTIONS = [
    "## What this step builds",
    "## Get here from the previous step",
    "## The code that changed",
    "## Files changed",
    "## Run it",
    "## Differences from the article",
]
FENCED_BLOCK = re.compile(r"^```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PATH_COMMENT = re.compile(r"# ([\w./-]+\.(?:py|html|json|ini|txt|cfg))\n")


def readme(step):
    return (step.path / "README.md").read_text()


def section(text, heading):
    """The text under a '## ' heading, up to the next one."""
    start = text.index(heading) + len(heading)
    following = text.find("\n## ", start)
    return text[start:] if following == -1 else text[start:following]


def path_excerpts(step):
    for block in FENCED_BLOCK.findall(readme(step)):
        first_line = PATH_COMMENT.match(block)
        if first_line:
            yield first_line.group(1), block[first_line.end() :]


@pytest.mark.parametrize("step", STEPS, ids=STEP_IDS)
def test_readme_has_every_section(step):
    text = readme(step)

    missing = [heading for heading in REQUIRED_SECTIONS if heading not in text]

    assert not missing, f"{step}/README.md lacks {missing}"


@pytest.mark.parametrize("step", STEPS, ids=STEP_IDS)
def test_code_excerpts_are_verbatim_from_the_step(step):
    excerpts = list(path_excerpts(step))
    assert excerpts or step.number == 1, f"{step}/README.md shows no code"

    for relative_path, code in excerpts:
        source = step.path / relative_path
        assert source.exists(), f"{step}/README.md quotes {relative_path}, which does not exist"
        assert code in source.read_text(), (
            f"{step}/README.md has a block for {relative_path} that is not in the file:\n{code}"
        )


def listed_files(step):
    """The '## Files changed' bullets: - `path` with an optional (added)/(removed)."""
    bullets = re.findall(
        r"^- `([^`]+)`(?: \((added|removed)\))?$",
        section(readme(step), "## Files changed"),
        re.MULTILINE,
    )
    return {path: status or "changed" for path, status in bullets}


@pytest.mark.parametrize("step", STEPS, ids=STEP_IDS)
def test_files_changed_matches_the_real_diff(step):
    previous = step.previous()
    real = changed_files(previous.path if previous else None, step.path)
    if previous is None:
        # Everything in the first step is new; its list does not mark each one "added".
        real = dict.fromkeys(real, "changed")

    assert listed_files(step) == real


def make_targets():
    makefile = (REPO_ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-zA-Z][\w%-]*):", makefile, re.MULTILINE))


def target_exists(name, targets):
    return name in targets or any(
        target.endswith("%") and name.startswith(target[:-1]) and name[len(target) - 1 :]
        for target in targets
    )


@pytest.mark.parametrize("path", READMES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_every_make_target_named_exists(path):
    named = set(re.findall(r"`make ([a-z][\w-]*)", path.read_text()))
    targets = make_targets()

    missing = sorted(name for name in named if not target_exists(name.replace("-N", "-1"), targets))

    assert not missing, f"{path.name} names make targets that do not exist: {missing}"


@pytest.mark.parametrize("path", READMES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_every_tutorial_command_named_exists(path):
    named = set(re.findall(r"python -m tutorial ([a-z][\w-]*)", path.read_text()))
    missing = sorted(named - command_names())

    assert not missing, f"{path.name} names tutorial commands that do not exist: {missing}"


def test_top_readme_step_table_matches_the_tree():
    table = section((REPO_ROOT / "README.md").read_text(), "## The steps")
    named_steps = set(re.findall(r"\(steps/([\w]+)/\)", table))
    named_notebooks = set(re.findall(r"\(notebooks/([\w.-]+\.ipynb)\)", table))
    notebooks = {path.name for path in NOTEBOOKS_DIR.glob("*.ipynb")}

    assert named_steps == {step.name for step in STEPS}
    assert named_notebooks == notebooks
