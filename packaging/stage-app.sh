#!/bin/bash
# Stages /usr/lib/lvsd's contents from a clean checkout of one commit into build/pkg/<commit>-<recipe>/app
# (and its conf/ examples beside it).
# Usage: packaging/stage-app.sh [COMMIT]   (default HEAD; prints the app directory)
#
# A clean `git archive` + `npm ci` rather than the work tree: several engineers share that tree, so
# its dist/ and node_modules may hold uncommitted or dev-only files. The result is cached per commit
# (the build takes ~50 s on two loaded cores); callers hold the per-commit lock (pkg_lock).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/common.sh
. "$here/common.sh"

commit=$(git -C "$repo" rev-parse "${1:-HEAD}^{commit}")
dir=$(stage_dir "$commit")
app="$dir/app"
if [ -f "$app/.complete" ]; then
  echo "$app"
  exit 0
fi

rm -rf "$dir/src" "$app"
mkdir -p "$dir/src"
git -C "$repo" archive --format=tar "$commit" | tar -x -C "$dir/src"
# reproducible builds: every date in the package is the commit's (man pages, file times, archives)
SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct "$commit")
export SOURCE_DATE_EPOCH
(
  cd "$dir/src"
  # prepare builds the addon (node-gyp, headers from /usr/include/node, hardening flags from
  # packaging/buildflags.sh) and dist/ (tsc)
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2
  npm prune --omit=dev --no-audit --no-fund --loglevel=error >&2
)
"$here/stage-tree.sh" "$dir/src" "$dir"
rm -rf "$dir/src"
touch "$app/.complete"
echo "$app"
