#!/usr/bin/env bash
# Builds the .deb from a published binary with dpkg-deb (no debhelper, no source package).
#   packaging/build-deb.sh PUBLISH_DIR OUT_DIR      prints the path of the .deb it wrote
# Layout: /usr/lib/lakeops-edge/{lakeops-edge,libduckdb.so} (the binary finds the library beside
# itself), /usr/bin/lakeops-edge -> ../lib/lakeops-edge/lakeops-edge, the unit in
# /lib/systemd/system, the default config /etc/lakeops-edge/edge.yaml as a conffile.
set -euo pipefail
cd "$(dirname "$0")/.."
publish=${1:?publish dir} out=${2:?output dir}
[[ -x $publish/lakeops-edge && -f $publish/libduckdb.so ]] || { echo "build-deb: $publish has no lakeops-edge + libduckdb.so" >&2; exit 1; }

name=lakeops-edge
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/$name
umask 022

install -d "$root/DEBIAN" "$root/usr/lib/$name" "$root/usr/bin" "$root/lib/systemd/system" \
  "$root/etc/$name" "$root/usr/share/doc/$name" "$root/usr/share/man/man1"
install -m 0755 "$publish/lakeops-edge" "$root/usr/lib/$name/lakeops-edge"
# Already stripped by the AOT publish; the compiler's .comment note is all that is left to drop.
objcopy --remove-section=.comment "$root/usr/lib/$name/lakeops-edge"
# The NuGet build of libduckdb.so carries its symbols (70 MB); the package ships it stripped.
install -m 0644 "$publish/libduckdb.so" "$root/usr/lib/$name/libduckdb.so"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/lib/$name/libduckdb.so"
ln -s "../lib/$name/lakeops-edge" "$root/usr/bin/lakeops-edge"
install -m 0644 packaging/lakeops-edge.service "$root/lib/systemd/system/$name.service"
install -m 0644 configs/edge.yaml "$root/etc/$name/edge.yaml"
install -m 0644 packaging/debian/copyright "$root/usr/share/doc/$name/copyright"
install -m 0644 packaging/README.md "$root/usr/share/doc/$name/README.md"
gzip -9n < packaging/debian/changelog > "$root/usr/share/doc/$name/changelog.gz"
gzip -9n < packaging/debian/lakeops-edge.1 > "$root/usr/share/man/man1/lakeops-edge.1.gz"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
echo "/etc/$name/edge.yaml" > "$root/DEBIAN/conffiles"

# Library dependencies as dpkg-shlibdeps computes them (it wants a debian/control beside it).
shlibs=""
if command -v dpkg-shlibdeps >/dev/null; then
  mkdir -p "$stage/debian"
  printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" > "$stage/debian/control"
  shlibs=$(cd "$stage" && dpkg-shlibdeps -O "$name/usr/lib/$name/lakeops-edge" "$name/usr/lib/$name/libduckdb.so" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
fi
[[ -n $shlibs ]] || shlibs="libc6 (>= 2.34), libgcc-s1, libstdc++6"
# libssl3: loaded at run time by .NET for TLS listeners and TLS connections to engines.
depends="adduser, init-system-helpers (>= 1.52), libssl3, $shlibs"

(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: LakeOps Edge maintainers <edge@lakeops.dev>
Installed-Size: $installed_size
Depends: $depends
Section: database
Priority: optional
Description: multi-engine SQL gateway (PostgreSQL and MySQL wire protocols)
 LakeOps Edge accepts PostgreSQL and MySQL clients on one endpoint and runs each
 statement on the engine its rules pick: embedded DuckDB, PostgreSQL, MySQL-wire
 engines. It routes by rules, load and health, admits work per group, passes
 same-protocol traffic through without decoding rows, and reloads its
 configuration on SIGHUP without dropping queries.
 .
 This package runs it as the systemd service lakeops-edge (Type=notify,
 watchdog, dedicated user, hardened sandbox) with a loopback-only default
 configuration.
CONTROL

mkdir -p "$out"
# gzip, not xz: xz takes minutes over the 70 MB payload on a small build machine, for ~25% less size.
deb="$out/${name}_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "$deb"
