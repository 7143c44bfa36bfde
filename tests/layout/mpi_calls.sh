#!/usr/bin/env bash
# mpi_calls.sh ROOT: MPI is called only where docs/LAYOUT.md says (src/transport/, and the
# public engine_comm.hpp, which hands users an MPI communicator), and every call's result is
# checked: inside transport::check or check_cleanup, or kept as `rc` to be checked after a
# cleanup. Routines that report nothing to check (MPI_Abort, which does not return; the error
# description inside check itself) are listed below. Prints each call that breaks either rule.
set -euo pipefail
root=$1
call='\bMPI_[A-Z][a-z]+(_[a-z_]+)?\('
bad=0
# Where MPI may be called.
while IFS= read -r hit; do
  echo "$hit: an MPI call outside src/transport/ (put it behind transport)"; bad=1
done < <(grep -rnoE "$call" "$root/src" "$root/include" --include='*.[ch]pp' |
         grep -v "^$root/src/transport/" | grep -v "^$root/include/ranks/engine_comm.hpp:")
# Every call there checked. Statements are joined across lines first, so that a call whose
# check( opens on the line before is seen whole.
unchecked=(MPI_Abort MPI_Error_string MPI_Error_class)
for f in "$root"/src/transport/*.cpp; do
  while IFS= read -r use; do
    routine=${use%(}
    [[ " ${unchecked[*]} " == *" $routine "* ]] && continue
    echo "$f: $routine( is not checked (transport::check, check_cleanup, or rc = ... checked)"
    bad=1
  done < <(perl -0777 -pe 's/\(\s*\n\s*/(/g; s/\?\s*\n\s*/? /g; s/:\s*\n\s*/: /g' "$f" |
           grep -oP '(?<!check\()(?<!check_cleanup\()(?<!rc = )(?<!\? )(?<!: )\bMPI_[A-Z][a-z]+(_[a-z_]+)?\(' || true)
done
[ "$bad" -eq 0 ] && echo "MPI is called in src/transport/ alone, every call checked"
exit "$bad"
