"""The house rules that a reader of ARCHITECTURE.md relies on, checked on the source."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("poller", "flows", "deployments")
#: the one product module that may import the simulator: the demo brings it up
DEMO = Path("deployments/demo.py")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_product_module_but_the_demo_imports_the_simulator() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.relative_to(ROOT) != DEMO
        and any(name.split(".")[0] == "odoo_sim" for name in imported_modules(path))
    ]
    assert offenders == []


def test_the_simulator_s_servers_are_an_extra_and_the_image_leaves_it_out() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    assert "uvicorn" not in core and "starlette" not in core
    assert {"uvicorn", "starlette"} <= {
        d.split(">")[0] for d in project["optional-dependencies"]["sim"]
    }
    copied = [
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("COPY")
    ]
    assert copied and not any("odoo_sim" in line for line in copied)


def top_packages(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path)}


def test_the_library_never_imports_the_prefect_glue_and_only_its_cli_the_deployments() -> None:
    """`poller/` holds the rules, `flows/` and `deployments/` build on it; the CLI is the
    one part of `poller/` that starts what `deployments/` serves."""
    offenders = []
    for path in sorted((ROOT / "poller").rglob("*.py")):
        packages = top_packages(path)
        cli = path.relative_to(ROOT).parts[:2] == ("poller", "cli")
        if "flows" in packages or ("deployments" in packages and not cli):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
