#!/usr/bin/env bash
# build-deb.sh x64|arm64 [--out DIR] [--fast]: dist/adaos-edge_<version>_<amd64|arm64>.deb from
# the packaged binary dist/adaos-edge-linux-<arch> (built by `npm run package`).
# xz -6 (dpkg's default) makes the ~110 MB binary a ~28 MB .deb in ~25 s on two cores; --fast
# uses xz -1 (~34 MB, ~5 s): the same format, for tests.
#
# The package holds the binary, the systemd unit, a starter /etc/adaos-edge/agent.yaml (a hub;
# the same text `systemd/install.sh --print-config` prints) and the environment file, both
# conffiles. The maintainer scripts create the adaos-edge user and the state directory, and
# enable/start the service only where systemd runs; they honour DPKG_ROOT, so
# `dpkg --root=DIR --force-script-chrootless -i` installs into DIR without touching the host.
# Built with `dpkg-deb --root-owner-group`: no root or fakeroot needed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf 'build-deb: %s\n' "$*"; }
die() { printf 'build-deb: error: %s\n' "$*" >&2; exit 1; }

arch="" out="$repo/dist" level=6
while [[ $# -gt 0 ]]; do
  case "$1" in
    x64 | arm64) arch="$1"; shift ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a directory"; out="$2"; shift 2 ;;
    --fast) level=1; shift ;;
    -h | --help) echo "usage: build-deb.sh x64|arm64 [--out DIR] [--fast]"; exit 0 ;;
    *) die "unknown argument '$1' (usage: build-deb.sh x64|arm64 [--out DIR] [--fast])" ;;
  esac
done
[[ -n "$arch" ]] || die "which architecture? usage: build-deb.sh x64|arm64 [--out DIR] [--fast]"
case "$arch" in x64) deb_arch=amd64 ;; arm64) deb_arch=arm64 ;; esac

binary="$repo/dist/adaos-edge-linux-$arch"
[[ -f "$binary" ]] || die "$binary is missing; build it with: npm run package -- $arch"
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found (apt-get install dpkg)"

# Debian orders 1.0.0~rc1 before 1.0.0; npm's '-' would read as a Debian revision.
version="$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$repo/package.json" | head -n 1)"
[[ -n "$version" ]] || die "no version in package.json"
deb_version="${version//-/\~}"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
deb="$out/adaos-edge_${deb_version}_${deb_arch}.deb"
stage="$(mktemp -d "${TMPDIR:-/tmp}/adaos-edge-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/adaos-edge"

say "staging adaos-edge $deb_version ($deb_arch) from ${binary#"$repo"/}"
install -d -m 0755 "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/adaos-edge" \
  "$pkg/usr/share/doc/adaos-edge"
install -m 0755 "$binary" "$pkg/usr/bin/adaos-edge"
install -m 0644 "$repo/systemd/adaos-edge.service" "$pkg/lib/systemd/system/adaos-edge.service"
bash "$repo/systemd/install.sh" --print-config --role hub >"$pkg/etc/adaos-edge/agent.yaml"
install -m 0644 "$repo/systemd/adaos-edge.env.example" "$pkg/etc/adaos-edge/adaos-edge.env"
# Readable by root and (after postinst's chgrp) the service group only: the env file holds the token.
chmod 0640 "$pkg/etc/adaos-edge/agent.yaml" "$pkg/etc/adaos-edge/adaos-edge.env"
cat >"$pkg/usr/share/doc/adaos-edge/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: adaos-edge
Source: AdaOS

Files: *
Copyright: AdaOS
License: MIT
 The binary embeds Node.js (MIT) and npm packages under their own licenses
 (better-sqlite3 and SQLite, ajv, pino, yaml: MIT or public domain).
EOF
chmod 0644 "$pkg/usr/share/doc/adaos-edge/copyright"

