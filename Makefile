# rusty-audio: one non-recursive makefile; everything generated lands in build/.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
# The version is set in include/rustyaudio/version.h alone.
version_part = $(shell awk '$$2 == "RA_VERSION_$(1)" { print $$3 }' include/rustyaudio/version.h)
VERSION_MAJOR := $(call version_part,MAJOR)
VERSION := $(VERSION_MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)

CC ?= cc
PKGS := sndfile fftw3 soxr samplerate flac nettle libebur128
CHECK_PKG := check
# The command line's own: XXH3 content hashes for --manifest.
CLI_PKGS := libxxhash

# WERROR=1 (as CI builds) turns warnings into errors; a user's build only warns.
WARN := -Wall -Wextra -Wshadow
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT ?= -O2 -g

comma := ,
ifdef SANITIZE
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
BUILD := $(BUILD)/san-$(subst $(comma),-,$(SANITIZE))
# A test's timeout is there to stop a hang, not a slow run: under a
# sanitizer the tests run up to 20 times slower (ThreadSanitizer on a busy
# machine took check_flac's 1 s test past Check's default 4 s).
CK_TIMEOUT_MULTIPLIER ?= 10
export CK_TIMEOUT_MULTIPLIER
endif


# Recursive (=) so that pkg-config runs only when a recipe needs the flags,
# after install-deps has had its chance.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
CLI_LIBS = $(shell pkg-config --libs $(CLI_PKGS))
CHECK_CFLAGS = $(shell pkg-config --cflags $(CHECK_PKG))
CHECK_LIBS = $(shell pkg-config --libs $(CHECK_PKG))

# -ffp-contract=off: no fused multiply-add but where the code asks for one,
# so that every build of a kernel (baseline, AVX2, AVX-512) gives the same
# bits with any compiler (GCC's default for ISO C; clang would fuse).
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -ffp-contract=off $(OPT) $(WARN) $(SANFLAGS) -Iinclude \
	-DRA_VERSION='"$(VERSION)"' -MMD -MP $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread -lm

LIB_SRC := $(wildcard src/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/check_*.c)
TEST_SUPPORT := tests/testutil.c tests/alloc_count.c

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/%.o)

