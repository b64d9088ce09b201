"""Run a lab notebook headless and collect what its check cells printed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from coursekit import notebooks as nb

CHECK_CALL = re.compile(r"""^\s*check\(\s*["']([0-9]+\.[0-9]+)["']""", re.MULTILINE)


@dataclass
class LabReport:
    lab: Path
    results: dict[str, bool] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def all_passed(self) -> bool:
        return self.error is None and bool(self.results) and all(self.results.values())

    def text(self) -> str:
        lines = [f"{self.lab.name}: {sum(self.results.values())} of {len(self.results)} passed"]
        for output in self.outputs.values():
            lines.append(output.rstrip())
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines)


def check_lab(path: Path, *, timeout: int = 120) -> LabReport:
    """Execute ``path`` in a fresh kernel (never writing it back) and read the checks."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    report = LabReport(path)
    try:
        notebook = nb.read(path)
    except Exception as exc:
        report.error = f"cannot read {path}: {exc}"
        return report
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    try:
        client.execute()
    except CellExecutionError as exc:  # pragma: no cover - allow_errors keeps going
        report.error = str(exc)[:500]
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        match = CHECK_CALL.search(cell.source)
        if not match:
            continue
        text = "".join(
            out.get("text", "")
            for out in cell.get("outputs", [])
            if out.get("output_type") == "stream"
        )
        exercise_id = match.group(1)
        report.outputs[exercise_id] = text
        report.results[exercise_id] = "✓ passed" in text
    return report
