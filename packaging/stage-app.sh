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

rm -rf "$dir/src" "$dir/conf" "$dir/man" "$dir/doc" "$app"
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
  # man pages from the same compiled sources as --help and docs/config.md (needs dist/, before prune)
  node scripts/man-pages.mjs "$dir/man" >&2
  npm prune --omit=dev --no-audit --no-fund --loglevel=error >&2
)

mkdir -p "$app/build/Release" "$app/dist"
cp -a "$dir/src/package.json" "$dir/src/bin" "$dir/src/node_modules" "$app/"
cp -a "$dir/src/dist/src" "$app/dist/src"
# only dist/src ships: the lab (VM and demo runners, dist/lab) and test doubles (dist/test) live
# outside src/; source maps point at src/*.ts, which is not shipped
find "$app/dist" -name '*.map' -delete
# what dependencies ship but nothing loads at run time: tests, fixtures, benchmarks, examples, docs,
# CI and editor files, TypeScript sources and declarations, source maps (license files stay)
# (only directories at a package's top: yaml's dist/doc/ is code)
find "$app/node_modules" -regextype posix-extended -type d -regex \
  '.*/node_modules/((@[^/]+/)?[^/]+/(test|tests|__tests__|fixtures?|benchmarks?|bench|examples?|docs|coverage|\..+)|\..+)' \
  -prune -exec rm -rf {} +
find "$app/node_modules" -type f \( -name '.*' -o -name '*.md' ! -iname 'license*' -o -name '*.markdown' \
  -o -name '*.ts' -o -name '*.map' -o -name '*.tsbuildinfo' -o -name 'tsconfig*.json' -o -name '*.yml' \
  -o -name '*.yaml' -o -name 'Makefile' -o -name '*.html' -o -name 'CHANGELOG*' -o -name 'History*' \
  -o -name '*.test.js' -o -name '*.spec.js' -o -name '*.png' -o -name '*.svg' -o -name '*.gif' \) -delete
# npm prune leaves the emptied scope directories of dev dependencies behind
find "$app/node_modules" -mindepth 1 -type d -empty -delete
# and a few .js/LICENSE files marked executable without a #! line: only scripts keep the x bit
find "$app/node_modules" -type f -perm /111 ! -name '*.node' -print0 |
  while IFS= read -r -d '' f; do
    [ "$(head -c2 "$f")" = '#!' ] || chmod a-x "$f"
  done
# scripts run by the system's node, not whichever `env` finds first (rpmlint: env-script-interpreter)
grep -rlZ --include='*.js' --include='*.mjs' --include='*.cjs' '^#!/usr/bin/env node' "$app/bin" "$app/node_modules" |
  xargs -0 -r sed -i '1s|^#!/usr/bin/env node|#!/usr/bin/node|'
install -m 0644 "$dir/src/build/Release/lvsd_native.node" "$app/build/Release/lvsd_native.node"
strip --strip-unneeded --remove-section=.comment "$app/build/Release/lvsd_native.node"
chmod -R u+rwX,go+rX,go-w "$app"
chmod 0755 "$app/bin/lvsd.js" "$app/bin/lvsctl.js"
# the examples under /usr/share/doc/lvsd come from the same commit as the code that checks them
cp -a "$dir/src/conf" "$dir/conf"
# /usr/share/doc/lvsd: the README, the config reference and the first-hour guide of the same commit
mkdir -p "$dir/doc"
cp "$dir/src/README.md" "$dir/src/docs/config.md" "$dir/src/docs/first-hour.md" "$dir/doc/"
rm -rf "$dir/src"
# one time for every file: the commit's (dpkg-deb and rpmbuild clamp to SOURCE_DATE_EPOCH as well)
find "$dir/app" "$dir/conf" "$dir/man" "$dir/doc" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
touch "$app/.complete"
echo "$app"
