"""Build the browser app into the Python package, once per change of its sources.

    python web/build.py            # build if the sources changed since the last build
    python web/build.py --force    # build anyway

Used by setup.py's build hook (so `pip install -e .` and building a wheel build the app),
by `.ci/run`, and by the browser tests. It runs `npm ci` (only when package-lock.json
changed since the last install) and `npm run build`, which writes src/legato/web_static/,
then records a hash of the sources there: a second call with nothing changed costs a hash.
Standard library only: it runs before the package's dependencies are installed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent
OUTPUT = WEB.parent / "src" / "legato" / "web_static"
STAMP = ".source-hash"
LOCK_STAMP = WEB / "node_modules" / ".legato-lock-hash"
SOURCES = ("package.json", "package-lock.json", "index.html", "vite.config.ts", "tsconfig.json", "src")


class BuildError(RuntimeError):
    """The app could not be built: Node or npm is missing, or a step failed."""


def source_hash() -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        path = WEB / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(WEB).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def is_current() -> bool:
    stamp = OUTPUT / STAMP
    return (OUTPUT / "index.html").is_file() and stamp.is_file() and stamp.read_text().strip() == source_hash()


def is_built() -> bool:
    return (OUTPUT / "index.html").is_file()


def ensure_built(*, force: bool = False, log: object = None) -> Path:
    """Build the app unless it is current; the folder it is in. Raises BuildError."""
    say = log if callable(log) else (lambda message: print(message, file=sys.stderr))
    if not force and is_current():
        return OUTPUT
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise BuildError(
            "building Legato's browser app needs Node.js 20+ and npm (apt-get install nodejs npm); "
            "without them `legato server` serves the API but shows no app at /"
        )
    lock = hashlib.sha256((WEB / "package-lock.json").read_bytes()).hexdigest()
    if not LOCK_STAMP.is_file() or LOCK_STAMP.read_text().strip() != lock:
        say("legato: installing the browser app's packages (npm ci)")
        _run([npm, "ci", "--no-audit", "--no-fund"])
        LOCK_STAMP.write_text(lock)
    say("legato: building the browser app (npm run build)")
    _run([npm, "run", "build"])
    (OUTPUT / STAMP).write_text(source_hash())
    return OUTPUT


def _run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=WEB, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"`{' '.join(command[1:])}` failed in web/:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


if __name__ == "__main__":
    try:
        print(ensure_built(force="--force" in sys.argv))
    except BuildError as exc:
        sys.exit(str(exc))
