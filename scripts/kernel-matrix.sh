#!/usr/bin/env bash
# The kernel matrix: runs the tests listed in scripts/vm/tests on Debian's
# own kernels under QEMU (TCG: no KVM is needed) and on the host's kernel,
# and prints one line per kernel and a summary:
#
#   kernel-matrix: 6.1.0-57-cloud-amd64 x86_64: PASS 42 passed, 0 failed (95 s)
#
# Kernels, by id (the newest package of each series that apt knows: N is
# looked up, never fixed):
#
#   5.10-amd64 5.10-arm64   linux-image-5.10.0-N-cloud-ARCH-unsigned (bullseye)
#   6.1-amd64 6.1-arm64     linux-image-6.1.0-N-cloud-ARCH-unsigned (bookworm)
#   6.12-amd64 6.12-arm64   linux-image-6.12.N+deb12-cloud-ARCH-unsigned
#   6.19-amd64              linux-image-6.19.N+deb13-cloud-amd64 (trixie-backports)
#   newest-amd64 newest-arm64  the newest linux-image-X.Y.N+deb13-cloud-ARCH
#                           (trixie and trixie-backports: 7.3 as of 2026-12)
#   host                    the host's own kernel, without a VM
#
# 6.1 and 6.12 come through the system's apt sources (bookworm); bullseye,
# trixie and trixie-backports through a private apt configuration under
# the cache (its own sources.list on the mirror the system's sources name,
# checked with the Debian archive keyring; the system's apt is left
# alone). From 6.19 linux-image is a meta package: the kernel is in
# linux-binary-VER (/boot/vmlinuz-VER, or /usr/lib/modules/VER/vmlinuz from
# 7.2) and the modules in linux-modules-VER. Each kernel boots an
# initramfs of busybox, util-linux's unshare, the static nsinspect and the
# static test binaries (built here, per architecture, into bin/vm/ARCH),
# whose /init (scripts/vm/init) runs them and powers off.
#
#   scripts/kernel-matrix.sh [--full] [--only ID[,ID...]] [--no-host]
#
#   --full      the full size: every kernel above, and on each every line
#               of scripts/vm/tests (also NSINSPECT_VM_FULL=1). The CI
#               size runs host 5.10-amd64 6.1-amd64 6.12-amd64 newest-amd64
#               6.1-arm64 newest-arm64, each with the `ci` lines and the
#               `ci:ID,...` lines that name it
#   --only IDS  only these kernels, at the size chosen (also
#               NSINSPECT_VM_KERNELS="ID ...")
#   --no-host   leave out the host's kernel
#
# Environment:
#   NSINSPECT_VM_CACHE   the downloaded and unpacked packages (default
#                        ~/.cache/nsinspect-vm), so a second run downloads
#                        nothing unless apt knows a newer kernel
#   NSINSPECT_VM_TIMEOUT seconds one VM (or the host run) may take in all,
#                        boot included: 900, 3600 in the full size
#   NSINSPECT_VM_TEST_TIMEOUT  each test binary's -test.timeout: 4m, 30m full
#   NSINSPECT_VM_INSTALL=1     install missing tools outside CI too (root)
#   NSINSPECT_VM_TESTS   another list than scripts/vm/tests
#   NSINSPECT_VM_APPEND  more kernel command line
#   NSINSPECT_VM_ACCEL   QEMU's -accel for the VMs (default: x86_64
#                        tcg,thread=single, both vCPUs on one host thread;
#                        arm64 tcg, a host thread per vCPU). Multi-threaded
#                        TCG on x86_64 ended the tracer's tests in an Oops
#                        (int3 in syscall_trace_enter) in 6 runs of 6 on
#                        6.19 and 7.3, single-threaded in 0 of 6: see
#                        docs/trace.md
#   NSINSPECT_VM_ARM64_CPU     QEMU's -cpu for arm64 (max,pauth-impdef=on)
#   NSINSPECT_VM_MODULES kernel modules to load in the VMs (none by default)
#   GO                   the go command (go)
#
# Outputs: bin/vm/ARCH (binaries, initramfs), bin/vm/logs (each VM's
# console log, the host run's log, build and apt logs). For each failing
# test the output is printed, with the log's path on the kernel's line.
#
# Under CI=true a kernel that cannot be fetched, built or booted, a VM that
# crashes or times out, and a list line that runs no test are failures;
# the script installs what a fresh Debian 12 lacks (as root). Elsewhere a
# missing tool skips the kernels that need it, with how to install it.
# Exit status: 1 if any kernel failed, else 0.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

GO=${GO:-go}
CACHE=${NSINSPECT_VM_CACHE:-${HOME:-/root}/.cache/nsinspect-vm}
OUT=$ROOT/bin/vm
LOGS=$OUT/logs
LIST=${NSINSPECT_VM_TESTS:-$ROOT/scripts/vm/tests}
FULL=${NSINSPECT_VM_FULL:-0}
[ "$FULL" = 1 ] || FULL=0
ONLY=${NSINSPECT_VM_KERNELS:-}
# pauth-impdef: QEMU's cheap pointer-authentication hash instead of the
# architected one, which halves the time of an arm64 VM under TCG.
ARM64_CPU=${NSINSPECT_VM_ARM64_CPU:-max,pauth-impdef=on}
HOST=1
INCI=0
[ "${CI:-}" = true ] && INCI=1
# The kernel modules the tests need in the VM, loaded with their
# dependencies (read from each module's .modinfo). The VM has no modprobe,
# so nothing is loaded on demand as on an installed system, which also
# catches code that relies on a module being loaded (the netlink handle once
# opened XFRM and NETFILTER sockets too, EPROTONOSUPPORT here). None is
# needed today: the clone experiment's net-link probe adds an address to
# lo, which every kernel has built in (it added a bridge once, and bridge.ko
# moved between packages from 6.19).
MODULES=${NSINSPECT_VM_MODULES:-}

