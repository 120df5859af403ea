#!/usr/bin/env bash
# Package test (`make package-test`): checks what keepalived-rs's .deb holds and that the
# installed binary runs, without touching the machine's own dpkg database or /etc.
#
#   packaging/test-deb.sh [PACKAGE.deb]
#
# Without an argument, the newest target/debian/keepalived-rs_*.deb (under
# $CARGO_TARGET_DIR when set) is tested.
#
# 1. `dpkg-deb -I` / `-c`: control fields, conffiles, maintainer scripts, the unit and
#    the man pages are there;
# 2. `dpkg-deb -x` into a scratch root: `--version` and `--config-test` of the packaged
#    configuration run from it;
# 3. `dpkg --root` into a second scratch root with its own empty dpkg database: the package
#    installs and removes (maintainer scripts included) inside that root only.
set -euo pipefail
trap 'echo "package-test: FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
say() { echo "package-test: $*"; }

deb="${1:-}"
if [ -z "$deb" ]; then
    dir="${CARGO_TARGET_DIR:-target}/debian"
    deb=$(ls -t "$dir"/keepalived-rs_*.deb 2>/dev/null | head -n 1 || true)
    [ -n "$deb" ] || fail "no keepalived-rs_*.deb in $dir (run make deb)"
fi
[ -f "$deb" ] || fail "$deb: no such file"
say "testing $deb"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/krs-package-test.XXXXXX")
cleanup() { rm -rf "$scratch"; }
trap cleanup EXIT

# --- 1. metadata and contents -----------------------------------------------------------
info=$(dpkg-deb -I "$deb")
contents=$(dpkg-deb -c "$deb")
field() { dpkg-deb -f "$deb" "$1"; }

[ "$(field Package)" = keepalived-rs ] || fail "Package field: $(field Package)"
arch=$(dpkg --print-architecture)
[ "$(field Architecture)" = "$arch" ] || fail "Architecture $(field Architecture), machine $arch"
case "$(basename "$deb")" in
    keepalived-rs_*_"$arch".deb) ;;
    *) fail "file name $(basename "$deb") is not keepalived-rs_<version>_$arch.deb" ;;
esac
for part in conffiles postinst prerm postrm control; do
    grep -qw "$part" <<<"$info" || fail "dpkg-deb -I lists no $part"
done
field Depends | grep -q 'libc6' || fail "Depends has no computed libc6: $(field Depends)"
field Recommends | grep -qw 'iproute2' || fail "Recommends lacks iproute2: $(field Recommends)"

has_file() { grep -qE "[[:space:]]\./($1)\$" <<<"$contents" || fail "package lacks /$1"; }
has_file usr/sbin/keepalived-rs
has_file etc/keepalived-rs/keepalived.conf
has_file etc/default/keepalived-rs
has_file usr/share/man/man8/keepalived-rs.8.gz
has_file usr/share/man/man5/keepalived-rs.conf.5.gz
has_file usr/share/doc/keepalived-rs/copyright
has_file 'usr/lib/systemd/system/keepalived-rs.service|lib/systemd/system/keepalived-rs.service'
grep -qE '^-rwxr-xr-x (root/root|0/0) .* \./usr/sbin/keepalived-rs$' <<<"$contents" ||
    fail "/usr/sbin/keepalived-rs is not root:root 0755"

ctl="$scratch/control"
dpkg-deb -e "$deb" "$ctl"
grep -qx '/etc/keepalived-rs/keepalived.conf' "$ctl/conffiles" || fail "keepalived.conf is not a conffile"
grep -qx '/etc/default/keepalived-rs' "$ctl/conffiles" || fail "/etc/default/keepalived-rs is not a conffile"
for s in postinst prerm postrm; do
    [ -x "$ctl/$s" ] || fail "no $s maintainer script"
done
# systemd actions only when systemd runs, as dh_installsystemd does.
grep -q 'deb-systemd-helper' "$ctl/postinst" || fail "postinst does not enable the unit"
grep -q '/run/systemd/system' "$ctl/postinst" || fail "postinst starts the unit without checking for systemd"
say "metadata, conffiles, maintainer scripts, unit and man pages present"

# The man pages render without warnings.
if command -v groff >/dev/null; then
    for page in usr/share/man/man8/keepalived-rs.8.gz usr/share/man/man5/keepalived-rs.conf.5.gz; do
        dpkg-deb --fsys-tarfile "$deb" | tar -xO "./$page" | gunzip >"$scratch/page"
        warnings=$(groff -man -Tutf8 -ww -z "$scratch/page" 2>&1 || true)
        [ -z "$warnings" ] || fail "$page: groff warnings: $warnings"
    done
    say "man pages render without groff warnings"
else
    say "groff not installed: man pages not rendered"
fi

