"""Fixtures of the workshop-tool tests: a private copy of the committed labs (01, 02), so
that notebooks other people are writing right now never change what these tests see."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from coursekit import notebooks as nb

COMMITTED = ("01_architecture", "02_configuration")


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp/solutions`` and ``tmp/exercises`` with the committed phases 01 and 02 only;
    ``coursekit.notebooks`` points at them for the test."""
    for tree in ("solutions", "exercises"):
        folder = tmp_path / tree
        folder.mkdir()
        for stem in COMMITTED:
            for suffix in (".ipynb", ".py"):
                shutil.copy2(getattr(nb, tree.upper()) / f"{stem}{suffix}", folder)
    monkeypatch.setattr(nb, "SOLUTIONS", tmp_path / "solutions")
    monkeypatch.setattr(nb, "EXERCISES", tmp_path / "exercises")
    return tmp_path


@pytest.fixture
def make_notebook() -> Callable[..., Path]:
    """Write a small notebook of the given code cells (the course kernel)."""

    def write(path: Path, *cells: str) -> Path:
        notebook = nbformat.v4.new_notebook(
            metadata={
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
            cells=[nbformat.v4.new_code_cell(source) for source in cells],
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)
        return path

    return write
