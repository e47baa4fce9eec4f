# Shared by the packaging scripts (sourced): paths, the version, and the per-commit staging lock.
# shellcheck shell=bash

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pkg_src="$repo/packaging"
# build/ is gitignored; note that `node-gyp rebuild` (npm run build:native) wipes it, cache included
pkg_dir=${LVSD_PKG_DIR:-$repo/build/pkg}

# The upstream version of the staged app (package.json of the commit being packaged).
pkg_version() {
  node -p 'require(process.argv[1]).version' "$1/package.json"
}

# Where COMMIT's app is staged: the key includes this script set's own recipe, so changing how the
# app is staged does not reuse a tree staged the old way.
stage_dir() {
  echo "$pkg_dir/$1-$(cat "$pkg_src/stage-app.sh" "$pkg_src/stage-tree.sh" "$pkg_src/common.sh" "$pkg_src/rpm/lvsd.spec" "$pkg_src/build-srpm.sh" | sha1sum | cut -c1-8)"
}

# Stages the app for COMMIT under a lock, so two builders of one commit (a unit and a vm test, or
# two engineers) do not rebuild the same tree at once. Prints the app directory.
stage_app_locked() {
  local commit
  commit=$(git -C "$repo" rev-parse "${1:-HEAD}^{commit}")
  mkdir -p "$pkg_dir"
  flock "$(stage_dir "$commit").lock" "$pkg_src/stage-app.sh" "$commit"
  # every commit gets its own ~10 MB tree; forget those nobody built from for two days
  find "$pkg_dir" -mindepth 1 -maxdepth 1 -mtime +2 -exec rm -rf {} + 2>/dev/null || true
}

# Who answers for the packages (control Maintainer:, changelogs); set LVSD_MAINTAINER for your builds.
maintainer=${LVSD_MAINTAINER:-lvsd maintainers <lvsd@users.noreply.github.com>}
homepage=https://github.com/lvsd/lvsd

# SOURCE_DATE_EPOCH of a commit: its committer time, so two builds of one commit are byte-identical.
commit_epoch() {
  git -C "$repo" log -1 --format=%ct "$1"
}
