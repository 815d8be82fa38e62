# The index of pmrun's habits: every routine task is one target here.
GO      ?= go
PKGS    := ./...
FUZZTIME ?= 1m

.PHONY: all build install run test race vet fmt-check fmt bench stress fuzz clean help preload

all: build test

help:
	@echo "make run        run the demo scenario (scenarios/demo.yaml); its timeline goes to demo.html"
	@echo "make test       formatting, vet and the whole test suite under the race detector"
	@echo "make build      compile every package"
	@echo "make install    install the pmrun command into \$$(go env GOPATH)/bin"
	@echo "make bench      the performance table: each row against its baseline, measured in the same run"
	@echo "make stress     long stress runs (not part of make test)"
	@echo "make preload    build the library that puts C programs under pmrun's scheduler (pmrun builds it on first use too)"
	@echo "make fuzz       fuzz the scenario loader, --var, the output paths, the programs' loader, schedules and"
	@echo "                message framing, each for FUZZTIME (default 1m: six minutes in all)"

build:
	$(GO) build $(PKGS)

# pmrun needs no C: only cobra's flag package links net, whose resolver
# would make the binary load libc at every start (pmrun itself, and each
# agent and guard it starts from its own binary), about 2 ms each.
install:
	CGO_ENABLED=0 $(GO) install ./cmd/pmrun

# The demo: a tour of every action. The events land in pmrun.log, and
# demo.html draws them on a timeline.
run:
	CGO_ENABLED=0 $(GO) run ./cmd/pmrun --report demo.html scenarios/demo.yaml
	@echo "open demo.html in a browser for the run's timeline; every event is in pmrun.log"


# The interposition library of the controlled action, built with the
# system C compiler into the user's cache (pmrun does so on first use).
preload:
	CGO_ENABLED=0 $(GO) run ./cmd/pmrun preload

# The test command the README and CI use.
test: fmt-check vet race

race:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -s -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt -s would change:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -s -w $$(git ls-files '*.go')

bench:
	$(GO) run ./cmd/pmbench

stress:
	PMRUN_STRESS=1 $(GO) test -count=1 -timeout 60m -run Stress $(PKGS)

# Each fuzz target runs for FUZZTIME. The fuzzer minimizes every input
# that reaches new code, and Go's minimizer tries every subset of an
# input's bytes: on the scenario files the loader's corpus starts from (a
# few KB), that took the whole default minute (-fuzzminimizetime 60s) per
# input, with 0 execs/s shown meanwhile, and early in a run nearly every
# input reaches new code. FUZZMINIMIZE caps it at a number of runs.
FUZZMINIMIZE ?= 200x
FUZZ = $(GO) test -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE)

# One target per line: Go fuzzes one target per invocation. A test
# (cmd/pmrun, TestMakeFuzzRunsEveryFuzzer) checks that every Fuzz
# function of the module is here.
fuzz:
	$(FUZZ) -fuzz '^FuzzParse$$' ./runner/lang
	$(FUZZ) -fuzz '^FuzzParseVar$$' ./runner/lang
	$(FUZZ) -fuzz '^FuzzOutputPath$$' ./runner/report
	$(FUZZ) -fuzz '^FuzzLoad$$' ./actions/internal/program
	$(FUZZ) -fuzz '^FuzzParse$$' ./actions/internal/schedule
	$(FUZZ) -fuzz '^FuzzDecoder$$' ./actions/internal/frame

clean:
	rm -f pmrun.log demo.html
	$(GO) clean -testcache
