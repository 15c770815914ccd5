#!/usr/bin/env bash
# Fails when an include points up the library's layers (ARCHITECTURE.md):
#
#   runtime  <  kernels  <  dispatch  <  tune  <  api  <  tools
#
# A file may include headers of its own folder, of any lower layer and the
# public include/tconv.h; never of a higher layer. Run from anywhere; prints
# each upward include as FILE:LINE: FROM -> TO and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

layers=(runtime kernels dispatch tune api tools)
rank() {
    local i
    for i in "${!layers[@]}"; do
        [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }
    done
    echo -1
}

bad=0
checked=0
for dir in "${layers[@]}"; do
    from=$(rank "$dir")
    while IFS= read -r -d '' file; do
        checked=$((checked + 1))
        while IFS=: read -r line target; do
            to=$(rank "${target%%/*}")
            if [ "$to" -gt "$from" ]; then
                echo "$file:$line: $dir -> ${target%%/*} ($target)"
                bad=$((bad + 1))
            fi
        done < <(grep -n -o -E '^#include "[a-z_]+/[^"]+"' "$file" | sed -E 's/#include "([^"]+)"/\1/')
    done < <(find "$dir" -type f \( -name '*.c' -o -name '*.h' -o -name '*.inc' \) -print0)
done

if [ "$bad" -gt 0 ]; then
    echo "check-includes.sh: $bad include(s) point up the layers (ARCHITECTURE.md)" >&2
    exit 1
fi
echo "check-includes.sh: $checked files, no include points up (${layers[*]})"
