#!/bin/bash
# Builds build/pkg/<commit>-<recipe>/lvsd-<version>-<rel>.<arch>.rpm with rpmbuild from the same staged app as
# build-deb.sh (a clean checkout of COMMIT, default HEAD); prints the .rpm's path.
# Usage: packaging/build-rpm.sh [COMMIT]    env: LVSD_RPM_RELEASE (default 1), LVSD_PKG_DIR
# Needs rpmbuild (Debian: apt-get install rpm). For RHEL 8 build on RHEL 8 (docs/packaging.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/common.sh
. "$here/common.sh"

app=$(stage_app_locked "${1:-HEAD}")
commit=$(git -C "$repo" rev-parse "${1:-HEAD}^{commit}")
SOURCE_DATE_EPOCH=$(commit_epoch "$commit")
export SOURCE_DATE_EPOCH
version=$(pkg_version "$app")
out=$(dirname "$app")
work=$(mktemp -d "$out/rpm-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
mkdir "$work/root"

"$here/install-tree.sh" "$app" "$work/root" /usr/lib/systemd/system

rpmbuild -bb --quiet \
  --define "_topdir $work/top" \
  --define "_rpmdir $work/rpms" \
  --define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
  --define "lvsd_root $work/root" \
  --define "lvsd_version $version" \
  --define "lvsd_release ${LVSD_RPM_RELEASE:-1}" \
  --define "lvsd_node $(node -p 'require(process.argv[1]).engines.node.replace(/^>=\s*/, "")' "$app/package.json")" \
  --define "lvsd_homepage $homepage" \
  --define "lvsd_maintainer $maintainer" \
  --define "lvsd_commit $(echo "$commit" | cut -c1-12)" \
  --define "lvsd_changelog_date $(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y')" \
  --define "source_date_epoch_from_changelog 0" \
  --define "use_source_date_epoch_as_buildtime 1" \
  --define "clamp_mtime_to_source_date_epoch 1" \
  --define "_buildhost lvsd-build" \
  "$here/rpm/lvsd.spec" >&2
rpm=$(find "$work/rpms" -name '*.rpm')
mv "$rpm" "$out/"
echo "$out/$(basename "$rpm")"
