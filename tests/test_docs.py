"""The READMEs cannot drift from the code: every claim here is checked against the tree."""

import re

import pytest

from tutorial.check.command import DEFAULT_SECTION, README_SECTIONS, Behaviour, step_that_teaches
from tutorial.cli import command_names
from tutorial.course.changed_files import changed_files
from tutorial.course.steps import NOTEBOOKS_DIR, REPO_ROOT, all_steps

STEPS = all_steps()
STEP_IDS = [step.name for step in STEPS]
TOP_README = REPO_ROOT / "README.md"
# Every README by the name a reader knows it by.
READMES = {"README.md": TOP_README}
READMES |= {f"{step}/README.md": step.path / "README.md" for step in STEPS}
REQUIRED_SECTIONS = [
    "## What this step builds",
    "## Get here from the previous step",
    "## The code that changed",
    "## Files changed",
    "## Run it",
    "## Differences from the article",
]
FENCED_BLOCK = re.compile(r"^```[\w-]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# "# products/signals.py", or for a template "{# products/templates/products/list.html #}".
PATH_COMMENT = re.compile(r"(?:# |\{# )([\w.-]+(?:/[\w.-]+)*\.\w+)(?: #\})?\n")
FILE_BULLET = re.compile(r"- `([^`]+)`(?: \((added|removed)\))?")
INLINE_CODE = re.compile(r"`([^`\n]+)`")


def readme(step):
    return (step.path / "README.md").read_text()


def section(text, heading):
    """The text under a '## ' heading, up to the next one."""
    start = text.index(heading) + len(heading)
    following = text.find("\n## ", start)
    return text[start:] if following == -1 else text[start:following]


def code_in(text):
    """Everything a reader would type: fenced blocks and inline code spans."""
    return FENCED_BLOCK.findall(text) + INLINE_CODE.findall(FENCED_BLOCK.sub("", text))


@pytest.mark.parametrize("step", STEPS, ids=STEP_IDS)
def test_readme_has_every_section(step):
    lines = readme(step).splitlines()

    missing = [heading for heading in REQUIRED_SECTIONS if heading not in lines]

    assert not missing, f"{step}/README.md lacks the headings {missing}"


def path_excerpts(step):
    """(block number, path, code) for each fenced block that starts with a path comment."""
    for number, block in enumerate(FENCED_BLOCK.findall(readme(step)), start=1):
        first_line = PATH_COMMENT.fullmatch(block.partition("\n")[0] + "\n")
        if first_line:
            yield number, first_line.group(1), block.partition("\n")[2]


def first_line_missing(code, source):
    source_lines = set(source.splitlines())
    return next((line for line in code.splitlines() if line not in source_lines), None)


@pytest.mark.parametrize("step", STEPS, ids=STEP_IDS)
def test_code_excerpts_are_verbatim_from_the_step(step):
    excerpts = list(path_excerpts(step))
    assert excerpts or step.number == 1, f"{step}/README.md shows no code"

    for number, relative_path, code in excerpts:
        where = f"{step}/README.md, code block {number} ({relative_path})"
        source = step.path / relative_path
        assert source.is_file(), f"{where}: {step}/{relative_path} does not exist"
        if code not in source.read_text():
            missing = first_line_missing(code, source.read_text())
            detail = (
                f"this line is not in the file: {missing!r}"
                if missing is not None
                else "every line is in the file, but not together in this order"
            )
            pytest.fail(f"{where} is not verbatim from {step}/{relative_path}: {detail}")


def listed_files(step):
    """The '## Files changed' bullets, - `path` with an optional (added)/(removed) mark."""
    listed = {}
    for line in section(readme(step), "## Files changed").splitlines():
        if line.startswith("- "):
            bullet = FILE_BULLET.fullmatch(line)
            assert bullet, f'{step}/README.md, "Files changed": cannot read the bullet {line!r}'
            listed[bullet.group(1)] = bullet.group(2)
    return listed


def expected_marks(step):
    """What the list should hold: each differing file, marked (added)/(removed) or not at all."""
    previous = step.previous()
    if previous is None:
        # Everything in the first step is new, so its list marks none of them.
        return dict.fromkeys(changed_files(None, step.path))
    changes = changed_files(previous.path, step.path)
    return {path: None if status == "changed" else status for path, status in changes.items()}


@pytest.mark.parametrize("step", STEPS, ids=STEP_IDS)
def test_files_changed_matches_the_real_diff(step):
    listed, expected = listed_files(step), expected_marks(step)

    problems = [
        f"{path} is missing" + (f" ({expected[path]})" if expected[path] else "")
        for path in sorted(expected.keys() - listed.keys())
    ]
    problems += [f"{path} did not change" for path in sorted(listed.keys() - expected.keys())]
    problems += [
        f"{path} should be marked ({expected[path]})" if expected[path] else f"{path} has a mark"
        for path in sorted(listed.keys() & expected.keys())
        if listed[path] != expected[path]
    ]

    previous = step.previous()
    compared = f"compared with {previous}" if previous else "(the first step: every file)"
    assert not problems, f'{step}/README.md, "Files changed" {compared}: ' + "; ".join(problems)


def make_targets():
    makefile = (REPO_ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-zA-Z][\w%-]*):", makefile, re.MULTILINE))