# Every bench/*.c but the harness is a program; `make bench` runs the groups
# in this order with $(BENCH_ARGS) (--quick, --repeats N, --seconds S,
# --save NAME, --compare NAME). bench_biquad is run by hand; io_floor by
# bench_jobs and scripts/bench-peers.sh; resample_quality by hand and by
# scripts/bench-peers.sh (it measures filters as well as time, and takes
# files and rates of its own, so it is not a harness group).
BENCH_SUPPORT := bench/harness.c
BENCH_SRC := $(filter-out $(BENCH_SUPPORT),$(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
BENCH_SUPPORT_OBJ := $(BENCH_SUPPORT:%.c=$(BUILD)/%.o)
BENCH_GROUPS := bench_pool bench_spectrum bench_eq bench_align bench_pipeline bench_bandwidth \
	bench_jobs
BENCH_ARGS ?=

LIBRARY := $(BUILD)/librustyaudio.a
# The shared library: its soname changes with the major version alone.
SONAME := librustyaudio.so.$(VERSION_MAJOR)
SHARED := $(BUILD)/librustyaudio.so.$(VERSION)
PROGRAM := $(BUILD)/rusty-audio
# The fuzz targets tests/fuzz/fuzz_NAME.c; `make check` replays their
# regression inputs through plain builds of them (replay_NAME).
FUZZ_TARGETS := codec parse
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/replay_%)

# LD_PRELOADed by tests to make one write, fsync, rename or close fail.
FAULT_LIB := $(BUILD)/tests/libfaultinject.so

.PHONY: all check check-run check-cluster check-peers deps have-deps demo bench install uninstall clean lint fuzz fuzz-run
.DEFAULT_GOAL := all
.SECONDARY:

all: $(PROGRAM) $(LIBRARY) $(SHARED)

# Before the first compile: every library there, or the remedy in one line.
have-deps:
	@{ command -v pkg-config && pkg-config --exists $(PKGS) $(CLI_PKGS) $(CHECK_PKG); } \
		>/dev/null 2>&1 || \
	{ echo "rusty-audio: build dependencies missing ($(PKGS) $(CLI_PKGS) $(CHECK_PKG) through" \
		"pkg-config): run 'make deps' to install them" >&2; exit 1; }

$(BUILD)/%.o: %.c | have-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Loops that gain from -O3's vectorizer: the analyser's windowing,
# deinterleaving and power loops (20 % less CPU), the conversion to
# integers, the processor's moves of channels in and out of the EQ and the
# level pass's accumulators.
# They are elementwise, so the results do not change.
# VECTOR_OPT= builds them with $(OPT) alone.
VECTOR_OPT ?= -O3
$(BUILD)/src/spectrum.o $(BUILD)/src/convert.o $(BUILD)/src/processor.o $(BUILD)/src/level.o: ALL_CFLAGS += $(VECTOR_OPT)

# The library's objects serve both libraries, so position-independent; calls
# within the library are not interposable, so they inline as before.
$(LIB_OBJ): ALL_CFLAGS += -fPIC -fno-semantic-interposition

$(LIBRARY): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(LIBS)

$(PROGRAM): $(CLI_OBJ) $(LIBRARY)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIBRARY) $(LIBS) $(CLI_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUPPORT_OBJ) $(LIBRARY) | $(PROGRAM)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJ) $(LIBRARY) $(LIBS) $(CLI_LIBS) $(CHECK_LIBS)

$(BUILD)/tests/%.o: ALL_CFLAGS += $(CHECK_CFLAGS) -DRA_TEST_PROGRAM='"$(abspath $(PROGRAM))"' \
	-DRA_FAULT_LIB='"$(abspath $(FAULT_LIB))"' \
	-DRA_FUZZ_REPLAY_DIR='"$(abspath $(BUILD)/tests/fuzz)"' \
	-DRA_CORPUS_DIR='"$(abspath ../shared/corpus)"' -DRA_TESTS_DIR='"$(abspath tests)"'

$(BUILD)/tests/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o \
		$(BUILD)/src/cli/options.o $(BUILD)/src/cli/say.o $(BUILD)/src/cli/shard.o $(LIBRARY)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/fuzz/%.o: ALL_CFLAGS += -Isrc/cli

# Without sanitizers: it runs inside the program, whatever that was built with.
$(FAULT_LIB): tests/faultinject.c | have-deps
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fPIC -shared $(CFLAGS) -o $@ $< -ldl

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BENCH_SUPPORT_OBJ) $(LIBRARY)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BENCH_SUPPORT_OBJ) $(LIBRARY) $(LIBS)

$(BUILD)/bench/%.o: ALL_CFLAGS += -DRA_BENCH_RESULTS='"$(abspath bench/results)"'

# bench_jobs spawns the program and io_floor: building it builds them.
$(BUILD)/bench/bench_jobs: | $(PROGRAM) $(BUILD)/bench/io_floor
$(BUILD)/bench/bench_jobs.o: ALL_CFLAGS += -DRA_BENCH_PROGRAM='"$(abspath $(PROGRAM))"' \
	-DRA_BENCH_IO_FLOOR='"$(abspath $(BUILD)/bench/io_floor)"'

deps:
	@sh scripts/install-deps.sh

# Install what is missing, then build and run every test in a fresh make so
# that pkg-config sees the newly installed packages.
check: deps
	@$(MAKE) --no-print-directory check-run

