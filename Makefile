# Convenience wrapper around CMake. `make demo` and `make test` start from a
# fresh machine: they install missing Debian packages first.
#
# The machine is shared: at most JOBS (2) compile jobs and test processes.
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan
DEMO_EXAMPLE ?= listener_leak

.PHONY: all deps configure build demo test test-asan test-fuzz clean

all: build

deps:
	scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Runs a leaky example under leakscope: its report is printed at the end.
demo: build
	mkdir -p $(BUILD)/demo
	$(BUILD)/bin/leakscope run -o $(BUILD)/demo -- $(BUILD)/bin/$(DEMO_EXAMPLE)

# The sanitizer run happens even if the first one failed: CI shows every
# failure at once. Fails if either did.
test: build
	@status=0; \
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) || status=1; \
	$(MAKE) test-asan || status=1; \
	$(MAKE) test-fuzz || status=1; \
	exit $$status

# The collector and the viewer (and their tests) with AddressSanitizer and
# UBSan; the shim is never instrumented (see the root CMakeLists.txt).
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DLEAKSCOPE_SANITIZE=address,undefined -DLEAKSCOPE_BUILD_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ctest --test-dir $(ASAN_BUILD) -R '^(collector|viewer)/' --output-on-failure -j$(JOBS)

# The wire decoder under libFuzzer (clang, ASan+UBSan) for a bounded time;
# collector/FuzzCorpus.* replays the committed corpus in the main run too.
FUZZ_SECONDS ?= 60
test-fuzz: deps
	scripts/fuzz-decoder $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
