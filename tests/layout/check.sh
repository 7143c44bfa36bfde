#!/usr/bin/env bash
# check.sh SRC: the library's folders are its layers, and a file includes only headers of its
# own folder or of a lower layer (docs/LAYOUT.md). Prints each include that goes up or sideways.
set -euo pipefail
src=$1
# Each folder's layer; folders of one layer know nothing of each other.
declare -A layer=([base]=0 [transport]=1 [registry]=1 [door]=2 [engine]=2 [objects]=2 [dashboard]=2 [controller]=3
                  [cluster]=4 [.]=5)
bad=0
while IFS= read -r file; do
  folder=$(dirname "${file#"$src"/}")
  [ -n "${layer[$folder]:-}" ] || { echo "$file: folder '$folder' has no layer"; bad=1; continue; }
  while IFS= read -r inc; do
    to=${inc%%/*}
    [ "$to" = ranks ] && continue          # the public headers
    if [ "$inc" = "$to" ] || [ -z "${layer[$to]:-}" ]; then
      echo "$file: includes \"$inc\", which names no folder of src/"; bad=1
    elif [ "$to" != "$folder" ] && [ "${layer[$to]}" -ge "${layer[$folder]}" ]; then
      echo "$file: $folder (layer ${layer[$folder]}) includes \"$inc\" (layer ${layer[$to]})"
      bad=1
    fi
  done < <(sed -n 's/^#include "\(.*\)"$/\1/p' "$file")
done < <(find "$src" -name '*.[ch]pp' | sort)
[ "$bad" -eq 0 ] && echo "every include of $src goes down its layers"
exit "$bad"
