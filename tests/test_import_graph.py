"""gan_core's modules import without a cycle, and each one imports on its own."""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from import_cycles import cycles, import_graph, module_names  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_gan_core_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_a_cycle_through_a_lazy_import_is_found(tmp_path):
    package = tmp_path / "gan_core"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "__init__.py").write_text("")
    (package / "data" / "catalogue.py").write_text("def load():\n    from gan_core.data import digits\n")
    (package / "data" / "digits.py").write_text("from gan_core.data.catalogue import load\n")
    (package / "data" / "types.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                               "    from gan_core.data import digits\n")
    assert cycles(import_graph(tmp_path)) == [["gan_core.data.catalogue", "gan_core.data.digits"]]


def test_each_module_imports_alone():
    """Each module in a clean gan_core namespace (third-party packages stay loaded: torch takes seconds)."""
    script = (
        "import importlib, sys, torch, numpy, PIL\n"
        f"for name in {sorted(module_names())!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'gan_core' or m.startswith('gan_core.')]:\n"
        "        del sys.modules[loaded]\n"
        "    if not name.endswith('__main__'):\n"
        "        importlib.import_module(name)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
