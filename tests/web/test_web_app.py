"""The app's own checks, from the Python test run: Vitest unit tests, the type check, the
linter, and that the generated API types match the server's OpenAPI document."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from web_helpers import WEB, missing, web_build


@pytest.fixture(scope="module")
def npm() -> str:
    found = shutil.which("npm")
    if found is None:
        missing("npm is not installed (apt-get install nodejs npm)")
    assert found is not None
    web_build().ensure_built()  # installs node_modules from the lockfile when needed
    return found


def run(npm: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEGATO_PYTHON": sys.executable, "CI": "true", "NO_COLOR": "1"}
    command = [npm, "run", "--silent", *args]
    return subprocess.run(command, cwd=WEB, env=env, capture_output=True, text=True, check=False)


def test_vitest_unit_tests_pass(npm: str) -> None:
    result = run(npm, "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout


def test_typescript_type_checks(npm: str) -> None:
    result = run(npm, "typecheck")
    assert result.returncode == 0, result.stdout + result.stderr


def test_eslint_is_clean(npm: str) -> None:
    result = run(npm, "lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_api_types_are_current(npm: str) -> None:
    result = run(npm, "generate-api", "--", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