installed_kb="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
cat >"$pkg/DEBIAN/control" <<EOF
Package: adaos-edge
Version: $deb_version
Architecture: $deb_arch
Maintainer: AdaOS
Installed-Size: $installed_kb
Depends: libc6 (>= 2.34), libstdc++6 (>= 12), adduser
Recommends: alsa-utils
Suggests: nats-server
Section: net
Priority: optional
Description: AdaOS edge agent (hub or member of a home subnet)
 One self-contained executable (Node.js 22 inside) that runs a Raspberry
 Pi-class device of an AdaOS home subnet as a hub (NATS/MQTT broker for
 members, node directory, resolver, uplink to the root) or as a member (a
 TV, speaker or kiosk that announces its capabilities and runs commands).
 .
 Runs as the hardened systemd service adaos-edge.service under the system
 user adaos-edge. Configuration: /etc/adaos-edge/agent.yaml (a hub by
 default; set "role: member" for a member) and /etc/adaos-edge/adaos-edge.env.
EOF
printf '%s\n' /etc/adaos-edge/agent.yaml /etc/adaos-edge/adaos-edge.env >"$pkg/DEBIAN/conffiles"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' |
  sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"

# Maintainer scripts: POSIX sh. Every path is prefixed with $DPKG_ROOT (empty in normal use);
# systemd is only asked to act on the live system (no DPKG_ROOT) and only when it is running,
# so they work in a container, a chroot and an image build alike.
# shellcheck disable=SC2016 # expanded when the maintainer scripts run, not here
script_head='UNIT=adaos-edge.service
R="${DPKG_ROOT:-}"
systemd_live() { [ -z "$R" ] && [ -d /run/systemd/system ]; }
'
# shellcheck disable=SC2016
script_users='NAME=adaos-edge
# The user database: the live system (NSS, adduser) or the tree in $DPKG_ROOT.
user_line() { # passwd|group NAME
	if [ -z "$R" ]; then getent "$1" "$2"; else grep "^$2:" "$R/etc/$1" 2>/dev/null; fi
}
user_db() { [ -z "$R" ] || { [ -f "$R/etc/passwd" ] && [ -f "$R/etc/group" ]; }; }
'

cat >"$pkg/DEBIAN/postinst" <<EOF
#!/bin/sh
# adaos-edge postinst: system user, state directory, conffile group, enable and start.
set -e
$script_head
$script_users
ensure_user() {
	if ! user_db; then
		echo "adaos-edge: no \$R/etc/passwd; user \$NAME not created" >&2
		return 0
	fi
	if [ -z "\$R" ] && command -v adduser >/dev/null 2>&1; then
		user_line passwd "\$NAME" >/dev/null ||
			adduser --quiet --system --group --home /var/lib/\$NAME --no-create-home \\
				--shell /usr/sbin/nologin --gecos "AdaOS edge agent" "\$NAME"
	else
		set -- # useradd/groupadd on the tree: --prefix keeps them off the host's files
		[ -z "\$R" ] || set -- --prefix "\$R"
		user_line group "\$NAME" >/dev/null || groupadd "\$@" --system "\$NAME"
		user_line passwd "\$NAME" >/dev/null ||
			useradd "\$@" --system --gid "\$NAME" --home-dir /var/lib/\$NAME --no-create-home \\
				--shell /usr/sbin/nologin --comment "AdaOS edge agent" "\$NAME"
	fi
	# Sound (ALSA) and display (DRM) devices.
	for g in audio video; do
		user_line group "\$g" >/dev/null || continue
		members=\$(user_line group "\$g" | cut -d: -f4)
		case ",\$members," in *",\$NAME,"*) continue ;; esac
		if [ -z "\$R" ]; then usermod --append --groups "\$g" "\$NAME"; else usermod --prefix "\$R" --append --groups "\$g" "\$NAME"; fi
	done
}

if [ "\$1" = configure ]; then
	ensure_user
	owner=root:root
	if user_line passwd "\$NAME" >/dev/null; then
		owner="\$(user_line passwd "\$NAME" | cut -d: -f3):\$(user_line group "\$NAME" | cut -d: -f3)"
	fi
	[ -d "\$R/var/lib/\$NAME" ] || mkdir -p "\$R/var/lib/\$NAME"
	chown "\$owner" "\$R/var/lib/\$NAME"
	chmod 0750 "\$R/var/lib/\$NAME"
	for f in agent.yaml adaos-edge.env; do
		[ -f "\$R/etc/\$NAME/\$f" ] || continue
		chown "root:\${owner#*:}" "\$R/etc/\$NAME/\$f"
		chmod 0640 "\$R/etc/\$NAME/\$f"
	done
fi

