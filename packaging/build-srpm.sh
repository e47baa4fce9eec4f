#!/bin/bash
# `npm run package:srpm`: the sources a distribution builds lvsd from with plain `rpmbuild -ba`, and
# the source rpm of them, for COMMIT (default HEAD). Prints the .src.rpm's path; beside it in
# build/pkg/<commit>-<recipe>/srpm/:
#   lvsd-<version>.tar.gz          git archive of the commit (prefix lvsd-<version>/)
#   lvsd-<version>-nm-prod.tar.gz  node_modules/ of the production dependencies (shipped)
#   lvsd-<version>-nm-dev.tar.gz   node_modules/ of the build tools: typescript, node-addon-api,
#                                  @types/node and what they need (no network in %build)
#   lvsd.spec                      packaging/rpm/lvsd.spec filled in: version, release, Node floor,
#                                  bundled() provides, a %changelog entry for this version-release
# The tarballs are byte-identical for one commit (sorted, owner 0, mtimes the commit's, gzip -n).
# Usage: packaging/build-srpm.sh [COMMIT]    env: LVSD_RPM_RELEASE (default 1), LVSD_PKG_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/common.sh
. "$here/common.sh"

commit=$(git -C "$repo" rev-parse "${1:-HEAD}^{commit}")
SOURCE_DATE_EPOCH=$(commit_epoch "$commit")
export SOURCE_DATE_EPOCH
json() { git -C "$repo" show "$commit:$1" | node -p "const j = JSON.parse(require('fs').readFileSync(0)); $2"; }
version=$(json package.json j.version)
floor=$(json package.json "j.engines.node.replace(/^>=\\s*/, '')")
release=${LVSD_RPM_RELEASE:-1}
dir=$(stage_dir "$commit")
out="$dir/srpm-$release"
mkdir -p "$dir"
exec 9>"$dir.srpm.lock"
flock 9

tarball() { # OUT BASE PATHS...: a reproducible .tar.gz of PATHS under BASE
  local file=$1 base=$2
  shift 2
  tar -C "$base" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf - "$@" | gzip -9n >"$file"
}

name="lvsd-$version"
if [ ! -f "$out/.sources-complete" ]; then
  rm -rf "$out" "$dir/nm"
  mkdir -p "$out" "$dir/nm"
  git -C "$repo" archive --format=tar --prefix="$name/" "$commit" | gzip -9n >"$out/$name.tar.gz"
  # the lockfile's packages, without running any install script (the addon is built in %build)
  git -C "$repo" archive --format=tar "$commit" package.json package-lock.json | tar -x -C "$dir/nm"
  (cd "$dir/nm" && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >&2)
  # the build tools and their own dependencies, by the lockfile
  mapfile -t tools < <(node -e '
    const lock = require(process.argv[1]).packages
    const seen = new Set()
    const visit = (n) => { if (seen.has(n)) return; seen.add(n)
      for (const d of Object.keys(lock["node_modules/" + n]?.dependencies ?? {})) visit(d) }
    for (const n of ["typescript", "node-addon-api", "@types/node"]) visit(n)
    for (const n of [...seen].sort()) console.log("node_modules/" + n)' "$dir/nm/package-lock.json")
  tarball "$out/$name-nm-dev.tar.gz" "$dir/nm" "${tools[@]}"
  (cd "$dir/nm" && npm prune --omit=dev --no-audit --no-fund --loglevel=error >&2)
  find "$dir/nm/node_modules" -mindepth 1 -type d -empty -delete
  rm -f "$dir/nm/node_modules/.package-lock.json"
  tarball "$out/$name-nm-prod.tar.gz" "$dir/nm" node_modules
  rm -rf "$dir/nm"
  touch "$out/.sources-complete"
fi

bundled=$(git -C "$repo" show "$commit:package-lock.json" | node -e '
  const lock = JSON.parse(require("fs").readFileSync(0)).packages
  const lines = new Set()
  for (const [k, v] of Object.entries(lock))
    if (k.startsWith("node_modules/") && !v.dev)
      lines.add(`Provides:       bundled(nodejs-${k.replace(/^.*node_modules\//, "")}) = ${v.version}`)
  console.log([...lines].sort().join("\n"))')
changelog="* $(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y') $maintainer - $version-$release
- Upstream $version, commit $(git -C "$repo" rev-parse --short=12 "$commit")."
LVSD_BUNDLED=$bundled LVSD_CHANGELOG=$changelog awk -v version="$version" -v release="$release" \
  -v floor="$floor" -v url="$homepage" '
  /^@BUNDLED@$/ { print ENVIRON["LVSD_BUNDLED"]; next }
  /^@CHANGELOG@$/ { print ENVIRON["LVSD_CHANGELOG"]; next }
  { gsub(/@VERSION@/, version); gsub(/@RELEASE@/, release); gsub(/@NODE_FLOOR@/, floor); gsub(/@HOMEPAGE@/, url); print }
' "$here/rpm/lvsd.spec" >"$out/lvsd.spec"

rpmbuild -bs --quiet \
  --define "_topdir $dir/rpmtop" \
  --define "_sourcedir $out" \
  --define "_srcrpmdir $out" \
  --define "source_date_epoch_from_changelog 0" \
  --define "use_source_date_epoch_as_buildtime 1" \
  --define "_buildhost lvsd-build" \
  --define "packager $maintainer" \
  "$out/lvsd.spec" >&2
rm -rf "$dir/rpmtop"
ls "$out/$name-$release".*src.rpm 2>/dev/null || ls "$out"/*.src.rpm
