"""bin/push as a module (it has no .py suffix: it is a command)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

PUSH = Path(__file__).resolve().parents[2] / "bin" / "push"


def load_push() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("draftroom_push", str(PUSH))
    spec = importlib.util.spec_from_loader("draftroom_push", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