# systemd (the shape of dh_installsystemd's snippets). deb-systemd-helper honours DPKG_ROOT.
if [ "\$1" = configure ] || [ "\$1" = abort-upgrade ] || [ "\$1" = abort-deconfigure ] || [ "\$1" = abort-remove ]; then
	if command -v deb-systemd-helper >/dev/null 2>&1; then
		deb-systemd-helper unmask "\$UNIT" >/dev/null || true
		# was-enabled is true on a first install, so a new install is enabled.
		if deb-systemd-helper --quiet was-enabled "\$UNIT"; then
			deb-systemd-helper enable "\$UNIT" >/dev/null || true
		else
			deb-systemd-helper update-state "\$UNIT" >/dev/null || true
		fi
	elif [ -z "\$R" ] && command -v systemctl >/dev/null 2>&1; then
		systemctl enable "\$UNIT" >/dev/null 2>&1 || true
	fi
	if systemd_live; then
		systemctl --system daemon-reload >/dev/null || true
		action=start
		[ -z "\$2" ] || action=restart
		if command -v deb-systemd-invoke >/dev/null 2>&1; then
			deb-systemd-invoke "\$action" "\$UNIT" >/dev/null || true
		else
			systemctl "\$action" "\$UNIT" >/dev/null || true
		fi
	else
		echo "adaos-edge: systemd is not running here; the service starts at the next boot"
	fi
	if ! grep -q '^[[:space:]]*ADAOS_EDGE_TOKEN=' "\$R/etc/\$NAME/adaos-edge.env" 2>/dev/null; then
		echo "adaos-edge: set ADAOS_EDGE_TOKEN in /etc/adaos-edge/adaos-edge.env (the same on the hub and every member)"
	fi
fi
exit 0
EOF

cat >"$pkg/DEBIAN/prerm" <<EOF
#!/bin/sh
# adaos-edge prerm: stop the service before its files go (an upgrade restarts it in postinst).
set -e
$script_head
if [ "\$1" = remove ] && systemd_live; then
	if command -v deb-systemd-invoke >/dev/null 2>&1; then
		deb-systemd-invoke stop "\$UNIT" >/dev/null || true
	else
		systemctl stop "\$UNIT" >/dev/null || true
	fi
fi
exit 0
EOF

cat >"$pkg/DEBIAN/postrm" <<EOF
#!/bin/sh
# adaos-edge postrm: forget the unit; on purge also the state, the cache, the config and the user.
set -e
$script_head
$script_users
if [ "\$1" = remove ] && systemd_live; then
	systemctl --system daemon-reload >/dev/null || true
fi
if command -v deb-systemd-helper >/dev/null 2>&1; then
	case "\$1" in
		remove) deb-systemd-helper mask "\$UNIT" >/dev/null || true ;;
		purge)
			deb-systemd-helper purge "\$UNIT" >/dev/null || true
			deb-systemd-helper unmask "\$UNIT" >/dev/null || true
			;;
	esac
fi
if [ "\$1" = purge ]; then
	rm -rf "\$R/var/lib/adaos-edge" "\$R/var/cache/adaos-edge" "\$R/etc/adaos-edge"
	if user_db; then
		set --
		[ -z "\$R" ] || set -- --prefix "\$R"
		if user_line passwd "\$NAME" >/dev/null; then
			if [ -z "\$R" ] && command -v deluser >/dev/null 2>&1; then
				deluser --quiet --system "\$NAME" >/dev/null || true
			else
				userdel "\$@" "\$NAME" || true
			fi
		fi
		if user_line group "\$NAME" >/dev/null; then
			groupdel "\$@" "\$NAME" || true
		fi
	fi
fi
exit 0
EOF
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/prerm" "$pkg/DEBIAN/postrm"
for s in postinst prerm postrm; do sh -n "$pkg/DEBIAN/$s" || die "DEBIAN/$s is not valid sh"; done

say "building ${deb#"$repo"/} (xz -$level)"
start=$(date +%s)
rm -f "$deb"
dpkg-deb --root-owner-group -Zxz -z"$level" --build "$pkg" "$deb" >/dev/null
say "${deb#"$repo"/}: $(du -h "$deb" | cut -f1) (installed $((installed_kb / 1024)) MB), $(($(date +%s) - start)) s"
