"""The lock files pin the whole dependency tree and agree with the top-level pins; fakeredis is not production's.

`make lock` writes the locks; this catches a pin added to requirements*.txt without running it, and a lock
edited by hand into something pip's hash-checking mode would refuse.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"requirements.txt": "requirements.lock", "requirements-demo.txt": "requirements-demo.lock",
          "requirements-dev.txt": "requirements-dev.lock"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;#\\]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def top_level_pins(path: Path) -> dict[str, str]:
    """name → version of every requirement in a requirements file, following `-r` includes."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pins.update(top_level_pins(path.parent / line[3:].strip()))
            continue
        match = _PIN.match(line)
        assert match, f"{path.name}: {line!r} is not pinned with =="
        pins[_name(match.group(1))] = match.group(3)
    return pins


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) of every package in a lock file."""
    packages: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            current = _name(match.group(1))
            packages[current] = (match.group(3), 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, hashes = packages[current]
            packages[current] = (version, hashes + 1)
        elif line.strip() and not line.startswith((" ", "#")):
            pytest.fail(f"{path.name}: unexpected line {line!r}")
    return packages


@pytest.mark.parametrize("source", LAYERS)
def test_every_top_level_pin_is_in_its_lock_at_the_same_version(source):
    lock = locked(ROOT / LAYERS[source])
    stale = {name: (version, lock.get(name, ("missing", 0))[0])
             for name, version in top_level_pins(ROOT / source).items() if lock.get(name, ("", 0))[0] != version}
    assert not stale, f"{LAYERS[source]} is stale (pinned → locked): {stale}; run `make lock`"


@pytest.mark.parametrize("lock_name", LAYERS.values())
def test_every_locked_package_carries_hashes(lock_name):
    bare = [name for name, (_, hashes) in locked(ROOT / lock_name).items() if hashes == 0]
    assert not bare, f"{lock_name}: no hashes for {bare}"


def test_each_layer_runs_the_versions_of_the_layer_below():
    production, demo, dev = (locked(ROOT / name) for name in LAYERS.values())
    for lower, upper, name in ((production, demo, "requirements-demo.lock"), (demo, dev, "requirements-dev.lock")):
        differ = {pkg: (v, upper.get(pkg, ("missing",))[0]) for pkg, (v, _) in lower.items()
                  if upper.get(pkg, ("missing",))[0] != v}
        assert not differ, f"{name} disagrees with the layer below: {differ}"


def test_production_installs_no_stand_ins():
    production = locked(ROOT / "requirements.lock")
    assert "fakeredis" not in production and "fakeredis" not in top_level_pins(ROOT / "requirements.txt")
    assert "fakeredis" in locked(ROOT / "requirements-demo.lock")  # `make demo` runs on embedded defaults


def test_the_installed_environment_matches_the_dev_lock():
    """What `make test` runs on is what the lock says (a package installed by hand would show here)."""
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--disable-pip-version-check"],
                            capture_output=True, text=True, check=True, timeout=60).stdout
    installed = {_name(m.group(1)): m.group(3) for m in map(_PIN.match, frozen.splitlines()) if m}
    lock = locked(ROOT / "requirements-dev.lock")
    wrong = {name: (version, installed.get(name)) for name, (version, _) in lock.items()
             if installed.get(name) != version}
    assert not wrong, f"the environment differs from requirements-dev.lock (locked → installed): {wrong}"
