"""The build hook: building the package builds the browser app into src/legato/web_static.

Everything else about the package is in pyproject.toml. A wheel carries the built app, so
installing it needs no Node; building one (or `pip install -e .`) needs Node and npm. An
editable install without Node still installs, with a warning: the API works, `/` says the
app is not built. A wheel without the app is refused rather than shipped incomplete.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _web_build():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("legato_web_build", HERE / "web" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithApp(build_py):
    def run(self) -> None:
        web = _web_build() if (HERE / "web" / "build.py").is_file() else None
        if web is not None:
            try:
                web.ensure_built(log=self.announce_line)
            except web.BuildError as exc:
                if getattr(self, "editable_mode", False):
                    print(f"warning: {exc}")
                elif not web.is_built():
                    raise
                else:
                    print(f"warning: {exc}; packaging the app built before")
        super().run()

    def announce_line(self, message: str) -> None:
        print(message)


setup(cmdclass={"build_py": BuildWithApp})
