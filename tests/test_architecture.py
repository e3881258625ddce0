"""The shape of the code, checked like behaviour: modules small enough to hold in one's
head, and the app layering of README's architecture section."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 600
# Benchmarks are scripts, and migrations are generated.
NOT_COUNTED = {"bench", "migrations", ".venv", "node_modules", "staticfiles"}


def test_no_python_module_is_over_600_lines():
    too_big = {
        str(path.relative_to(ROOT)): lines
        for path in ROOT.rglob("*.py")
        if not NOT_COUNTED & set(path.relative_to(ROOT).parts)
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_big == {}


def test_the_import_contracts_hold():
    # The contracts live in pyproject.toml ([tool.importlinter]); CI runs them in `make lint`
    # too, and this makes `make test` fail on an import that runs back up a layer.
    lint_imports = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