# The cluster scripts against real engines: a single-node Slurm and an sshd
# for GNU parallel, started and stopped by the tests (root; installs
# slurm-wlm, munge, openssh-server, parallel and rsync).
check-cluster: deps
	@sh scripts/install-deps.sh --cluster
	@$(MAKE) --no-print-directory $(PROGRAM)
	sh tests/cluster/slurm.sh $(BUILD)
	sh tests/cluster/parallel.sh $(BUILD)

check-peers: deps
	@sh scripts/install-deps.sh --peers
	@$(MAKE) --no-print-directory $(PROGRAM)
	sh tests/peers/pipes.sh $(BUILD)

# The test's make, not named $(MAKE) in the recipe, which make -n would run.
INSTALL_TEST_MAKE = $(MAKE)
LSAN_ENV = LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0

# Then tests/install-test.sh: make install into a temporary root and build
# programs against what it installed, with this build's sanitizers.
check-run: $(PROGRAM) $(TEST_BIN) $(FAULT_LIB) $(FUZZ_REPLAY)
	@fail=0; for t in $(TEST_BIN); do \
		echo "== $$t"; \
		$(LSAN_ENV) $$t || fail=1; \
	done; \
	echo "== tests/install-test.sh"; \
	$(LSAN_ENV) MAKE="$(INSTALL_TEST_MAKE)" CC="$(CC)" CXX="$(CXX)" TEST_FLAGS="$(SANFLAGS)" \
		sh tests/install-test.sh || fail=1; \
	exit $$fail

# make fuzz FUZZ_SECONDS=N: each target under libFuzzer with AddressSanitizer
# and UndefinedBehaviorSanitizer for N seconds; fails on any finding, which
# is left in $(FUZZ_DIR)/findings/NAME/ (add it to tests/fuzz/regressions/NAME/).
# The codec target starts from a file of every format, generated here.
FUZZ_SECONDS ?= 60
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -O1 -g $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	-Iinclude -Isrc/cli -DRA_VERSION='"$(VERSION)"' -MMD -MP $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/%.o) $(FUZZ_DIR)/src/cli/options.o \
	$(FUZZ_DIR)/src/cli/say.o $(FUZZ_DIR)/src/cli/shard.o
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_OPTS = -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 -close_fd_mask=3
FUZZ_SEED_FORMATS := wav:pcm16 wav:pcm24 wav:pcm32 wav:float wav:double wav:pcmu8 wav:ulaw \
	wav:alaw wav:ima-adpcm wav:ms-adpcm wav:gsm610 wavex:pcm24 rf64:pcm16 w64:pcm24 \
	aiff:pcm8 aiff:pcm16 aiff:pcm24 aiff:float flac:pcm16 flac:pcm24 ogg:vorbis opus:opus \
	caf:pcm16 caf:alac16 caf:alaw au:ulaw au:pcm16 mp3:mp3 voc:pcm16 nist:pcm16

$(FUZZ_DIR)/%.o: %.c | have-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)

