"""tutorial/ is grouped by what each part serves, and the groups import only downwards."""

import ast
import re

import pytest

from tutorial.course.steps import REPO_ROOT

TOOLING = REPO_ROOT / "tutorial"
# Top to bottom, as the README's "Inside the tooling" lists them: each group may import
# itself and the groups after it. The top-level modules (the CLI, notebook) may import all.
GROUPS = ["check", "bench", "running", "in_step", "course", "preload"]


def modules(folder):
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def tutorial_imports(path):
    """The tutorial modules a file imports, as dotted names."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "tutorial":
                yield from (f"tutorial.{alias.name}" for alias in node.names)
            else:
                yield node.module


def group_of(dotted_name):
    parts = dotted_name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in GROUPS else None


@pytest.mark.parametrize("group", GROUPS)
def test_a_group_imports_only_the_groups_below_it(group):
    allowed = set(GROUPS[GROUPS.index(group) :])
    upward = [
        f"{path.relative_to(REPO_ROOT)} imports {name}"
        for path in modules(TOOLING / group)
        for name in tutorial_imports(path)
        if name.startswith("tutorial.") and group_of(name) not in allowed
    ]
    assert not upward, upward


def test_the_steps_never_import_the_tooling():
    importing = [
        str(path.relative_to(REPO_ROOT))
        for path in modules(REPO_ROOT / "steps")
        if any(name.split(".")[0] == "tutorial" for name in tutorial_imports(path))
    ]
    assert not importing


def test_each_group_says_what_it_holds_and_the_readme_maps_them_all():
    on_disk = {path.parent.name for path in TOOLING.glob("*/__init__.py")}
    assert on_disk == set(GROUPS)
    for group in GROUPS:
        assert ast.get_docstring(ast.parse((TOOLING / group / "__init__.py").read_text()))
    readme = (REPO_ROOT / "README.md").read_text()
    tree = readme[readme.index("## Inside the tooling") :].split("```")[1]
    assert set(re.findall(r"── (\w+)/", tree)) == on_disk


def test_the_top_level_keeps_only_the_entry_points_and_what_notebooks_import():
    top_level = {path.name for path in TOOLING.glob("*.py")}
    assert top_level == {"__init__.py", "__main__.py", "cli.py", "notebook.py"}
