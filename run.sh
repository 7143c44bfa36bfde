#!/usr/bin/env bash
# ./run.sh demo | test | test-mpich | sanitize | lint | format | docs | bench [run_all.sh options]
#        | bench-mpich [run_all.sh options] | package
#   Installs what is missing (Debian packages), builds in ./build, then runs the labs (demo) or
#   the whole test suite (test); test-mpich builds against MPICH instead of Open MPI (in
#   ./build-mpich, with no Open MPI package) and runs the suites that apply there; sanitize
#   builds the library and tests with AddressSanitizer and UndefinedBehaviorSanitizer in
#   ./build-sanitize and runs the MPI suites there; lint runs
#   clang-tidy on src/ and include/; format checks every C++ file against .clang-format; docs
#   builds the API reference with Doxygen (docs/Doxyfile) into build/docs/html and fails on any
#   warning (an undocumented public class or function, a bad command); bench
#   installs the Python peers and runs the whole benchmark comparison (apps/bench/run_all.sh);
#   bench-mpich runs ranks and raw MPI under MPICH and under Open MPI, side by side
#   (apps/bench/run_all.sh --mpich); package builds build/ranks_VERSION_amd64.deb (cpack -G DEB)
#   and prints its control fields.
set -euo pipefail
cd "$(dirname "$0")"
what=${1:-demo}

# What every build needs, then each MPI's packages: the MPICH build needs no Open MPI package.
common=(build-essential cmake libboost-serialization-dev libgtest-dev libcli11-dev
        nlohmann-json3-dev libssl-dev slurm-wlm munge  # Slurm: the batch-job tests
        dpkg-dev file pkgconf  # the .deb (cpack, dpkg-shlibdeps) and its test (pkg-config)
        gnuplot-nox python3 chromium)  # a run's timeline drawn, checked; the dashboard in a browser
openmpi=(openmpi-bin libopenmpi-dev)
mpich=(mpich libmpich-dev)
packages=("${common[@]}" "${openmpi[@]}" clang-tidy clang-format iproute2)  # lint, format; hosts
# Installs those of the given Debian packages that are missing.
install_missing() {
  local missing=() p sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}
case "$what" in
  test-mpich) install_missing "${common[@]}" "${mpich[@]}" ;;
  bench-mpich) install_missing "${packages[@]}" "${mpich[@]}" ;;
  docs) install_missing doxygen ;;
  *) install_missing "${packages[@]}" ;;
esac

# Open MPI refuses to run as root unless told; containers and CI often are root.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

