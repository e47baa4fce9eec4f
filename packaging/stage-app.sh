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

rm -rf "$dir/src" "$dir/conf" "$app"
mkdir -p "$dir/src"
git -C "$repo" archive --format=tar "$commit" | tar -x -C "$dir/src"
(
  cd "$dir/src"
  # prepare builds the addon (node-gyp, headers from /usr/include/node) and dist/ (tsc)
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2
  npm prune --omit=dev --no-audit --no-fund --loglevel=error >&2
)

mkdir -p "$app/build/Release" "$app/dist"
cp -a "$dir/src/package.json" "$dir/src/bin" "$dir/src/node_modules" "$app/"
cp -a "$dir/src/dist/src" "$app/dist/src"
# source maps point at src/*.ts, which is not shipped
find "$app/dist" -name '*.map' -delete
# npm prune leaves the emptied scope directories of dev dependencies behind
find "$app/node_modules" -mindepth 1 -type d -empty -delete
# upstream tarballs carry repository files and a docs page that loads scripts from CDNs (lintian:
# package-contains-vcs-control-file, privacy-breach-generic); nothing requires them at run time
find "$app/node_modules" -type f \( -name '.git*' -o -name '.eslintrc*' -o -path '*/node_modules/pino/index.html' \) -delete
# and a few .js/LICENSE files marked executable without a #! line: only scripts keep the x bit
find "$app/node_modules" -type f -perm /111 ! -name '*.node' -print0 |
  while IFS= read -r -d '' f; do
    [ "$(head -c2 "$f")" = '#!' ] || chmod a-x "$f"
  done
install -m 0644 "$dir/src/build/Release/lvsd_native.node" "$app/build/Release/lvsd_native.node"
strip --strip-unneeded "$app/build/Release/lvsd_native.node"
chmod -R u+rwX,go+rX,go-w "$app"
chmod 0755 "$app/bin/lvsd.js" "$app/bin/lvsctl.js"
# the examples under /usr/share/doc/lvsd come from the same commit as the code that checks them
cp -a "$dir/src/conf" "$dir/conf"
rm -rf "$dir/src"
touch "$app/.complete"
echo "$app"