while [ $# -gt 0 ]; do
	case $1 in
	--full) FULL=1 ;;
	--only) ONLY=${2:-}; ONLY=${ONLY//,/ }; shift ;;
	--only=*) ONLY=${1#--only=}; ONLY=${ONLY//,/ } ;;
	--no-host) HOST=0 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "kernel-matrix: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

ALL_KERNELS="5.10-amd64 6.1-amd64 6.12-amd64 6.19-amd64 newest-amd64 5.10-arm64 6.1-arm64 6.12-arm64 newest-arm64"
if [ "$FULL" = 1 ]; then
	VM_TIMEOUT=${NSINSPECT_VM_TIMEOUT:-3600}
	TEST_TIMEOUT=${NSINSPECT_VM_TEST_TIMEOUT:-30m}
	KERNELS=$ALL_KERNELS
else
	VM_TIMEOUT=${NSINSPECT_VM_TIMEOUT:-900}
	TEST_TIMEOUT=${NSINSPECT_VM_TEST_TIMEOUT:-4m}
	KERNELS="5.10-amd64 6.1-amd64 6.12-amd64 newest-amd64 6.1-arm64 newest-arm64"
fi
if [ -n "$ONLY" ]; then
	KERNELS=""
	HOST=0
	for id in $ONLY; do
		case " host $ALL_KERNELS " in
		*" $id "*) ;;
		*) echo "kernel-matrix: unknown kernel $id (host $ALL_KERNELS)" >&2; exit 2 ;;
		esac
		if [ "$id" = host ]; then HOST=1; else KERNELS="$KERNELS $id"; fi
	done
fi

log() { echo "kernel-matrix: $*" >&2; }
mkdir -p "$CACHE/debs" "$CACHE/unpacked" "$OUT" "$LOGS"
T0=$(date +%s)

# ---------------------------------------------------------------- results
# One entry per kernel, printed at the end (and each line as it is known).
R_NAME=() R_STATUS=() R_PASSED=() R_FAILED=() R_SECS=() R_NOTE=()
result() { # name status passed failed secs note
	R_NAME+=("$1") R_STATUS+=("$2") R_PASSED+=("$3") R_FAILED+=("$4") R_SECS+=("$5") R_NOTE+=("$6")
	result_line "$1" "$2" "$3" "$4" "$5" "$6"
}
result_line() {
	local extra=""
	[ -n "$6" ] && extra="; $6"
	if [ "$2" = SKIP ]; then
		echo "kernel-matrix: $1: SKIP ($6)"
	else
		echo "kernel-matrix: $1: $2 $3 passed, $4 failed ($5 s$extra)"
	fi
}
# A kernel that cannot be tested: a failure under CI, a skip elsewhere
# when the cause is a missing tool (kind=tool), a failure in any case
# otherwise.
cannot() { # name kind why
	if [ "$2" = tool ] && [ $INCI = 0 ]; then
		result "$1" SKIP 0 0 0 "$3"
	else
		result "$1" FAIL 0 1 0 "$3"
	fi
}

