# nsinspect. `make test` is the one command that runs the whole suite; it
# is what .ci/run runs. Kernel tests need root: under CI=true they fail
# instead of skipping when they cannot run.
GO      ?= go
BIN     ?= bin/nsinspect
# Each fuzz target runs this many inputs in `make test` (a few seconds);
# `make fuzz FUZZTIME=20000000x` is the full size. A count, not a duration:
# go1.26's fuzz coordinator can report "context deadline exceeded" as a
# failure when a duration ends mid-input under load (golang/go#75804,
# fixed in Go 1.27), which a count never does.
FUZZTIME ?= 200000x

# The version `nsinspect --version`, `features` and serve's
# nsinspect_build_info report: git describe, stamped at link time
# (internal/version). Outside a git checkout it is empty, and the binary
# falls back to what the Go toolchain recorded.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
VERSION_LDFLAGS = -X github.com/nsinspect/nsinspect/internal/version.stamp=$(VERSION)

.PHONY: build test vet fuzz bench man clean static image kernels bpf-check

build:
	$(GO) build -ldflags '$(VERSION_LDFLAGS)' -o $(BIN) ./cmd/nsinspect

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt: files need formatting:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# The identity packages once more as on a kernel without NS_GET_ID (before
# 6.18) and PIDFD_THREAD (before 6.9), so that the fallbacks run on every
# host too; the kernel matrix below runs them on real 5.10 to 6.12 kernels.
PRETEND_OLD = NSINSPECT_PRETEND_MISSING=NS_GET_ID,PIDFD_THREAD

# The committed BPF objects must be what bpfiter/bpf/*.c compiles to.
bpf-check:
	GO=$(GO) ./scripts/bpf-check.sh

test: vet bpf-check build
	$(GO) test -count=1 -timeout 15m ./...
	$(PRETEND_OLD) $(GO) test -count=1 ./procinfo ./namespaces ./sharing ./discover ./nsgroup ./nsgraph ./bpfiter
	./scripts/fuzz-all.sh $(FUZZTIME)
	GO=$(GO) ./scripts/kernel-matrix.sh $(KERNELS_FLAGS)

fuzz:
	./scripts/fuzz-all.sh $(FUZZTIME)

# The kernel matrix: the tests listed in scripts/vm/tests, run on Debian's
# cloud kernels from 5.10 to the newest (7.3 as of 2026-12) under QEMU
# (TCG, x86_64 and arm64) and on the host's own kernel, one PASS/FAIL line
# per kernel (scripts/kernel-matrix.sh fetches the kernels with apt-get
# download and caches them in ~/.cache/nsinspect-vm). `make kernels
# KERNELS_FLAGS=--full` is the full size; KERNELS_FLAGS='--only
# 5.10-amd64,host' picks kernels (ids in scripts/kernel-matrix.sh --help).
KERNELS_FLAGS ?=
kernels:
	GO=$(GO) ./scripts/kernel-matrix.sh $(KERNELS_FLAGS)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Man pages generated from the command definitions, by a build with the
# mangen tag (the hidden `man` command; kept out of the normal binary).
man:
	$(GO) build -tags mangen -o bin/nsinspect-mangen ./cmd/nsinspect
	bin/nsinspect-mangen man bin/man

# A static binary for the FROM scratch image. nsinspect uses cgo
# (internal/nsichild/nsi_child.c), so it is linked externally with
# -static; osusergo and netgo keep glibc's NSS (which cannot be linked
# statically) out.
STATIC  ?= bin/rootfs/nsinspect
IMAGE   ?= nsinspect
# The image budget, in bytes (15 MB).
IMAGE_MAX ?= 15000000

static:
	CGO_ENABLED=1 $(GO) build -trimpath -tags osusergo,netgo \
		-ldflags '-s -w $(VERSION_LDFLAGS) -linkmode external -extldflags -static' -o $(STATIC) ./cmd/nsinspect
	@file $(STATIC) | grep -q 'statically linked' || { echo "$(STATIC) is not static:"; file $(STATIC); exit 1; }

# Builds the static binary and the image tagged $(IMAGE), prints its size
# and fails above IMAGE_MAX. A rebuild that replaces the tag removes the old
# image, so no dangling image is left behind.
image: static
	install -d -m 1777 bin/rootfs/tmp
	@old=$$(docker image inspect -f '{{.Id}}' $(IMAGE) 2>/dev/null || true); \
	docker build -q -t $(IMAGE) . >/dev/null || exit 1; \
	new=$$(docker image inspect -f '{{.Id}}' $(IMAGE)); \
	if [ -n "$$old" ] && [ "$$old" != "$$new" ]; then docker rmi "$$old" >/dev/null 2>&1 || \
		echo "note: the previous image $$old is still used by a container: docker rmi it once that container is gone"; fi; \
	size=$$(docker image inspect -f '{{.Size}}' $(IMAGE)); \
	echo "image $(IMAGE): $$new, $$size bytes"; \
	[ "$$size" -le $(IMAGE_MAX) ] || { echo "image $(IMAGE) is $$size bytes, over the $(IMAGE_MAX)-byte budget"; exit 1; }

clean:
	rm -rf bin
