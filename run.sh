#!/usr/bin/env bash
# ./run.sh demo | test
#   Installs what is missing (Debian packages), builds in ./build, then runs the labs (demo) or
#   the whole test suite (test).
set -euo pipefail
cd "$(dirname "$0")"
what=${1:-demo}

packages=(build-essential cmake openmpi-bin libopenmpi-dev libboost-mpi-dev
          libboost-serialization-dev libgtest-dev libcli11-dev nlohmann-json3-dev
          iproute2 slurm-wlm munge)   # the last three: the multi-host and Slurm tests
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# Open MPI refuses to run as root unless told; containers and CI often are root.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRANKS_BUILD_TESTS=ON -DRANKS_BUILD_APPS=ON >/dev/null
cmake --build build -j"$(nproc)"

case "$what" in
  demo)
    labs=(lab61_process lab62_pool_map lab63_map_async lab64_apply_async lab65_direct_view
          lab66_load_balanced)
    for lab in "${labs[@]}"; do
      echo "== mpirun -np 5 build/apps/$lab"
      mpirun -np 5 --oversubscribe "build/apps/$lab"
      echo "== build/apps/$lab   (no mpirun: engines are spawned)"
      "build/apps/$lab"
    done
    ;;
  test)
    ctest --test-dir build --output-on-failure -j2
    ;;
  *)
    echo "usage: ./run.sh demo | test" >&2
    exit 64
    ;;
esac
