"""Exported BPMN opens in bpmn.io: read with bpmn-moddle, the reader bpmn.io and Camunda
Modeler use (with the Zeebe descriptors the modeler loads), every export parses without a
warning and carries its diagram.

Needs Node and `npm ci --prefix tests/js` (`.ci/run` does it); elsewhere the test skips with
the reason, and fails under LEGATO_REQUIRE_SERVICES=1 like the other external tools.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from legato.formats.bpmn import dump_bpmn, load_bpmn
from legato.formats.yaml_format import load_yaml
from support import skip_or_fail

HERE = Path(__file__).parent
CHECKER = HERE.parents[1] / "js" / "check_bpmn.mjs"
SOURCES = sorted([*HERE.glob("conformance/*.bpmn"), *HERE.glob("files/*.bpmn")])


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        skip_or_fail("Node.js is not installed: bpmn.io's reader cannot run")
    if not (CHECKER.parent / "node_modules" / "bpmn-moddle").is_dir():
        skip_or_fail("bpmn-moddle is not installed: run `npm ci --prefix tests/js`")
    return str(found)


def test_every_export_reads_cleanly_in_bpmn_io(node: str, tmp_path: Path) -> None:
    exports = {}
    for source in SOURCES:
        exports[source.name] = dump_bpmn(load_bpmn(source.read_text(encoding="utf-8")).definition)
    never_drawn = load_yaml(resources.files("legato.examples").joinpath("order_to_cash.yaml").read_text())
    exports["order_to_cash.bpmn"] = dump_bpmn(never_drawn)  # laid out automatically
    paths = []
    for name, xml in exports.items():
        path = tmp_path / name
        path.write_text(xml, encoding="utf-8")
        paths.append(str(path))
    result = subprocess.run([node, str(CHECKER), *paths], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report) == len(exports) >= 20
    problems = {Path(p).name: r for p, r in report.items() if r.get("error") or r.get("warnings")}
    assert problems == {}
    assert all(r["processes"] == 1 and r["diagrams"] == 1 for r in report.values())
