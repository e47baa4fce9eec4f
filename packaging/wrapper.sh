#!/bin/sh
# /usr/bin/@CMD@: runs /usr/lib/lvsd/bin/@CMD@.js with the system's node (not whichever node is first
# in PATH). The path is relative to this script so an unpacked package (dpkg-deb -x) runs as well.
here=$(dirname "$(readlink -f "$0")")
exec /usr/bin/node "$here/../lib/lvsd/bin/@CMD@.js" "$@"
