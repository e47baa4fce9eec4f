#!/bin/sh
# /usr/bin/@CMD@: runs /usr/lib/lvsd/bin/@CMD@.js with the system's node (not whichever node is first
# in PATH). The path is relative to this script so an unpacked package (dpkg-deb -x) runs as well.
# LVSD_NODE_ARGS: Node/V8 flags before the script (the unit reads it from /etc/lvsd/lvsd.env), e.g.
# the VRRP-only profile "--lite-mode --no-expose-wasm" (docs/packaging.md); split on spaces on purpose.
here=$(dirname "$(readlink -f "$0")")
# shellcheck disable=SC2086
exec /usr/bin/node ${LVSD_NODE_ARGS:-} "$here/../lib/lvsd/bin/@CMD@.js" "$@"