# --- 2. extracted binary ----------------------------------------------------------------
root="$scratch/x"
dpkg-deb -x "$deb" "$root"
unit=$(ls "$root"/usr/lib/systemd/system/keepalived-rs.service "$root"/lib/systemd/system/keepalived-rs.service 2>/dev/null | head -n 1 || true)
grep -qE '^ExecStart=/usr/sbin/keepalived-rs .*/etc/keepalived-rs/keepalived\.conf' "$unit" ||
    fail "the unit does not run /usr/sbin/keepalived-rs on /etc/keepalived-rs/keepalived.conf"
grep -q '^EnvironmentFile=-/etc/default/keepalived-rs' "$unit" || fail "the unit does not read /etc/default/keepalived-rs"
bin="$root/usr/sbin/keepalived-rs"
version=$("$bin" --version) || fail "--version exited $?"
deb_version=$(field Version)
grep -q "^keepalived-rs ${deb_version%%-*} " <<<"$version" ||
    fail "--version says '$version', package is $deb_version"
say "--version: $version"

set +e
out=$("$bin" --config-test -f "$root/etc/keepalived-rs/keepalived.conf" 2>&1)
rc=$?
set -e
[ "$rc" = 0 ] || fail "--config-test of the packaged configuration exited $rc: $out"
say "--config-test of the packaged keepalived.conf: exit 0"
grep -q '^DAEMON_ARGS=' "$root/etc/default/keepalived-rs" || fail "/etc/default/keepalived-rs has no DAEMON_ARGS"

# --- 3. dpkg --root install and purge --------------------------------------------------
# A private root with its own empty dpkg database: dpkg never reads or writes the machine's.
# dpkg runs the maintainer scripts chrooted into that root, where we put only a shell and a
# few tools (with their libraries): there is no systemctl, deb-systemd-helper or
# /run/systemd/system inside, so the scripts skip the systemd steps exactly as they do on a
# machine without systemd. Nothing outside the scratch root is touched.
inst="$scratch/root"
mkdir -p "$inst/var/lib/dpkg/info" "$inst/var/lib/dpkg/updates" "$inst/var/log" "$inst/tmp"
: >"$inst/var/lib/dpkg/status"
: >"$inst/var/lib/dpkg/available"

# Copies a program into the scratch root at the same path, with the libraries it needs.
copy_into_root() {
    local prog lib
    prog=$(command -v "$1") || return 0
    mkdir -p "$inst$(dirname "$prog")"
    cp -L "$prog" "$inst$prog"
    for lib in $(ldd "$prog" 2>/dev/null | grep -o '/[^ ]*'); do
        [ -e "$inst$lib" ] && continue
        mkdir -p "$inst$(dirname "$lib")"
        cp -L "$lib" "$inst$lib"
    done
}

if [ "$(id -u)" != 0 ]; then
    say "dpkg --root install skipped: dpkg needs root to chroot for the maintainer scripts"
else
    # A merged-/usr layout, as Debian's, so /bin/sh and /lib64/ld-linux* resolve in the chroot.
    mkdir -p "$inst/usr/bin" "$inst/usr/lib" "$inst/usr/lib64"
    for d in bin lib lib64; do ln -s "usr/$d" "$inst/$d"; done
    for p in sh rm mkdir cat grep sed; do copy_into_root "$p"; done
    [ -x "$inst/bin/sh" ] || cp -L /bin/sh "$inst/usr/bin/sh"
    dpkg_root=(dpkg --root="$inst" --log="$inst/var/log/dpkg.log" --force-depends)
    # dpkg looks for these on PATH before it runs; the package itself does not use them.
    export PATH="$PATH:/usr/sbin:/sbin"
    "${dpkg_root[@]}" -i "$deb" >"$scratch/dpkg.out" 2>&1 || fail "dpkg --root -i: $(cat "$scratch/dpkg.out")"
    "${dpkg_root[@]}" -s keepalived-rs | grep -q '^Status: install ok installed' ||
        fail "not installed in the scratch root: $(cat "$scratch/dpkg.out")"
    [ -x "$inst/usr/sbin/keepalived-rs" ] || fail "dpkg --root did not install the binary"
    [ -f "$inst/etc/keepalived-rs/keepalived.conf" ] || fail "dpkg --root did not install the conffile"
    "$inst/usr/sbin/keepalived-rs" --config-test -f "$inst/etc/keepalived-rs/keepalived.conf" ||
        fail "--config-test after dpkg --root install exited $?"
    "${dpkg_root[@]}" --purge keepalived-rs >>"$scratch/dpkg.out" 2>&1 ||
        fail "dpkg --root --purge: $(cat "$scratch/dpkg.out")"
    [ ! -e "$inst/usr/sbin/keepalived-rs" ] || fail "purge left the binary"
    [ ! -e "$inst/etc/keepalived-rs/keepalived.conf" ] || fail "purge left the conffile"
    say "dpkg --root: install (maintainer scripts ran chrooted), --config-test, purge: ok"
fi

say "PASS"
