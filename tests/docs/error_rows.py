#!/usr/bin/env python3
"""error_rows.py ERRORS_MD TESTS_DIR BUILD_DIR: every row of docs/ERRORS.md names the tests that
show it, and each named test exists: a ctest test (`fault.engine_killed`, a pattern
`survive.map*`, a suite `views_test`, in the cluster section a case `refills` for
`cluster.refills`), a GoogleTest case (`a_missing_engine_id_names_the_valid_ones`), or a test
of another build (the MPICH build's, named in tests/CMakeLists.txt). A row may instead say
"(not provoked: why)"; those are listed."""
import re
import subprocess
import sys
from pathlib import Path

errors_md, tests_dir, build_dir = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
listing = subprocess.run(["ctest", "-N"], cwd=build_dir, capture_output=True, text=True).stdout
ctests = re.findall(r"Test\s+#\d+: (\S+)", listing)
if not ctests:
    sys.exit(f"FAIL: ctest -N in {build_dir} lists no tests")
cmake_text = (tests_dir / "CMakeLists.txt").read_text()
sources = "\n".join(p.read_text() for p in tests_dir.glob("*.cpp"))
gtest_names = set(re.findall(r"TEST(?:_F)?\(\s*\w+,\s*(\w+)\)", sources))


def exists(token, in_cluster):
    if "*" in token:
        pattern = re.compile(re.escape(token).replace(r"\*", ".*") + "$")
        return any(pattern.match(t) for t in ctests)
    if token in ctests or any(t.startswith(token + ".") for t in ctests):
        return True
    if in_cluster and f"cluster.{token}" in ctests:
        return True
    if token in gtest_names:
        return True
    return re.search(r"\b" + re.escape(token) + r"\b", cmake_text) is not None


failures, unprovoked, rows = [], [], 0
in_cluster = False
for number, line in enumerate(errors_md.read_text().splitlines(), 1):
    if line.startswith("## "):
        in_cluster = "cluster" in line
    if not line.startswith("|") or line.startswith("|---") or line.startswith("| What "):
        continue
    rows += 1
    cell = line.rstrip().rstrip("|").rsplit("|", 1)[1].strip()
    if cell.startswith("(not provoked"):
        unprovoked.append(f"line {number}: {cell}")
        continue
    tokens = re.findall(r"`([^`]+)`", cell)
    if not tokens:
        failures.append(f"line {number}: names no test")
    for token in tokens:
        if not exists(token, in_cluster):
            failures.append(f"line {number}: no test '{token}'")
for u in unprovoked:
    print(f"not provoked by a test: {u}")
if failures:
    print("\n".join(f"FAIL: {f}" for f in failures))
    sys.exit(1)
print(f"PASS: {rows} rows, each names tests that exist ({len(unprovoked)} not provoked)")