# ---------------------------------------------------------------- tools
# Debian package for each command the matrix uses.
declare -A PKG_OF=(
	[qemu-system-x86_64]=qemu-system-x86 [qemu-system-aarch64]=qemu-system-arm
	[aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu [cpio]=cpio [xz]=xz-utils
	[gcc]=gcc [gzip]=gzip [timeout]=coreutils [dpkg-deb]=dpkg [apt-get]=apt
)
have() { command -v "$1" >/dev/null 2>&1; }
have_arm64_libc() { [ -e /usr/aarch64-linux-gnu/lib/libc.a ]; }
have_arm64_arch() { dpkg --print-foreign-architectures 2>/dev/null | grep -qx arm64; }

# At most one apt-get update a run (a file, since look-ups run in
# subshells).
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT
apt_update() {
	[ -e "$TMPD/apt-updated" ] && return 0
	touch "$TMPD/apt-updated"
	[ "$(id -u)" = 0 ] || { log "apt-get update needs root; using the package lists as they are"; return 1; }
	log "apt-get update"
	apt-get update -qq >"$LOGS/apt-update.log" 2>&1 || { log "apt-get update failed (see $LOGS/apt-update.log)"; return 1; }
}

# Under CI (or NSINSPECT_VM_INSTALL=1), as root: install what a fresh
# Debian 12 lacks. qemu's recommends are hundreds of MB, hence
# --no-install-recommends.
install_tools() {
	local need=() c
	for c in qemu-system-x86_64 qemu-system-aarch64 aarch64-linux-gnu-gcc cpio xz gcc; do
		have "$c" || need+=("${PKG_OF[$c]}")
	done
	have_arm64_libc || need+=(libc6-dev-arm64-cross)
	[ -e /usr/include/stdio.h ] || need+=(libc6-dev)
	if ! have_arm64_arch; then
		log "dpkg --add-architecture arm64 (for the arm64 kernel and busybox)"
		dpkg --add-architecture arm64
		rm -f "$TMPD/apt-updated"
		apt_update || true
	fi
	[ ${#need[@]} -gt 0 ] || return 0
	apt_update || true
	log "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >"$LOGS/apt-install.log" 2>&1 ||
		{ log "apt-get install ${need[*]} failed:"; tail -20 "$LOGS/apt-install.log" >&2; return 1; }
}
if [ $INCI = 1 ] || [ "${NSINSPECT_VM_INSTALL:-}" = 1 ]; then
	if [ "$(id -u)" = 0 ]; then
		install_tools || true
	else
		log "not root: cannot install the tools the matrix needs"
	fi
fi
# What each arch lacks, as "why (how to install)", empty when all is there.
missing_for() { # amd64|arm64
	local c miss=() pk=()
	local cmds="$GO gcc cpio gzip xz timeout dpkg-deb apt-get"
	[ "$1" = host ] && cmds="$GO gcc timeout"
	[ "$1" = amd64 ] && cmds="$cmds qemu-system-x86_64"
	[ "$1" = arm64 ] && cmds="$cmds qemu-system-aarch64 aarch64-linux-gnu-gcc"
	for c in $cmds; do
		have "$c" && continue
		miss+=("$c")
		[ "$c" = "$GO" ] || pk+=("${PKG_OF[$c]:-$c}")
	done
	if [ "$1" = arm64 ]; then
		have_arm64_libc || { miss+=("the arm64 libc"); pk+=(libc6-dev-arm64-cross); }
	fi
	[ ${#miss[@]} -gt 0 ] || return 0
	local how=""
	[ ${#pk[@]} -gt 0 ] && how="apt-get install --no-install-recommends ${pk[*]}"
	[ ${#pk[@]} -gt 0 ] && [ $INCI = 0 ] && how="$how, or run as root with NSINSPECT_VM_INSTALL=1"
	have "$GO" || how="${how:+$how; }Go 1.26 on PATH (or GO=/path/to/go)"
	echo "${miss[*]} missing: $how"
}

# ---------------------------------------------------------------- private apt
# Bullseye, trixie and trixie-backports are not in a Debian 12 machine's
# sources: a private apt configuration under the cache reads them (its own
# sources.list, lists and archives), on the mirror the system's sources
# name, checked with the archive keyring. Its lists are refreshed once a
# day, or when a package is not found.
PAPT_DIR=$CACHE/apt
mirror() {
	local m
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -Eo 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ')
	echo "${m:-http://deb.debian.org/debian}"
}
PAPT_OPTS=(-o "Dir::Etc::sourcelist=$PAPT_DIR/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$PAPT_DIR/lists"
	-o "Dir::Cache=$PAPT_DIR/cache" -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 -o Debug::NoLocking=1)
papt_update() {
	local force=${1:-0} m signed="trusted=yes" s
	mkdir -p "$PAPT_DIR/lists/partial" "$PAPT_DIR/cache/archives/partial"
	if [ "$force" = 0 ] && [ -n "$(find "$PAPT_DIR/lists" -maxdepth 1 -name '*_Packages' -mmin -1440 2>/dev/null | head -1)" ]; then
		return 0
	fi
	[ -e "$TMPD/papt-updated" ] && return 0
	touch "$TMPD/papt-updated"
	m=$(mirror)
	[ -s /usr/share/keyrings/debian-archive-keyring.gpg ] && signed="signed-by=/usr/share/keyrings/debian-archive-keyring.gpg"
	: >"$PAPT_DIR/sources.list"
	for s in bullseye trixie trixie-backports; do
		echo "deb [arch=amd64,arm64 $signed] $m $s main" >>"$PAPT_DIR/sources.list"
	done
	log "apt-get update of the private sources ($m: bullseye trixie trixie-backports)"
	apt-get "${PAPT_OPTS[@]}" update -qq >"$LOGS/apt-update-private.log" 2>&1 ||
		{ log "the private apt-get update failed (see $LOGS/apt-update-private.log)"; return 1; }
}

# ---------------------------------------------------------------- packages
# fetch_deb PKG ARCH [private]: the path of PKG's .deb for ARCH in the
# cache, downloading the candidate version only if it is not there yet.
# Without a candidate (no package lists, or the version rotated away), the
# newest cached .deb of PKG is used. With `private`, through the private
# apt configuration.
fetch_deb() {
	local pkg=$1 arch=$2 ver file cached opts=() upd=apt_update
	if [ "${3:-}" = private ]; then
		opts=("${PAPT_OPTS[@]}")
		upd="papt_update 1"
		papt_update >/dev/null 2>&1 || true
	fi
	ver=$(apt-cache "${opts[@]}" policy "$pkg:$arch" 2>/dev/null | awk '/Candidate:/ {print $2}')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		$upd >/dev/null 2>&1 || true
		ver=$(apt-cache "${opts[@]}" policy "$pkg:$arch" 2>/dev/null | awk '/Candidate:/ {print $2}')
	fi
	if [ -n "$ver" ] && [ "$ver" != "(none)" ]; then
		file=$CACHE/debs/${pkg}_${ver//:/%3a}_$arch.deb
		if [ -s "$file" ]; then
			echo "$file"
			return 0
		fi
		log "apt-get download $pkg:$arch ($ver)"
		if (cd "$CACHE/debs" && apt-get "${opts[@]}" download -q "$pkg:$arch=$ver" >"$LOGS/download-$pkg-$arch.log" 2>&1) && [ -s "$file" ]; then
			echo "$file"
			return 0
		fi
		log "apt-get download $pkg:$arch failed (see $LOGS/download-$pkg-$arch.log)"
	fi
	cached=$(ls "$CACHE/debs/${pkg}_"*"_$arch.deb" 2>/dev/null | sort -V | tail -1)
	if [ -n "$cached" ]; then
		log "using the cached $(basename "$cached")"
		echo "$cached"
		return 0
	fi
	return 1
}

# unpack DEB: the directory DEB is unpacked in (once) under the cache,
# under a lock: two runs at once (from two checkouts) share the cache.
unpack() {
	[ -s "$1" ] || return 1
	local dir=$CACHE/unpacked/$(basename "$1" .deb)
	(
		flock 9
		if [ ! -e "$dir/.done" ]; then
			rm -rf "$dir" "$dir.tmp"
			mkdir -p "$dir.tmp"
			dpkg-deb -x "$1" "$dir.tmp" || { rm -rf "$dir.tmp"; exit 1; }
			touch "$dir.tmp/.done"
			mv "$dir.tmp" "$dir"
		fi
	) 9>"$CACHE/unpacked/.lock" || return 1
	echo "$dir"
}

# kernel_src ID: `private` for the kernels of the private apt sources.
kernel_src() {
	case ${1%-*} in 6.1 | 6.12) ;; *) echo private ;; esac
}

# kernel_pkg ID: the newest kernel package for a matrix kernel id.
kernel_pkg() {
	local series=${1%-*} arch=${1#*-} re name opts=() upd=apt_update
	case $series in
	5.10) re="^linux-image-5\\.10\\.0-[0-9]+-cloud-$arch-unsigned\$" ;;
	6.1) re="^linux-image-6\\.1\\.0-[0-9]+-cloud-$arch-unsigned\$" ;;
	6.12) re="^linux-image-6\\.12\\.[0-9]+\\+deb12-cloud-$arch-unsigned\$" ;;
	6.19) re="^linux-image-6\\.19\\.[0-9]+\\+deb13-cloud-$arch\$" ;;
	newest) re="^linux-image-[0-9]+\\.[0-9]+\\.[0-9]+\\+deb13-cloud-$arch\$" ;;
	esac
	if [ "$(kernel_src "$1")" = private ]; then
		opts=("${PAPT_OPTS[@]}")
		upd="papt_update 1"
		papt_update >/dev/null 2>&1 || true
	fi
	name=$(apt-cache "${opts[@]}" search --names-only "$re" 2>/dev/null | awk '{print $1}' | sort -V | tail -1)
	if [ -z "$name" ]; then
		$upd >/dev/null 2>&1 || true
		name=$(apt-cache "${opts[@]}" search --names-only "$re" 2>/dev/null | awk '{print $1}' | sort -V | tail -1)
	fi
	if [ -z "$name" ]; then
		# No package lists: the newest kernel of the series in the cache.
		name=$(ls "$CACHE/debs" 2>/dev/null | sed -n 's/_.*_'"$arch"'\.deb$//p' | grep -E "$re" | sort -V | tail -1)
	fi
	[ -n "$name" ] && echo "$name"
}

# ---------------------------------------------------------------- the plan
# plan_of ID: the lines of the list kernel ID runs, as `PKG RUN SKIP`. In
# the CI size: the `ci` lines, and the `ci:ID,ID...` lines that name ID; in
# the full size every line.
plan_of() {
	awk -v full="$FULL" -v id="$1" -v known=" host $ALL_KERNELS " '
		/^[ \t]*(#|$)/ { next }
		{
			if (NF < 3 || NF > 4 || ($1 != "ci" && $1 != "full" && $1 !~ /^ci:/)) { print "kernel-matrix: bad line in the test list: " $0 > "/dev/stderr"; exit 1 }
			run = full == 1 || $1 == "ci"
			if ($1 ~ /^ci:/) {
				n = split(substr($1, 4), ids, ",")
				for (i = 1; i <= n; i++) {
					if (index(known, " " ids[i] " ") == 0) { print "kernel-matrix: unknown kernel " ids[i] " in the test list: " $0 > "/dev/stderr"; exit 1 }
					if (ids[i] == id) run = 1
				}
			}
			if (run) print $2, $3, (NF == 4 ? $4 : "-")
		}' "$LIST"
}
PKGS=""
for id in host $KERNELS; do
	p=$(plan_of "$id") || exit 2
	[ -n "$p" ] || { log "no tests for $id in $LIST"; exit 1; }
	PKGS="$PKGS $(echo "$p" | awk '{print $1}')"
done
PKGS=$(echo $PKGS | tr ' ' '\n' | sort -u)

# ---------------------------------------------------------------- builds
# build ARCH: the static nsinspect and test binaries in bin/vm/ARCH. What
# fails to build is missing there, and each run of it counts as a failure.
declare -A BUILT=() BUILD_NOTE=()
build() {
	local arch=$1 dir=$OUT/$1 blog=$LOGS/build-$1.log p name failed=()
	[ -n "${BUILT[$arch]:-}" ] && return 0
	BUILT[$arch]=1
	rm -rf "$dir"
	mkdir -p "$dir"
	local env=(CGO_ENABLED=1 GOOS=linux GOARCH="$arch")
	[ "$arch" = arm64 ] && env+=(CC=aarch64-linux-gnu-gcc)
	: >"$blog"
	local b0=$(date +%s)
	log "building the static nsinspect and test binaries for $arch (log: $blog)"
	if ! env "${env[@]}" "$GO" build -trimpath -tags osusergo,netgo \
		-ldflags '-s -w -linkmode external -extldflags -static' -o "$dir/nsinspect" ./cmd/nsinspect >>"$blog" 2>&1; then
		failed+=(nsinspect)
	fi
	# The C witness of the trace tests (integration/testdata/clonetruth.c),
	# static, as NSINSPECT_CLONETRUTH: the VMs have no compiler.
	local cc=gcc
	[ "$arch" = arm64 ] && cc=aarch64-linux-gnu-gcc
	echo "== clonetruth" >>"$blog"
	"$cc" -O2 -Wall -Werror -static -o "$dir/clonetruth" integration/testdata/clonetruth.c >>"$blog" 2>&1 || failed+=(clonetruth)
	for p in $PKGS; do
		name=$(echo "${p#./}" | tr / _)
		echo "== $p" >>"$blog"
		env "${env[@]}" "$GO" test -c -tags osusergo,netgo \
			-ldflags '-linkmode external -extldflags -static' -o "$dir/$name.test" "$p" >>"$blog" 2>&1 || failed+=("$p")
	done
	log "built for $arch in $(($(date +%s) - b0)) s"
	if [ ${#failed[@]} -gt 0 ]; then
		BUILD_NOTE[$arch]="build failed for ${failed[*]} (log: $blog)"
		log "$arch: ${BUILD_NOTE[$arch]}:"
		grep -v '^==' "$blog" | head -20 >&2
	fi
	[ -x "$dir/nsinspect" ] || return 1
}

# ---------------------------------------------------------------- parsing
# parse LOG NAME VM: reads a run's output (console log or host log), prints
# the output of every failing test, and leaves the counts in PASSED,
# FAILED and the reasons in NOTE.
parse() {
	local logf=$1 name=$2 sum=$TMPD/sum
	awk -v ci=$INCI -v vm="$3" -v name="$name" -v logf="$logf" -v sumf="$sum" -v failf="$TMPD/failures" '
	function keep(t, line,   k) { k = n[t]++ % 120; ring[t, k] = line }
	function dump(t, title, max,   i, s) {
		print "---- " name ": " title
		if (max == 0 || max > 120) max = 120
		s = n[t] > max ? n[t] - max : 0
		if (s > 0) print "  [... " s " earlier lines]"
		for (i = s; i < n[t]; i++) print "  " ring[t, i % 120]
		# Again, shorter, for the end of the run: a CI log is often read
		# from its tail, where the summary only counts failures.
		print "---- " name ": " title >> failf
		s = n[t] > 40 ? n[t] - 40 : 0
		if (s > 0) print "  [... " s " earlier lines]" >> failf
		for (i = s; i < n[t]; i++) print "  " ring[t, i % 120] >> failf
	}
	function failures(   i) {
		for (i = 0; i < nf; i++) {
			dump(failname[i], pkg " " failname[i] " FAILED")
			note = note " " pkg " " failname[i] " failed;"
		}
	}
	function reset() { split("", n); nf = 0; cur = ""; np = 0; pleft = 0 }
	{ sub(/\r$/, ""); i = index($0, "@@kernel-matrix: "); if (i > 1) $0 = substr($0, i) }
	/^@@kernel-matrix: BOOT / { booted = 1; next }
	# A process a test binary left holding its output, killed by run-tests
	# so that the run goes on: named in the summary line, not a failure.
	/^@@kernel-matrix: LEFTOVER / { print "---- " name ": " substr($0, 19); note = note " " $3 " left a process (" $5 ") that run-tests killed;"; next }
	/^@@kernel-matrix: RUN / {
		reset(); pkg = $3; inrun = 1; split("", seen); nexp = 0
		# An exact ^(A|B)$ or ^A$: each name must run.
		r = $4
		if (r ~ /^\^(\(([A-Za-z0-9_]+\|)*[A-Za-z0-9_]+\)|[A-Za-z0-9_]+)\$$/) {
			gsub(/[\^$()]/, "", r)
			nexp = split(r, expect, "|")
		}
		next
	}
	/^@@kernel-matrix: END / {
		inrun = 0
		rc = p = f = nt = 0
		for (i = 4; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "rc") rc = kv[2] + 0
			if (kv[1] == "passed") p = kv[2] + 0
			if (kv[1] == "failed") f = kv[2] + 0
			if (kv[1] == "notests") nt = kv[2] + 0
			if (kv[1] == "secs") secs = kv[2]
		}
		passed += p; failed += f
		failures()
		if (rc == 127 && p == 0 && f == 0) { failed++; note = note " " pkg ": not built;" }
		else if (rc != 0 && f == 0) {
			failed++; note = note " " pkg ": exit " rc " with no failed test (panic, -test.timeout or TestMain);"
			if (np) { print "---- " name ": " pkg " panicked:"; for (i = 0; i < np; i++) print "  " pl[i] }
			dump("", pkg " exited " rc " (its last lines)", 40)
		}
		for (i = 1; i <= nexp; i++) if (rc == 0 && !nt && !(expect[i] in seen)) {
			failed++; note = note " " pkg " " expect[i] " did not run (named in the list);"
			print "---- " name ": " pkg " " expect[i] " is named in the list but did not run"
		}
		if (nt) {
			if (ci) { failed++; note = note " " pkg ": ran no test;"; dump("", pkg " ran no test (a failure under CI=true)", 10) }
			else note = note " " pkg ": ran no test (a failure under CI=true);"
		}
		print "kernel-matrix:   " name ": " pkg ": " p " passed, " f " failed, exit " rc ", " secs " s"
		reset(); next
	}
	/^@@kernel-matrix: DONE/ { done = 1; next }
	/^@@kernel-matrix: / { next }
	{ all[na++ % 80] = $0 }
	!inrun { next }
	{ keep("", $0) }
	# A panic (a -test.timeout is one) names the running tests first.
	/^panic: / && np == 0 { pleft = 8 }
	pleft > 0 { pl[np++] = $0; pleft-- }
	/^=== (RUN|CONT|PAUSE|NAME) / { t = $3; sub(/\/.*/, "", t); cur = t }
	/^--- (PASS|FAIL|SKIP): / { cur = $3; seen[cur] = 1; if ($2 == "FAIL:") failname[nf++] = cur }
	/^(PASS|FAIL|ok |exit status )/ { cur = "" }
	cur != "" { keep(cur, $0) }
	END {
		if (!done) {
			if (inrun) {
				failures()
				failed += nf
				note = note " the run ended inside " pkg ";"
			}
			failed++
			note = note " did not finish;"
			print "---- " name ": the last lines of " logf
			s = na > 80 ? na - 80 : 0
			for (i = s; i < na; i++) print "  " all[i % 80]
		}
		if (vm && !booted) note = note " never reached /init;"
		printf "%d %d %s\n", passed, failed, note > sumf
	}' "$logf"
	read -r PASSED FAILED NOTE <"$sum"
	rm -f "$sum"
	NOTE=${NOTE%;}
}

# NOTE (trimmed) and the log's path, for a FAIL line.
note_with_log() {
	local n=${NOTE#"${NOTE%%[![:space:]]*}"}
	n=${n%;}
	echo "${n:+$n; }log: $1"
}

# ---------------------------------------------------------------- initramfs
# Per arch: the common part (busybox, unshare, binaries, testdata, /init).
declare -A COMMON=()
common_cpio() { # arch
	# Staged in this run's own directory: the cache is shared by runs from
	# several checkouts at once, and one run's stage must not be another's.
	local arch=$1 st=$TMPD/stage-$1 bb ul lc d p name tri
	[ -n "${COMMON[$arch]:-}" ] && return 0
	bb=$(unpack "$(fetch_deb busybox-static "$arch")") || { log "no busybox-static:$arch"; return 1; }
	ul=$(unpack "$(fetch_deb util-linux "$arch")") || { log "no util-linux:$arch"; return 1; }
	lc=$(unpack "$(fetch_deb libc6 "$arch")") || { log "no libc6:$arch"; return 1; }
	rm -rf "$st"
	mkdir -p "$st"/{bin,sbin,usr/bin,etc,proc,sys,dev,tmp,run,root,kmx/bin,kmx/src,kmx/modules.d}
	cp "$bb/bin/busybox" "$st/bin/busybox"
	ln -s busybox "$st/bin/sh"
	# util-linux's unshare and the glibc it needs (ld.so, libc.so.6).
	cp "$ul/usr/bin/unshare" "$st/usr/bin/unshare"
	case $arch in amd64) tri=x86_64-linux-gnu ;; arm64) tri=aarch64-linux-gnu ;; esac
	for d in lib lib64; do
		[ -d "$lc/$d" ] && cp -a "$lc/$d" "$st/"
	done
	rm -rf "$st/lib/$tri/gconv" "$st/usr/lib"
	# util-linux's lsns, for BenchmarkLsVsLsns, with the libraries it
	# links beyond glibc.
	cp "$ul/usr/bin/lsns" "$st/usr/bin/lsns"
	for p in libsmartcols1 libmount1 libblkid1 libselinux1 libpcre2-8-0; do
		d=$(unpack "$(fetch_deb "$p" "$arch")") || { log "no $p:$arch (for lsns)"; return 1; }
		find "$d/lib/$tri" "$d/usr/lib/$tri" -maxdepth 1 -name '*.so.*' -exec cp -a {} "$st/lib/$tri/" \; 2>/dev/null
	done
	cp "$ROOT/scripts/vm/init" "$st/init"
	cp "$ROOT/scripts/vm/run-tests" "$st/kmx/run-tests"
	chmod 755 "$st/init" "$st/kmx/run-tests"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$st/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$st/etc/group"
	printf 'root:*:19000:0:99999:7:::\n' >"$st/etc/shadow"
	chmod 640 "$st/etc/shadow"
	echo kmx >"$st/etc/hostname"
	echo "$TEST_TIMEOUT" >"$st/kmx/test-timeout"
	cp "$OUT/$arch/nsinspect" "$st/kmx/bin/"
	[ -e "$OUT/$arch/clonetruth" ] && cp "$OUT/$arch/clonetruth" "$st/kmx/bin/"
	for f in "$OUT/$arch"/*.test; do [ -e "$f" ] && cp "$f" "$st/kmx/bin/"; done
	for p in $PKGS; do
		mkdir -p "$st/kmx/src/$p"
		[ -d "$ROOT/$p/testdata" ] && cp -a "$ROOT/$p/testdata" "$st/kmx/src/$p/"
	done
	(cd "$st" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$OUT/$arch/common.cpio.gz" || return 1
	rm -rf "$st"
	COMMON[$arch]=$OUT/$arch/common.cpio.gz
}

# modules_cpio MODDIR REL OUT ID: the kernel's part of the initramfs: the
# modules in $MODULES and their dependencies from MODDIR/REL (decompressed
# here: busybox's insmod takes plain .ko), with /kmx/modules listing them
# in load order, and ID's plan as /kmx/plan.
modules_cpio() {
	local kdir=$1 rel=$2 out=$3 st=$CACHE/stage-mod m order=() seen=" "
	rm -rf "$st"
	mkdir -p "$st/kmx/modules.d"
	find_mod() { find "$kdir/$rel" \( -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" -o -name "${1//_/-}.ko" -o -name "${1//_/-}.ko.xz" -o -name "${1//_/-}.ko.zst" \) | head -1; }
	add_mod() {
		local f deps d
		case $seen in *" $1 "*) return 0 ;; esac
		seen="$seen$1 "
		f=$(find_mod "$1")
		[ -n "$f" ] || { log "module $1 is not in $rel"; return 1; }
		case $f in
		*.xz) xz -dc "$f" >"$st/kmx/modules.d/$1.ko" || return 1 ;;
		*.zst) zstd -qdc "$f" >"$st/kmx/modules.d/$1.ko" || return 1 ;;
		*) cp "$f" "$st/kmx/modules.d/$1.ko" ;;
		esac
		deps=$(tr '\0' '\n' <"$st/kmx/modules.d/$1.ko" | sed -n 's/^depends=//p' | head -1)
		for d in ${deps//,/ }; do add_mod "$d" || return 1; done
		order+=("$1")
	}
	for m in $MODULES; do add_mod "$m" || return 1; done
	printf '%s\n' "${order[@]}" | sed '/^$/d' >"$st/kmx/modules"
	plan_of "$4" >"$st/kmx/plan"
	(cd "$st" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out" || return 1
	rm -rf "$st"
}

# ---------------------------------------------------------------- runs
# run_vm ID: fetch, boot and judge one Debian kernel.
run_vm() {
	local id=$1 arch=${1#*-} kpkg deb kdir mdir src rel vmlinuz initrd logf t0 rc why uarch qemu
	case $arch in
	amd64) uarch=x86_64 ;;
	arm64) uarch=aarch64 ;;
	esac
	why=$(missing_for "$arch")
	if [ -n "$why" ]; then cannot "$id $uarch" tool "$why"; return; fi
	if [ "$arch" = arm64 ] && ! have_arm64_arch; then
		cannot "$id $uarch" tool "dpkg has no arm64 architecture: dpkg --add-architecture arm64 && apt-get update, or run with CI=true or NSINSPECT_VM_INSTALL=1 as root"
		return
	fi
	src=$(kernel_src "$id")
	kpkg=$(kernel_pkg "$id") || true
	if [ -z "$kpkg" ]; then cannot "$id $uarch" fetch "no linux-image package for $id in apt's lists (apt-get update?)"; return; fi
	deb=$(fetch_deb "$kpkg" "$arch" "$src") || { cannot "$id $uarch" fetch "cannot download $kpkg:$arch"; return; }
	kdir=$(unpack "$deb") || { cannot "$id $uarch" fetch "cannot unpack $deb"; return; }
	if [ -z "$(ls "$kdir/lib/modules" "$kdir/usr/lib/modules" 2>/dev/null)" ]; then
		# From 6.19 linux-image-VER is a meta package: the kernel is in
		# linux-binary-VER, its modules in linux-modules-VER (fetched only
		# when $MODULES names some); both are unpacked into one tree.
		local ver=${kpkg#linux-image-} part pdeb
		kdir=$CACHE/unpacked/split-$ver${MODULES:+-mod}
		if [ ! -e "$kdir/.done" ]; then
			rm -rf "$kdir"
			mkdir -p "$kdir"
			for part in linux-binary ${MODULES:+linux-modules}; do
				pdeb=$(fetch_deb "$part-$ver" "$arch" "$src") || { cannot "$id $uarch" fetch "cannot download $part-$ver:$arch"; return; }
				dpkg-deb -x "$pdeb" "$kdir" || { cannot "$id $uarch" fetch "cannot unpack $pdeb"; return; }
			done
			touch "$kdir/.done"
		fi
	fi
	mdir=$kdir/lib/modules
	[ -d "$mdir" ] || mdir=$kdir/usr/lib/modules
	rel=$(ls "$mdir" 2>/dev/null | head -1)
	[ -n "$rel" ] || rel=$(ls "$kdir/boot" 2>/dev/null | sed -n 's/^vmlinuz-//p' | head -1)
	vmlinuz=$kdir/boot/vmlinuz-$rel
	[ -s "$vmlinuz" ] || vmlinuz=$mdir/$rel/vmlinuz
	[ -n "$rel" ] && [ -s "$vmlinuz" ] || { cannot "$id $uarch" fetch "no vmlinuz in $kpkg"; return; }
	if ! build "$arch"; then cannot "$rel $uarch" build "${BUILD_NOTE[$arch]:-the build failed}"; return; fi
	if ! common_cpio "$arch"; then cannot "$rel $uarch" build "the initramfs could not be made"; return; fi
	initrd=$OUT/$arch/initramfs-$rel.cpio.gz
	if ! modules_cpio "$mdir" "$rel" "$initrd.mods" "$id"; then cannot "$rel $uarch" build "the modules ($MODULES) could not be packed"; return; fi
	cat "${COMMON[$arch]}" "$initrd.mods" >"$initrd"
	rm -f "$initrd.mods"
	logf=$LOGS/$rel.log
	case $arch in
	amd64) qemu=(qemu-system-x86_64 -m 1024 -smp 2 -append "console=ttyS0 quiet panic=-1") ;;
	arm64) qemu=(qemu-system-aarch64 -M virt -cpu "$ARM64_CPU" -m 1024 -smp 2 -append "console=ttyAMA0 quiet panic=-1") ;;
	esac
	[ -n "${NSINSPECT_VM_APPEND:-}" ] && qemu[${#qemu[@]} - 1]+=" $NSINSPECT_VM_APPEND"
	local accel=tcg
	[ "$arch" = amd64 ] && accel=tcg,thread=single
	qemu+=(-accel "${NSINSPECT_VM_ACCEL:-$accel}")
	qemu+=(-nographic -nic none -no-reboot -kernel "$vmlinuz" -initrd "$initrd")
	log "booting $rel ($uarch, TCG, at most ${VM_TIMEOUT}s; console: $logf)"
	t0=$(date +%s)
	rc=0
	timeout -k 10 "$VM_TIMEOUT" "${qemu[@]}" </dev/null >"$logf" 2>&1 || rc=$?
	local secs=$(($(date +%s) - t0))
	parse "$logf" "$rel $uarch" 1
	[ $rc = 124 ] || [ $rc = 137 ] && NOTE="${NOTE:+$NOTE; }VM timed out after ${VM_TIMEOUT}s"
	grep -q 'Kernel panic' "$logf" && NOTE="${NOTE:+$NOTE; }kernel panic"
	[ -n "${BUILD_NOTE[$arch]:-}" ] && NOTE="${NOTE:+$NOTE; }${BUILD_NOTE[$arch]}"
	if [ "$FAILED" = 0 ] && [ $rc = 0 ]; then
		result "$rel $uarch" PASS "$PASSED" 0 "$secs" ""
	else
		[ $rc != 0 ] && [ "$FAILED" = 0 ] && FAILED=1 && NOTE="${NOTE:+$NOTE; }qemu exited $rc"
		result "$rel $uarch" FAIL "$PASSED" "$FAILED" "$secs" "$(note_with_log "$logf")"
	fi
}

# run_host: the same plan and binaries on the host's own kernel.
run_host() {
	local rel arch logf t0 rc=0 secs
	rel=$(uname -r)
	case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) cannot "$rel $(uname -m) (host)" tool "no build for $(uname -m)"; return ;; esac
	local why
	why=$(missing_for host)
	if [ -n "$why" ]; then cannot "$rel $(uname -m) (host)" tool "$why"; return; fi
	if ! build "$arch"; then cannot "$rel $(uname -m) (host)" build "${BUILD_NOTE[$arch]:-the build failed}"; return; fi
	logf=$LOGS/host-$rel.log
	log "running on the host's kernel $rel (log: $logf)"
	t0=$(date +%s)
	plan_of host >"$OUT/plan-host"
	NSINSPECT_BIN=$OUT/$arch/nsinspect NSINSPECT_CLONETRUTH=$OUT/$arch/clonetruth timeout -k 10 "$VM_TIMEOUT" sh "$ROOT/scripts/vm/run-tests" "$OUT/plan-host" "$OUT/$arch" "$ROOT" "$TEST_TIMEOUT" \
		</dev/null >"$logf" 2>&1 || rc=$?
	secs=$(($(date +%s) - t0))
	parse "$logf" "$rel $(uname -m) (host)" 0
	[ $rc = 124 ] || [ $rc = 137 ] && NOTE="${NOTE:+$NOTE; }timed out after ${VM_TIMEOUT}s"
	[ -n "${BUILD_NOTE[$arch]:-}" ] && NOTE="${NOTE:+$NOTE; }${BUILD_NOTE[$arch]}"
	if [ "$FAILED" = 0 ]; then
		result "$rel $(uname -m) (host)" PASS "$PASSED" 0 "$secs" ""
	else
		result "$rel $(uname -m) (host)" FAIL "$PASSED" "$FAILED" "$secs" "$(note_with_log "$logf")"
	fi
}

# Called in a || list, so that nothing in one kernel's run stops the
# others (each step's failure is checked and reported in the function).
[ $HOST = 1 ] && { run_host || true; }
for id in $KERNELS; do run_vm "$id" || true; done

# ---------------------------------------------------------------- summary
if [ -s "$TMPD/failures" ]; then
	echo "kernel-matrix: what failed, again (the last 40 lines of each; the whole output is above and in the logs):"
	cat "$TMPD/failures"
fi
tp=0 tf=0 np=0 nf=0 ns=0
echo "kernel-matrix: summary ($([ $FULL = 1 ] && echo full || echo CI) size, $(($(date +%s) - T0)) s in all):"
for i in "${!R_NAME[@]}"; do
	result_line "${R_NAME[$i]}" "${R_STATUS[$i]}" "${R_PASSED[$i]}" "${R_FAILED[$i]}" "${R_SECS[$i]}" "${R_NOTE[$i]}" | sed 's/^kernel-matrix: /kernel-matrix:   /'
	tp=$((tp + R_PASSED[i])) tf=$((tf + R_FAILED[i]))
	case ${R_STATUS[$i]} in PASS) np=$((np + 1)) ;; FAIL) nf=$((nf + 1)) ;; SKIP) ns=$((ns + 1)) ;; esac
done
echo "kernel-matrix: ${#R_NAME[@]} kernels: $np PASS, $nf FAIL, $ns SKIP"
echo "kernel-matrix: $tp passed, $tf failed"
[ $nf = 0 ]