# 20 ms of a sweep in each format, mono, and stereo where the format has it.
$(FUZZ_DIR)/seeds/codec: $(PROGRAM)
	@rm -rf $@ $@.tmp && mkdir -p $@.tmp
	@for fs in $(FUZZ_SEED_FORMATS); do for ch in 1 2; do \
		$(PROGRAM) -q --generate sweep:100:3000 --duration 0.02 --sample-rate 8000 \
			--channels $$ch --format $${fs%:*} --subtype $${fs#*:} \
			-o $@.tmp/$${fs%:*}-$${fs#*:}-$$ch 2>/dev/null || [ $$ch = 2 ] || exit 1; \
	done; done
	@mv $@.tmp $@

$(FUZZ_DIR)/seeds/parse: $(wildcard tests/fuzz/seeds/parse/*)
	@rm -rf $@ && mkdir -p $(dir $@) && cp -r tests/fuzz/seeds/parse $@

fuzz: deps
	@sh scripts/install-deps.sh --fuzz
	@$(MAKE) --no-print-directory fuzz-run

# New inputs go to $(FUZZ_DIR)/corpus/NAME, kept from run to run; libFuzzer's
# output to $(FUZZ_DIR)/NAME.log, shown when it found something.
fuzz-run: $(FUZZ_BIN) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/seeds/%)
	@fail=0; for t in $(FUZZ_TARGETS); do \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/findings/$$t; \
		$(LSAN_ENV) $(FUZZ_DIR)/fuzz_$$t $(FUZZ_OPTS) -dict=tests/fuzz/$$t.dict \
			-artifact_prefix=$(FUZZ_DIR)/findings/$$t/ $(FUZZ_DIR)/corpus/$$t \
			$(FUZZ_DIR)/seeds/$$t $$(ls -d tests/fuzz/regressions/$$t 2>/dev/null) \
			>$(FUZZ_DIR)/$$t.log 2>&1 || { fail=1; tail -n 60 $(FUZZ_DIR)/$$t.log; }; \
		grep -E '^(#[0-9]+.*DONE|Done )' $(FUZZ_DIR)/$$t.log | tail -n 2; \
	done; exit $$fail

# make bench BENCH_ARGS=--quick for a smoke run (under a minute).
bench: deps
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	@for g in $(BENCH_GROUPS); do $(BUILD)/bench/$$g $(BENCH_ARGS) || exit $$?; done

demo: deps
	@$(MAKE) --no-print-directory $(PROGRAM)
	@sh scripts/demo.sh $(PROGRAM) $(BUILD)/demo

# The libraries (librustyaudio.so -> .so.MAJOR -> .so.VERSION, and .a), the
# headers and rustyaudio.pc for pkg-config, which names PREFIX.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/rustyaudio $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(PROGRAM) $(DESTDIR)$(PREFIX)/bin/rusty-audio
	install -m 644 $(LIBRARY) $(DESTDIR)$(PREFIX)/lib/librustyaudio.a
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/$(notdir $(SHARED))
	ln -sf $(notdir $(SHARED)) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/librustyaudio.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' rustyaudio.pc.in \
		>$(DESTDIR)$(PREFIX)/lib/pkgconfig/rustyaudio.pc
	install -m 644 include/rustyaudio/*.h $(DESTDIR)$(PREFIX)/include/rustyaudio/
	install -m 644 man/rusty-audio.1 $(DESTDIR)$(PREFIX)/share/man/man1/rusty-audio.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/rusty-audio $(DESTDIR)$(PREFIX)/lib/librustyaudio.a \
		$(DESTDIR)$(PREFIX)/lib/librustyaudio.so $(DESTDIR)$(PREFIX)/lib/$(SONAME) \
		$(DESTDIR)$(PREFIX)/lib/$(notdir $(SHARED)) \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/rustyaudio.pc \
		$(DESTDIR)$(PREFIX)/share/man/man1/rusty-audio.1
	rm -rf $(DESTDIR)$(PREFIX)/include/rustyaudio

# Installs clang-format and cppcheck first when they are missing.
lint:
	@sh scripts/install-deps.sh --lint
	clang-format --dry-run --Werror $(LIB_SRC) $(CLI_SRC) $(TEST_SRC) $(TEST_SUPPORT) \
		include/rustyaudio/*.h src/*.h src/cli/*.h tests/*.h bench/*.c bench/*.h \
		tests/faultinject.c tests/fuzz/*.c tests/install/app.c tests/install/app.cpp
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Iinclude src tests bench

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:=.d) $(TEST_SUPPORT_OBJ:.o=.d) $(BENCH_BIN:=.d) \
	$(BENCH_SUPPORT_OBJ:.o=.d) $(FUZZ_LIB_OBJ:.o=.d) \
	$(BUILD)/tests/fuzz/replay.d $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%.d) \
	$(FUZZ_TARGETS:%=$(FUZZ_DIR)/tests/fuzz/fuzz_%.d)
