#!/bin/sh
# Prints the distribution's hardening flags for the addon and the pacer helper (binding.gyp):
# dpkg-buildflags --get FLAG with bindnow on Debian; nothing elsewhere (rpmbuild passes %{optflags}
# through the environment).
# Usage: sh packaging/buildflags.sh CPPFLAGS|CFLAGS|CXXFLAGS|LDFLAGS
command -v dpkg-buildflags >/dev/null 2>&1 || exit 0
DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$1" | sed 's/ -g / /; s/^-g //'
