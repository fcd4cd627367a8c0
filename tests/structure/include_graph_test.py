#!/usr/bin/env python3
"""The include graph keeps to the architecture (issue 13): every quoted #include of a source
file under src/, kernels/, datasets/ and apps/ resolves to its own folder or to a folder its
layer builds on, as the table below says. Tests, benchmarks and fuzzers may look inside (they
are white-box) and are not checked.

A header named in quotes is found as the compiler would: next to the including file first,
then in the folders of the layers; a name found in two folders is an error, since which one
the compiler takes would depend on the order of include paths.

Usage: include_graph_test.py SOURCE_DIR   (exit 1 and name every offending include)
"""
import pathlib
import re
import sys

# Each layer and the layers it may include from (besides itself). Data flows downwards:
# nothing may include a layer that is not below it here.
LAYERS = {
    "include/sluice": [],
    "src/common": [],
    "src/core": ["include/sluice"],
    "src/cpu_fallback": ["src/core", "src/common", "include/sluice"],
    "kernels": ["src/core", "src/common", "include/sluice"],
    "kernels/host_executor": ["kernels", "src/cpu_fallback", "src/core", "src/common", "include/sluice"],
    "src/host": ["src/cpu_fallback", "kernels", "src/core", "src/common", "include/sluice"],
    "datasets": ["src/host", "src/core", "src/common", "include/sluice"],
    "src/master": ["datasets", "src/host", "src/core", "src/common", "include/sluice"],
    # The Slurm bridge reads Slurm and builds snapshots; the allocation reaches it as a callback.
    "src/slurm": ["src/common", "include/sluice"],
    # kernels/cuda_device.hpp is the plain C++ face of device detection (health, --version).
    "src/transport": ["src/host", "kernels", "src/core", "src/common", "include/sluice"],
    "apps": ["src/transport", "src/master", "datasets", "src/host", "kernels", "src/common", "include/sluice"],
}
SOURCES = (".cpp", ".hpp", ".cu", ".cuh", ".h")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(root, path):
    rel = path.relative_to(root).parent.as_posix()
    best = None
    for layer in LAYERS:
        if rel == layer or rel.startswith(layer + "/"):
            if best is None or len(layer) > len(best):
                best = layer
    return best


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    files = [p for layer in LAYERS for p in (root / layer).glob("*") if p.suffix in SOURCES]
    by_name = {}
    for p in files:
        by_name.setdefault(p.name, []).append(p)
    problems = []
    checked = 0
    for path in sorted(files):
        own = layer_of(root, path)
        allowed = {own, *LAYERS[own]}
        for name in INCLUDE.findall(path.read_text(errors="replace")):
            checked += 1
            where = path.relative_to(root).as_posix()
            if (path.parent / name).is_file():
                target = (path.parent / name).resolve()
            elif name.startswith("sluice/"):
                target = root / "include" / name
            else:
                found = by_name.get(pathlib.PurePath(name).name, [])
                if len(found) != 1:
                    problems.append(f'{where}: "{name}" is found in {len(found)} folders of ours')
                    continue
                target = found[0]
            to = layer_of(root, target)
            if to is None:
                problems.append(f'{where}: "{name}" is outside every layer')
            elif to not in allowed:
                problems.append(f'{where} ({own}) includes "{name}" from {to}, which it does not build on')
    if checked == 0:
        problems.append(f"no includes found under {root}: wrong source directory?")
    for p in problems:
        print(p)
    print(f"{checked} includes in {len(files)} files checked; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
