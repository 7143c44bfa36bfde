#!/usr/bin/env bash
# check.sh SOURCE WORK MPIEXEC [FLAVOR]: installs ranks from SOURCE into WORK/prefix, builds the
# user project beside this script against it with find_package(ranks), and runs its examples
# under mpirun -np 2, 3, 5 and without mpirun, and the task graph's and the between-processes
# ones attached to a started cluster. FLAVOR mpich: ranks is built with MPICH (RANKS_MPI=mpich), the user project finds it
# through the package, and the examples run under mpiexec -n 5 only (MPICH starts no engines
# for a running program: a pool larger than the job, a program on its own, a cluster).
set -euo pipefail
src=$1 work=$2 mpiexec=$3 flavor=${4:-openmpi}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mpi=()
[ "$flavor" = mpich ] && mpi=(-DRANKS_MPI=mpich)
cmake -S "$src" -B "$work/build" -DRANKS_BUILD_TESTS=OFF -DRANKS_BUILD_APPS=OFF "${mpi[@]}" \
  -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
cmake --install "$work/build" >/dev/null
cmake -S "$here" -B "$work/user" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/user" -j2 >/dev/null
if [ "$flavor" = mpich ]; then
  ldd "$work/user/design_examples" | grep libmpich >/dev/null || { echo "FAIL: not linked with MPICH"; exit 1; }
  ! ldd "$work/user/design_examples" | grep "libmpi\.so" >/dev/null || { echo "FAIL: Open MPI linked"; exit 1; }
  echo "== mpiexec -n 5"  # the examples ask for Pool(4)
  "$mpiexec" -n 5 "$work/user/design_examples"
  echo "package check passed"
  exit 0
fi
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
echo "== attached to a started cluster (between processes)"
RANKS_CLUSTER=package "$work/user/design_examples" between
"$ranks" cluster stop --profile package >/dev/null
echo "package check passed"
