#!/usr/bin/env bash
# check.sh CXX INCLUDE_DIR "MPI_INCLUDE_DIRS": every public header compiles on its own (with
# MPI's headers, which ranks's package hands its users), and the light ones (AsyncResult,
# Namespace, errors, metadata, run) compile no Boost header: a user who includes only those
# does not pay for Boost.Serialization's archives.
set -euo pipefail
cxx=$1 include=$2
mpi=()
IFS=';' read -ra dirs <<<"${3:-}"
for d in "${dirs[@]}"; do mpi+=("-I$d"); done
light=(async_result.hpp namespace.hpp error.hpp metadata.hpp run.hpp)
status=0
for header in "$include"/ranks/*.hpp; do
  name=$(basename "$header")
  if ! trace=$("$cxx" -std=c++20 -fsyntax-only -H -I"$include" "${mpi[@]}" -x c++ "$header" 2>&1); then
    printf '%s\n' "$trace" | grep -v '^\.' >&2
    echo "FAIL: <ranks/$name> does not compile on its own"
    status=1
    continue
  fi
  boost=$(grep -c '^\.* .*boost/' <<<"$trace" || true)
  total=$(grep -c '^\.' <<<"$trace" || true)
  echo "<ranks/$name>: $total headers, $boost of Boost"
  for l in "${light[@]}"; do
    if [ "$name" = "$l" ] && [ "$boost" -ne 0 ]; then
      echo "FAIL: <ranks/$name> pulls in Boost:"
      grep '^\.* .*boost/' <<<"$trace" | head -5
      status=1
    fi
  done
done
[ "$status" -eq 0 ] && echo "PASS"
exit "$status"
