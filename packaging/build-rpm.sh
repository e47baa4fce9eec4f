#!/bin/bash
# Builds build/pkg/<commit>-<recipe>/lvsd-<version>-<rel>.<arch>.rpm the way a distribution does:
# the source rpm of build-srpm.sh rebuilt by rpmbuild (%prep, %build, %install and %check of
# packaging/rpm/lvsd.spec); prints the .rpm's path.
# Usage: packaging/build-rpm.sh [COMMIT]    env: LVSD_RPM_RELEASE (default 1), LVSD_PKG_DIR
# Needs rpmbuild (Debian: apt-get install rpm). Debian has no rpm database to resolve BuildRequires
# from, hence --nodeps: the tools are the Debian packages the .deb build uses. For RHEL 8 build on
# RHEL 8 (docs/packaging.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/common.sh
. "$here/common.sh"

commit=$(git -C "$repo" rev-parse "${1:-HEAD}^{commit}")
srpm=$("$here/build-srpm.sh" "$commit" | tail -1)
SOURCE_DATE_EPOCH=$(commit_epoch "$commit")
export SOURCE_DATE_EPOCH
out=$(dirname "$(dirname "$srpm")")
work=$(mktemp -d "$out/rpm-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# reproducible: build time and host fixed, every mtime clamped to the commit's time. The man pages
# are gzipped already, and Debian's rpm runs brp-compress under dash, which it cannot parse.
rpmbuild --rebuild --nodeps --quiet \
  --define "_topdir $work/top" \
  --define "_rpmdir $work/rpms" \
  --define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
  --define "source_date_epoch_from_changelog 0" \
  --define "use_source_date_epoch_as_buildtime 1" \
  --define "clamp_mtime_to_source_date_epoch 1" \
  --define "_buildhost lvsd-build" \
  --define "packager $maintainer" \
  --define "__brp_compress /bin/true" \
  "$srpm" >&2
rpm=$(find "$work/rpms" -name '*.rpm')
mv "$rpm" "$out/"
echo "$out/$(basename "$rpm")"
