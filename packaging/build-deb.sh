#!/bin/bash
# Builds build/pkg/<commit>-<recipe>/lvsd_<version>-<rev>_<arch>.deb with dpkg-deb from a clean checkout of
# COMMIT (default HEAD) and the packaging files of this work tree; prints the .deb's path.
# Usage: packaging/build-deb.sh [COMMIT]    env: LVSD_DEB_REVISION (default 1), LVSD_PKG_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/common.sh
. "$here/common.sh"

app=$(stage_app_locked "${1:-HEAD}")
commit=$(git -C "$repo" rev-parse "${1:-HEAD}^{commit}")
SOURCE_DATE_EPOCH=$(commit_epoch "$commit")
export SOURCE_DATE_EPOCH
arch=$(dpkg --print-architecture)
version="$(pkg_version "$app")-${LVSD_DEB_REVISION:-1}"
out=$(dirname "$app")
root=$(mktemp -d "$out/deb-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"

"$here/install-tree.sh" "$app" "$root" /lib/systemd/system
# the changelog follows the version being built (Debian policy 4.4): one entry per build of a commit
{
  printf 'lvsd (%s) unstable; urgency=medium\n\n' "$version"
  printf '  * Upstream %s, commit %s.\n\n' "$(pkg_version "$app")" "$(echo "$commit" | cut -c1-12)"
  printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$root/usr/share/doc/lvsd/changelog.Debian.gz"

install -d -m 0755 "$root/DEBIAN"
install -m 0755 "$here/deb/postinst" "$here/deb/prerm" "$here/deb/postrm" "$root/DEBIAN/"
# every file under /etc is a conffile (Debian policy 10.7.3)
(cd "$root" && find etc -type f -printf '/%p\n' | sort) >"$root/DEBIAN/conffiles"

# dpkg-shlibdeps wants a debian/control to read; the real one is generated below
shlib_dir=$(mktemp -d "$out/shlibdeps.XXXXXX")
mkdir "$shlib_dir/debian"
printf 'Source: lvsd\n\nPackage: lvsd\nArchitecture: any\n' >"$shlib_dir/debian/control"
shlibs=$(cd "$shlib_dir" && dpkg-shlibdeps --warnings=0 -O "$root/usr/lib/lvsd/build/Release/lvsd_native.node" \
  "$root/usr/lib/lvsd/build/Release/lvsd-pacer" |
  sed -n 's/^shlibs:Depends=//p')
rm -rf "$shlib_dir"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
node_floor=$(node -p 'require(process.argv[1]).engines.node.replace(/^>=\s*/, "")' "$app/package.json")
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@SHLIBS@/$shlibs/" \
  -e "s|@MAINTAINER@|$maintainer|" -e "s|@HOMEPAGE@|$homepage|" -e "s/@NODE@/$node_floor/" \
  "$here/deb/control.in" >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums" "$root/DEBIAN/conffiles"
find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

deb="$out/lvsd_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb.tmp.$$" >&2
mv "$deb.tmp.$$" "$deb"
echo "$deb"
