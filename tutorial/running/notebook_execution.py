"""Execute the notebooks with nbclient, and compare what they print with what is stored."""

import os
from uuid import uuid4

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from jupyter_core.utils import ensure_dir_exists
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets import default

from tutorial.course.steps import NOTEBOOKS_DIR, get_step

TIMEOUT_SECONDS = 60


class NoNotebook(LookupError):
    """Raised for a step that has no notebook."""


class NotebookFailed(Exception):
    """Raised when a notebook does not run to its end; the message names the cell."""


def notebook_paths(steps=()):
    """The notebooks of the given steps (numbers or names), or all of them."""
    every = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    if not steps:
        return every
    paths = []
    for step in map(get_step, steps):
        found = [path for path in every if path.name.startswith(f"{step.number:02d}_")]
        if not found:
            raise NoNotebook(f"{step} has no notebook in {NOTEBOOKS_DIR.name}/")
        paths += found
    return paths


class ThisInterpreterKernel(AsyncKernelManager):
    """Starts this interpreter's own ipykernel.

    No kernel directory is searched, so a ``python3`` kernel installed for the user or
    the system (another interpreter, without Django) can never stand in for it.
    """

    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self):
        return KernelSpecManager(kernel_dirs=[])

    @default("transport")
    def _transport_default(self):
        # Local sockets where the system has them: the kernel is never reachable over
        # TCP, and it has no reason to warn about unencrypted traffic.
        return "tcp" if os.name == "nt" else "ipc"

    @default("ip")
    def _ip_default(self):
        # The kernel runs in the notebook's folder: a relative socket name would point
        # the kernel and this process at two different files.
        if self.transport == "ipc":
            runtime_dir = jupyter_runtime_dir()
            ensure_dir_exists(runtime_dir, mode=0o700)
            return os.path.join(runtime_dir, f"kernel-{uuid4()}-ipc")
        return super()._ip_default()


def execute(path, save=False):
    """Run every cell of a notebook in a fresh kernel; return the executed notebook."""
    notebook = nbformat.read(path, as_version=4)
    # Cell timestamps would change the saved file on every run: store none.
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    client = NotebookClient(
        notebook,
        kernel_manager_class=ThisInterpreterKernel,
        kernel_name="python3",
        record_timing=False,
        timeout=TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        cell = failed_cell(notebook)
        raise NotebookFailed(
            f"{path.name}, cell [{cell.execution_count}]: {error.ename}: {error.evalue}"
        ) from None
    except (CellTimeoutError, DeadKernelError) as error:
        raise NotebookFailed(f"{path.name}: {error}") from None
    if save:
        notebook.metadata.setdefault("tutorial", {})["django"] = django_version()
        nbformat.write(notebook, path)
    return notebook


def django_version():
    """The Django version outputs are stored from, as "5.2"."""
    import django

    return ".".join(map(str, django.VERSION[:2]))


def outputs_comparable(notebook):
    """Whether the stored outputs should reproduce under this interpreter's Django.

    A notebook whose metadata says its outputs differ between Django versions (the
    tasks framework's module names, say) is compared only on the version it was saved with.
    """
    settings = notebook.metadata.get("tutorial", {})
    if not settings.get("outputs_differ_between_django_versions"):
        return True
    return settings.get("django") == django_version()


def failed_cell(notebook):
    return next(
        cell
        for cell in notebook.cells
        if any(output.output_type == "error" for output in cell.get("outputs", []))
    )


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