def target_exists(name, targets):
    """A literal target, or a pattern target such as step-% matching step-3 or step-N."""
    return name in targets or any(
        target.endswith("%") and name.startswith(target[:-1]) and len(name) > len(target) - 1
        for target in targets
    )


@pytest.mark.parametrize(("name", "path"), READMES.items(), ids=READMES)
def test_every_make_target_named_exists(name, path):
    named = {
        target
        for code in code_in(path.read_text())
        for target in re.findall(r"(?:^|\s|\()make ([a-z][\w-]*)", code, re.MULTILINE)
    }
    targets = make_targets()

    missing = sorted(target for target in named if not target_exists(target, targets))

    assert not missing, f"{name} names make targets that the Makefile lacks: {missing}"


@pytest.mark.parametrize(("name", "path"), READMES.items(), ids=READMES)
def test_every_tutorial_command_named_exists(name, path):
    named = set(re.findall(r"python -m tutorial ([a-z][\w-]*)", path.read_text()))

    missing = sorted(named - command_names())

    assert not missing, f"{name} names `python -m tutorial` commands that do not exist: {missing}"


def test_top_readme_step_table_matches_the_tree():
    table = section(TOP_README.read_text(), "## The steps")
    named_steps = set(re.findall(r"\]\(steps/([\w-]+)/?\)", table))
    named_notebooks = set(re.findall(r"\]\(notebooks/([\w.-]+\.ipynb)\)", table))
    steps = {step.name for step in STEPS}
    notebooks = {path.name for path in NOTEBOOKS_DIR.glob("*.ipynb")}

    problems = [f"it lacks the step {step}" for step in sorted(steps - named_steps)]
    problems += [f"it names {step}, which is not a step" for step in sorted(named_steps - steps)]
    problems += [f"it lacks the notebook {book}" for book in sorted(notebooks - named_notebooks)]
    problems += [
        f"it names {book}, which is not in notebooks/"
        for book in sorted(named_notebooks - notebooks)
    ]
    assert not problems, 'README.md, "The steps" table: ' + "; ".join(problems)


def headings(step):
    return re.findall(r"^#{2,4} (.+?)\s*$", readme(step), re.MULTILINE)


def step_tests(step):
    """Behaviour for each test function of the step, as `check` names them."""
    for module in sorted((step.path / "tests").glob("test_*.py")):
        for function in re.findall(r"^\s*(?:async\s+)?def (test_\w+)\(", module.read_text(), re.M):
            yield Behaviour(f"tests/{module.name}::{function}")


def test_check_sends_every_failure_to_a_real_readme_section():
    """`check` points each failed test at a heading of the step that first has the test."""
    missing = set()
    for step in STEPS:
        for behaviour in step_tests(step):
            teaching = step_that_teaches(behaviour, step)
            wanted = README_SECTIONS.get(behaviour.module, DEFAULT_SECTION)
            candidates = (wanted,) if isinstance(wanted, str) else wanted
            if not set(candidates) & set(headings(teaching)):
                missing.add(f"{teaching}/README.md lacks {wanted!r} (for {behaviour.module})")

    assert not missing, "tutorial/check/command.py README_SECTIONS: " + "; ".join(sorted(missing))


def test_check_names_only_test_modules_that_exist():
    modules = {path.stem for step in STEPS for path in (step.path / "tests").glob("test_*.py")}

    assert set(README_SECTIONS) <= modules, set(README_SECTIONS) - modules
