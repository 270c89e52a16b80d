"""Execute the notebooks with nbclient, and compare what they print with what is stored."""

import nbformat
from nbclient import NotebookClient

TIMEOUT_SECONDS = 60


def execute(path, save=False):
    """Run every cell of a notebook in a fresh kernel; return the executed notebook."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    if save:
        nbformat.write(notebook, path)
    return notebook


def text_outputs(notebook):
    """Per code cell, the text a reader sees: each stream joined, then plain-text results.

    Streams are joined because the kernel may split one print into several chunks,
    and stdout and stderr are kept apart because their interleaving is not stable.
    """
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        seen = {"stdout": "", "stderr": "", "results": [], "errors": []}
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                seen[output.name] += output.text
            elif output.output_type in ("execute_result", "display_data"):
                seen["results"].append(output.get("data", {}).get("text/plain", ""))
            elif output.output_type == "error":
                seen["errors"].append(f"{output.ename}: {output.evalue}")
        cells.append(seen)
    return cells
