#!/bin/bash
# Lays out what the packages install from a BUILT source tree (dist/src compiled, the addon in
# build/Release, node_modules holding only the production dependencies): OUT/app (/usr/lib/lvsd),
# OUT/man (generated man pages), OUT/doc (/usr/share/doc/lvsd) and OUT/conf (the examples).
# Shared by stage-app.sh (the .deb) and the rpm spec's %install, so both ship the same files.
# Usage: packaging/stage-tree.sh SRC_DIR OUT_DIR      env: SOURCE_DATE_EPOCH (file times, man dates)
set -euo pipefail
src=$(cd "$1" && pwd)
out=$2
app="$out/app"
rm -rf "$app" "$out/man" "$out/doc" "$out/conf"
mkdir -p "$app/build/Release" "$app/dist" "$out/doc"

# man pages from the same compiled sources as --help and docs/config.md: nothing written twice
node "$src/scripts/man-pages.mjs" "$out/man" >&2

cp -a "$src/package.json" "$src/bin" "$src/node_modules" "$app/"
# only dist/src ships: the lab (VM and demo runners, dist/lab) and test doubles (dist/test) live
# outside src/; source maps point at src/*.ts, which is not shipped
cp -a "$src/dist/src" "$app/dist/src"
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
install -m 0644 "$src/build/Release/lvsd_native.node" "$app/build/Release/lvsd_native.node"
strip --strip-unneeded --remove-section=.comment "$app/build/Release/lvsd_native.node"
# the process a VRRP master's routine adverts leave from, spawned by the addon from beside it
install -m 0755 "$src/build/Release/lvsd-pacer" "$app/build/Release/lvsd-pacer"
strip --strip-unneeded --remove-section=.comment "$app/build/Release/lvsd-pacer"
chmod -R u+rwX,go+rX,go-w "$app"
chmod 0755 "$app/bin/lvsd.js" "$app/bin/lvsctl.js"
# the examples under /usr/share/doc/lvsd come from the same tree as the code that checks them
cp -a "$src/conf" "$out/conf"
# /usr/share/doc/lvsd: the README, the config reference and the first-hour guide of the same tree
cp "$src/README.md" "$src/docs/config.md" "$src/docs/first-hour.md" "$out/doc/"
# one time for every file: the commit's (dpkg-deb and rpmbuild clamp to SOURCE_DATE_EPOCH as well)
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  find "$app" "$out/conf" "$out/man" "$out/doc" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
fi
