#!/usr/bin/env bash
# check.sh SOURCE WORK MPIEXEC: installs ranks from SOURCE into WORK/prefix, builds the user
# project beside this script against it with find_package(ranks), and runs its examples under
# mpirun -np 2, 3, 5 and without mpirun, and the task graph's attached to a started cluster.
set -euo pipefail
src=$1 work=$2 mpiexec=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
cmake -S "$src" -B "$work/build" -DRANKS_BUILD_TESTS=OFF -DRANKS_BUILD_APPS=OFF \
  -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
cmake --install "$work/build" >/dev/null
cmake -S "$here" -B "$work/user" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/user" -j2 >/dev/null
for np in 2 3 5; do
  echo "== mpirun -np $np"
  "$mpiexec" -np "$np" --oversubscribe "$work/user/design_examples"
done
echo "== without mpirun"
"$work/user/design_examples"
# The task graph's examples on the engines of a started cluster, with the installed command.
echo "== attached to a started cluster (the task graph)"
ranks=$work/prefix/bin/ranks
RANKS_PROFILE_DIR=$(mktemp -d)
export RANKS_PROFILE_DIR
trap '"$ranks" cluster stop --profile package >/dev/null 2>&1 || true; rm -rf "$RANKS_PROFILE_DIR"' EXIT
"$ranks" cluster start -n 3 --profile package >/dev/null
RANKS_CLUSTER=package "$work/user/design_examples" task-graph
"$ranks" cluster stop --profile package >/dev/null
echo "package check passed"
