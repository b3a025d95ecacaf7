# nsinspect. `make test` is the one command that runs the whole suite; it
# is what .ci/run runs. Kernel tests need root: under CI=true they fail
# instead of skipping when they cannot run.
GO      ?= go
BIN     ?= bin/nsinspect
# Each fuzz target runs this long in `make test`; `make fuzz FUZZTIME=10m`
# is the full size.
FUZZTIME ?= 5s

.PHONY: build test vet fuzz bench man clean

build:
	$(GO) build -o $(BIN) ./cmd/nsinspect

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt: files need formatting:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

test: vet build
	$(GO) test -count=1 -timeout 15m ./...
	./scripts/fuzz-all.sh $(FUZZTIME)

fuzz:
	./scripts/fuzz-all.sh $(FUZZTIME)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Man pages generated from the command definitions, by a build with the
# mangen tag (the hidden `man` command; kept out of the normal binary).
man:
	$(GO) build -tags mangen -o bin/nsinspect-mangen ./cmd/nsinspect
	bin/nsinspect-mangen man bin/man

clean:
	rm -rf bin
