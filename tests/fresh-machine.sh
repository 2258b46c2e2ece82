#!/usr/bin/env bash
# make check-fresh: the README's promise on a machine that has nothing.
#
# Builds a minimal Debian 12 (debootstrap --variant=minbase bookworm, from
# this machine's configured Debian mirror), copies a clean clone of the
# committed tree into it, and runs, as root inside that chroot, the two
# quick-start commands exactly as README.md writes them, then the package
# test (packaging/test-deb). Any failure names the command and shows the
# tail of its output.
#
# The debootstrapped tree is kept pristine as a tarball in a cache directory
# (TABLECAST_FRESH_CACHE, default /var/cache/tablecast) so later runs skip
# that download; every run unpacks a new tree from it and removes the tree at
# the end. Whatever happens, the script unmounts what it mounted and ends
# every process started inside the chroot. Needs root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${TABLECAST_FRESH_CACHE:-/var/cache/tablecast}
suite=bookworm
# Bounds for each step, far above what they take, so a hang ends the run.
STEP_TIMEOUT=${FRESH_STEP_TIMEOUT:-2400}

say() { echo "fresh-machine: $*"; }
die() {
	echo "fresh-machine: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (chroot, mount, debootstrap)"
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 || die "$top is not a git checkout: nothing to clone"

if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap"
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap; } \
		>/dev/null 2>&1 || die "could not install debootstrap"
fi

# The first Debian archive URI this machine's apt is configured with.
mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f"
	done | head -n 1
	if [ -f /etc/apt/sources.list ]; then
		awk '$1 == "deb" && $2 !~ /^\[/ && $3 !~ /security/ { print $2; exit } $1 == "deb" && $2 ~ /^\[/ { print $3; exit }' \
			/etc/apt/sources.list
	fi
}
MIRROR=${FRESH_MIRROR:-$(mirror | head -n 1)}
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian

work=$(mktemp -d "${FRESH_TMPDIR:-/var/tmp}/tablecast-fresh.XXXXXX")
root=$work/root
mounts=()

# Every process whose root directory is inside the chroot.
chroot_pids() {
	local p link
	for p in /proc/[0-9]*; do
		link=$(readlink "$p/root" 2>/dev/null) || continue
		case "$link" in "$root" | "$root"/*) echo "${p#/proc/}" ;; esac
	done
}

cleanup() {
	local status=$? i pids
	trap '' INT TERM
	trap - EXIT
	for i in 1 2 3; do
		pids=$(chroot_pids)
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		sleep 1
	done
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
	done
	# Never delete through a mount that is still there.
	if findmnt -rn -o TARGET | grep -q "^$root"; then
		echo "fresh-machine: mounts under $root remain; not removing $work" >&2
		status=1
	else
		rm -rf "$work"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- a pristine minbase tree, cached as a tarball ----------------------------
mkdir -p "$cache"
tarball=$cache/debian-$suite-minbase-$(dpkg --print-architecture).tar
if [ ! -s "$tarball" ]; then
	say "debootstrap --variant=minbase $suite from $MIRROR"
	ok=
	for attempt in 1 2; do
		rm -rf "$work/boot"
		if debootstrap --variant=minbase "$suite" "$work/boot" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
			ok=1
			break
		fi
		[ "$attempt" -eq 2 ] || say "debootstrap failed; retrying once"
	done
	if [ -z "$ok" ]; then
		tail -n 20 "$work/debootstrap.log" >&2
		die "debootstrap from the mirror $MIRROR failed twice: a mirror or network error, not a tablecast failure"
	fi
	tar -C "$work/boot" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	rm -rf "$work/boot"
fi
say "unpacking a fresh tree from $tarball"
mkdir "$root"
tar -C "$root" -xf "$tarball"

# The machine's apt sources (same mirror, updates and security) and name
# service, as a freshly installed Debian 12 would have them.
rm -f "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] && cp "$f" "$root$f"
done
for f in /etc/apt/apt.conf.d/*; do
	[ -f "$f" ] && cp "$f" "$root$f"
done
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# Certificate authorities this network's hosts add locally (a TLS proxy's,
# say): npm reaches its registry through them. The ca-certificates package
# that bootstrap installs adds them to the chroot's store, as on any host
# of the network.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
	mkdir -p "$root/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
# Daemons that packages start from their maintainer scripts (PostgreSQL's
# default cluster) would run on this machine's network: a chroot has no init
# of its own, so tell invoke-rc.d not to start any.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

mount_in() { # mount_in TARGET mount-args...
	local target=$root$1
	shift
	mkdir -p "$target"
	mount "$@" "$target"
	mounts+=("$target")
}
mount_in /proc -t proc proc
mount_in /sys -t sysfs sysfs
mount_in /dev --bind /dev
mount_in /dev/pts -t devpts -o newinstance,ptmxmode=0666 devpts
mount_in /dev/shm -t tmpfs -o mode=1777 tmpfs

# ---- a clean clone of what is committed -------------------------------------
git clone -q --no-hardlinks "$top" "$root/root/tablecast"
say "cloned $(git -C "$root/root/tablecast" log -1 --format='%h %s')"

# The quick-start commands, exactly as README.md writes them.
mapfile -t commands < <(awk '/^## Quick start/ { q = 1 } q && /^```/ { if (inblock) exit; inblock = 1; next }
	q && inblock { sub(/[ \t]+#.*/, ""); if ($0 != "") print }' "$top/README.md")
[ "${#commands[@]}" -eq 2 ] || die "README.md's quick start should hold two commands, found ${#commands[@]}: ${commands[*]}"

# run_in DESCRIPTION COMMAND: one step as root in the chroot, from the clone.
run_in() {
	local log=$work/step.log start status=0
	start=$(date +%s)
	say "running: $1"
	timeout --signal=TERM --kill-after=30 "$STEP_TIMEOUT" \
		chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd /root/tablecast && $2" >"$log" 2>&1 || status=$?
	if [ "$status" -ne 0 ]; then
		echo "fresh-machine: '$1' failed with exit $status after $(($(date +%s) - start)) s; its last 60 lines:" >&2
		tail -n 60 "$log" >&2
		exit 1
	fi
	# The summary line of each step: bootstrap's progress and the counts.
	grep -E '^(bootstrap: installing|[0-9]+ passed, [0-9]+ failed|test-deb:)' "$log" | sed 's/^/  /' || true
	say "'$1' passed in $(($(date +%s) - start)) s"
	# Nothing a step starts may outlive it.
	[ -z "$(chroot_pids)" ] || die "'$1' left processes running: $(chroot_pids | tr '\n' ' ')"
	# ...nor any file in /tmp.
	[ -z "$(ls -A "$root/tmp")" ] || die "'$1' left files in /tmp: $(ls -A "$root/tmp" | tr '\n' ' ')"
}

for c in "${commands[@]}"; do
	run_in "$c" "$c"
done
run_in packaging/test-deb packaging/test-deb
say "the README's commands and the package test pass on a minimal Debian $suite"