if [ "$what" = lint ]; then
  # clang-tidy (.clang-tidy) over the library and, through the labs, every public header.
  cmake -S . -B build-lint -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DRANKS_BUILD_TESTS=OFF \
    -DRANKS_BUILD_APPS=ON >/dev/null
  # GCC's flags that clang does not know (ranks_add_executable's -fno-gnu-unique) are dropped.
  sed -i 's/ -fno-gnu-unique//g' build-lint/compile_commands.json
  files=(src/*.cpp src/*/*.cpp apps/lab*.cpp apps/ranks/*.cpp)
  printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p build-lint --quiet
  echo "clang-tidy: ${#files[@]} files clean"
  exit 0
fi

if [ "$what" = format ]; then
  # Every C++ file git knows, as .clang-format says; prints what differs.
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
  clang-format --dry-run -Werror "${files[@]}"
  echo "clang-format: ${#files[@]} files formatted"
  exit 0
fi

if [ "$what" = docs ]; then
  # The public headers' /// comments (docs/Doxyfile), from the repository root. Doxygen exits
  # non-zero on a warning (WARN_AS_ERROR = FAIL_ON_WARNINGS) and, QUIET, prints nothing else:
  # any output fails too.
  rm -rf build/docs
  mkdir -p build/docs
  status=0
  doxygen docs/Doxyfile >build/docs/doxygen.log 2>&1 || status=$?
  if [ "$status" -ne 0 ] || [ -s build/docs/doxygen.log ]; then
    cat build/docs/doxygen.log >&2
    echo "doxygen: the API reference has warnings (above); fix each (a public class or" \
      "function of include/ranks/ with no /// comment, a bad command)" >&2
    exit 1
  fi
  echo "API reference: build/docs/html/index.html"
  exit 0
fi

if [ "$what" = sanitize ]; then
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRANKS_SANITIZE=ON \
    -DRANKS_BUILD_TESTS=ON -DRANKS_BUILD_APPS=OFF >/dev/null
  cmake --build build-sanitize -j"$(nproc)"
  # LeakSanitizer's tracer crashes at exit on some engine processes ("Tracer caught signal 11"
  # in views_test at 3 ranks, every time), so leak checking is opt-in: RANKS_LSAN=1.
  export ASAN_OPTIONS=detect_leaks=${RANKS_LSAN:-0}:abort_on_error=0:exitcode=23:fast_unwind_on_malloc=0
  # Open MPI unloads its components at MPI_Finalize; kept loaded, their frames can be named
  # (and suppressed) in leak reports.
  export OMPI_MCA_mca_base_component_disable_dlclose=1
  export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizer.supp:print_suppressions=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # The MPI suites and whole programs; not the 2 GiB payloads (ASan's shadow memory doubles
  # them), the soak (it measures memory, which ASan's quarantine holds on purpose), the package
  # build or the compile-failure check, which test no code paths.
  exec ctest --test-dir build-sanitize --output-on-failure -j2 --repeat after-timeout:2 \
    -E 'payload|package|compile|multihost|slurm|soak'
fi

if [ "$what" = test-mpich ]; then
  # Debian names MPICH's tools mpicxx.mpich and mpiexec.mpich (RANKS_MPI=mpich finds them, or
  # plain mpicxx and mpiexec where MPICH is the only MPI); the build must link libmpich only.
  cmake -S . -B build-mpich -DCMAKE_BUILD_TYPE=Release -DRANKS_MPI=mpich -DRANKS_BUILD_TESTS=ON \
    -DRANKS_BUILD_APPS=ON >/dev/null
  cmake --build build-mpich -j"$(nproc)"
  if ldd build-mpich/libranks.so | grep 'libmpi\.so' >/dev/null; then
    echo "build-mpich links Open MPI's libmpi:" >&2
    ldd build-mpich/libranks.so >&2
    exit 1
  fi
  exec ctest --test-dir build-mpich --output-on-failure -j2
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRANKS_BUILD_TESTS=ON -DRANKS_BUILD_APPS=ON >/dev/null
cmake --build build -j"$(nproc)"

case "$what" in
  demo)
    labs=(lab61_process lab62_pool_map lab63_map_async lab64_apply_async lab65_direct_view
          lab66_load_balanced lab67_dependencies lab68_reduce lab71_queue lab72_pipe lab73_manager
          lab74_value_array lab75_lock)
    for lab in "${labs[@]}"; do
      echo "== mpirun -np 5 build/apps/$lab"
      mpirun -np 5 --oversubscribe "build/apps/$lab"
      echo "== build/apps/$lab   (no mpirun: engines are spawned)"
      RANKS_CLUSTER=none "build/apps/$lab"
    done
    # IPython's way: engines started once (ipcluster start), programs that attach to them.
    ranks=build/apps/ranks/ranks
    echo "== $ranks cluster start -n 4 --profile demo"
    "$ranks" cluster start -n 4 --profile demo
    trap '"$ranks" cluster stop --profile demo >/dev/null 2>&1 || true' EXIT
    for lab in lab65_direct_view lab66_load_balanced lab67_dependencies lab68_reduce lab71_queue \
               lab72_pipe lab73_manager lab74_value_array lab75_lock; do
      echo "== RANKS_CLUSTER=demo build/apps/$lab   (attached to the started engines)"
      RANKS_CLUSTER=demo "build/apps/$lab"
    done
    echo "== $ranks cluster status --profile demo"
    "$ranks" cluster status --profile demo
    echo "== $ranks cluster stop --profile demo"
    "$ranks" cluster stop --profile demo
    trap - EXIT
    ;;
  test)
    # A test that times out runs once more: Open MPI 4.1 with PMIx 4 (Debian 12's pair) hangs in
    # MPI_Comm_spawn about once in a hundred spawns after a death (the parent in PMIx_Lookup,
    # the child in PMIx_Init; openpmix/openpmix#2735), and the survive tests spawn replacements.
    # A failure is not run again, and a test that hangs every time still fails.
    ctest --test-dir build --output-on-failure -j2 --repeat after-timeout:2
    ;;
  bench)
    # The Python tools ranks is compared with, and gnuplot for the plots.
    install_missing python3-mpi4py python3-ipyparallel python3-distributed python3-numpy gnuplot-nox
    shift
    exec apps/bench/run_all.sh "$@"
    ;;
  bench-mpich)
    # ranks and hand-written MPI under MPICH, then the same under Open MPI, in one run.
    cmake -S . -B build-mpich -DCMAKE_BUILD_TYPE=Release -DRANKS_MPI=mpich -DRANKS_BUILD_TESTS=ON \
      -DRANKS_BUILD_APPS=ON >/dev/null
    cmake --build build-mpich -j"$(nproc)" --target ranks_bench
    shift
    exec apps/bench/run_all.sh --mpich "$@"
    ;;
  package)
    # Everything installed, as one Debian package (cmake/RanksPackaging.cmake).
    out=$(cd build && cpack -G DEB) || { echo "$out" >&2; exit 1; }
    deb=$(sed -n 's/^CPack: - package: \(.*\.deb\) generated\.$/\1/p' <<<"$out")
    echo "== $deb"
    dpkg-deb --info "$deb"
    ;;
  *)
    echo "usage: ./run.sh demo | test | test-mpich | sanitize | lint | format | docs | bench |" \
      "bench-mpich | package" >&2
    exit 64
    ;;
esac
