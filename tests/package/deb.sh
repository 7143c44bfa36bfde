#!/usr/bin/env bash
# deb.sh BUILD WORK MPICXX MPIEXEC FLAVOR: makes the .deb of the build tree BUILD with cpack -G DEB
# (in WORK), checks its Depends and unpacks it into WORK/root, a fresh prefix; builds the
# program in deb/ against that prefix twice, with find_package(ranks) + ranks_add_executable and
# with MPICXX $(pkg-config --cflags --libs ranks), and runs each under MPIEXEC with 3 processes
# and on its own (which spawns its engines), checking the lines it prints; and runs the unpacked
# ranks command. FLAVOR mpich: Depends names MPICH's packages, and the programs run under
# mpiexec only (MPICH starts no engines for a running program).
set -euo pipefail
build=$1 work=$2 mpicxx=$3 mpiexec=$4 flavor=$5
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== cpack -G DEB"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack"; }
debs=("$work"/ranks_*_amd64.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then
  fail "no single ranks_VERSION_amd64.deb in $work"
fi
deb=${debs[0]}
version=$(dpkg-deb -f "$deb" Version)
[ "$(basename "$deb")" = "ranks_${version}_amd64.deb" ] || fail "$(basename "$deb") for $version"
depends=$(dpkg-deb -f "$deb" Depends)
echo "$(basename "$deb"): Depends: $depends"
# The packages named, without versions or alternatives' bars.
names=$(sed 's/[,|]/\n/g; s/([^)]*)//g; s/ //g' <<<"$depends")
case $flavor in
  mpich) needed=(libmpich-dev mpich 'libmpich[0-9]*') ;;
  *) needed=(libopenmpi-dev openmpi-bin 'libopenmpi[0-9]*') ;;
esac
# The MPI's and Boost.Serialization's headers, then what dpkg-shlibdeps found in the binaries
# (Boost.Serialization's library comes with its headers' package).
for p in "${needed[@]}" libboost-serialization-dev 'libssl[0-9]*' 'libstdc++6' libc6; do
  grep -qx "$p" <<<"$names" || fail "Depends names no $p"
done

root=$work/root prefix=$work/root/usr
dpkg-deb -x "$deb" "$root"
for f in bin/ranks include/ranks/ranks.hpp lib/cmake/ranks/ranksConfig.cmake \
         lib/cmake/ranks/RanksAddExecutable.cmake lib/pkgconfig/ranks.pc; do
  [ -e "$prefix/$f" ] || fail "the package has no usr/$f"
done
"$prefix/bin/ranks" --help >/dev/null || fail "ranks --help"

echo "== find_package(ranks), ranks_add_executable"
cmake -S "$here/deb" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  -DMPI_CXX_COMPILER="$mpicxx" >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake"; }
grep -qxF "ranks_DIR:PATH=$prefix/lib/cmake/ranks" "$work/cmake/CMakeCache.txt" ||
  fail "find_package(ranks) did not take the unpacked package"
cmake --build "$work/cmake" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build"; }

echo "== $mpicxx \$(pkg-config --cflags --libs ranks)"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
mkdir -p "$work/pc"
# The unpacked library is not where the loader looks: the program is told (installed from the
# .deb, it is in /usr/lib).
# shellcheck disable=SC2046  # pkg-config's flags are words
"$mpicxx" $(pkg-config --cflags --libs ranks) -Wl,-rpath,"$prefix/lib" -O2 \
  "$here/deb/squares.cpp" -o "$work/pc/squares"

expected="squares: 0 1 4 9 16
shouted: a! bb!
engines: 2, not the controller"
check() {  # check LABEL COMMAND...: runs it and compares what it prints
  local label=$1 out status=0
  shift
  echo "-- $label"
  out=$("$@") || status=$?
  [ "$status" -eq 0 ] || { echo "$out"; fail "$label exited $status"; }
  [ "$out" = "$expected" ] ||
    { printf 'got:\n%s\nexpected:\n%s\n' "$out" "$expected"; fail "$label"; }
}
for program in "$work/cmake/squares" "$work/pc/squares"; do
  libs=$(ldd "$program")
  grep -q "libranks.so.* => $prefix/lib/libranks.so" <<<"$libs" ||
    { echo "$libs"; fail "$program does not load the unpacked libranks"; }
  if [ "$flavor" = mpich ]; then
    ! grep -q 'libmpi\.so' <<<"$libs" || { echo "$libs"; fail "$program loads Open MPI"; }
    check "mpiexec -n 3 $program" "$mpiexec" -n 3 "$program"
  else
    check "mpirun -np 3 $program" "$mpiexec" -np 3 --oversubscribe "$program"
    check "$program (spawns its engines)" "$program"
  fi
done
echo "package deb check passed"
