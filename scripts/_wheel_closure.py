"""Print the wheel files (or, with --names, the distribution names) a package needs from a dist dir.

Used by scripts/check-isolation: a package's crucible dependencies are resolved from the wheels
just built, following Requires-Dist recursively, so nothing comes from an index.
"""

from __future__ import annotations

import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement


def wheel_index(dist: Path) -> dict[str, Path]:
    index = {}
    for wheel in dist.glob("*.whl"):
        name = wheel.name.split("-")[0].replace("_", "-").lower()
        index[name] = wheel
    return index


def requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(meta_name).decode())
    names = []
    for req in meta.get_all("Requires-Dist") or []:
        parsed = Requirement(req)
        if parsed.marker is not None and not parsed.marker.evaluate({"extra": ""}):
            continue
        names.append(parsed.name.lower())
    return names


def closure(dist: Path, root: str) -> list[str]:
    index = wheel_index(dist)
    seen: list[str] = []
    stack = [root]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        if name not in index:
            raise SystemExit(f"no wheel for {name} in {dist}")
        seen.append(name)
        stack.extend(dep for dep in requirements(index[name]) if dep.startswith("crucible-"))
    return sorted(seen)


if __name__ == "__main__":
    dist_dir, package = Path(sys.argv[1]), sys.argv[2]
    names = closure(dist_dir, package)
    if "--names" in sys.argv:
        print(" ".join(names))
    else:
        index = wheel_index(dist_dir)
        print(" ".join(str(index[n]) for n in names))
