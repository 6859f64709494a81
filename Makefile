# rusty-audio: one non-recursive makefile; everything generated lands in build/.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
VERSION := 0.1.0

CC ?= cc
PKGS := sndfile fftw3 samplerate
CHECK_PKG := check

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
endif


# Recursive (=) so that pkg-config runs only when a recipe needs the flags,
# after install-deps has had its chance.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS = $(shell pkg-config --cflags $(CHECK_PKG))
CHECK_LIBS = $(shell pkg-config --libs $(CHECK_PKG))

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -Iinclude \
	-DRA_VERSION='"$(VERSION)"' -MMD -MP $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread -lm

LIB_SRC := $(wildcard src/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/check_*.c)
TEST_SUPPORT := tests/testutil.c

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/%.o)

# Every bench/*.c but the harness is a program; `make bench` runs the groups
# in this order with $(BENCH_ARGS) (--quick, --repeats N, --seconds S,
# --save NAME, --compare NAME). bench_biquad and io_floor are run by hand.
BENCH_SUPPORT := bench/harness.c
BENCH_SRC := $(filter-out $(BENCH_SUPPORT),$(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
BENCH_SUPPORT_OBJ := $(BENCH_SUPPORT:%.c=$(BUILD)/%.o)
BENCH_GROUPS := bench_pool bench_spectrum bench_eq bench_align bench_pipeline bench_bandwidth
BENCH_ARGS ?=

LIBRARY := $(BUILD)/librustyaudio.a
PROGRAM := $(BUILD)/rusty-audio
# LD_PRELOADed by tests to make one write, fsync, rename or close fail.
FAULT_LIB := $(BUILD)/tests/libfaultinject.so

.PHONY: all check check-run deps have-deps demo bench install uninstall clean lint
.DEFAULT_GOAL := all
.SECONDARY:

all: $(PROGRAM) $(LIBRARY)

# Before the first compile: every library there, or the remedy in one line.
have-deps:
	@{ command -v pkg-config && pkg-config --exists $(PKGS) $(CHECK_PKG); } >/dev/null 2>&1 || \
	{ echo "rusty-audio: build dependencies missing ($(PKGS) $(CHECK_PKG) through" \
		"pkg-config): run 'make deps' to install them" >&2; exit 1; }

$(BUILD)/%.o: %.c | have-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Loops that gain from -O3's vectorizer: the analyser's windowing,
# deinterleaving and power loops (20 % less CPU) and the conversion to
# integers. They are elementwise, so the results do not change.
# VECTOR_OPT= builds them with $(OPT) alone.
VECTOR_OPT ?= -O3
$(BUILD)/src/spectrum.o $(BUILD)/src/convert.o: ALL_CFLAGS += $(VECTOR_OPT)

$(LIBRARY): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(PROGRAM): $(CLI_OBJ) $(LIBRARY)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIBRARY) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUPPORT_OBJ) $(LIBRARY) | $(PROGRAM)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJ) $(LIBRARY) $(LIBS) $(CHECK_LIBS)

$(BUILD)/tests/%.o: ALL_CFLAGS += $(CHECK_CFLAGS) -DRA_TEST_PROGRAM='"$(abspath $(PROGRAM))"' \
	-DRA_FAULT_LIB='"$(abspath $(FAULT_LIB))"' \
	-DRA_CORPUS_DIR='"$(abspath ../shared/corpus)"' -DRA_TESTS_DIR='"$(abspath tests)"'

# Without sanitizers: it runs inside the program, whatever that was built with.
$(FAULT_LIB): tests/faultinject.c | have-deps
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fPIC -shared $(CFLAGS) -o $@ $< -ldl

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BENCH_SUPPORT_OBJ) $(LIBRARY)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BENCH_SUPPORT_OBJ) $(LIBRARY) $(LIBS)

$(BUILD)/bench/%.o: ALL_CFLAGS += -DRA_BENCH_RESULTS='"$(abspath bench/results)"'

deps:
	@sh scripts/install-deps.sh

# Install what is missing, then build and run every test in a fresh make so
# that pkg-config sees the newly installed packages.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: $(PROGRAM) $(TEST_BIN) $(FAULT_LIB)
	@fail=0; for t in $(TEST_BIN); do \
		echo "== $$t"; \
		LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 $$t || fail=1; \
	done; exit $$fail

# make bench BENCH_ARGS=--quick for a smoke run (under a minute).
bench: deps
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	@for g in $(BENCH_GROUPS); do $(BUILD)/bench/$$g $(BENCH_ARGS) || exit $$?; done

demo: deps
	@$(MAKE) --no-print-directory $(PROGRAM)
	@sh scripts/demo.sh $(PROGRAM) $(BUILD)/demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include/rustyaudio $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(PROGRAM) $(DESTDIR)$(PREFIX)/bin/rusty-audio
	install -m 644 $(LIBRARY) $(DESTDIR)$(PREFIX)/lib/librustyaudio.a
	install -m 644 include/rustyaudio/*.h $(DESTDIR)$(PREFIX)/include/rustyaudio/
	install -m 644 man/rusty-audio.1 $(DESTDIR)$(PREFIX)/share/man/man1/rusty-audio.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/rusty-audio $(DESTDIR)$(PREFIX)/lib/librustyaudio.a \
		$(DESTDIR)$(PREFIX)/share/man/man1/rusty-audio.1
	rm -rf $(DESTDIR)$(PREFIX)/include/rustyaudio

# Installs clang-format and cppcheck first when they are missing.
lint:
	@sh scripts/install-deps.sh --lint
	clang-format --dry-run --Werror $(LIB_SRC) $(CLI_SRC) $(TEST_SRC) $(TEST_SUPPORT) \
		include/rustyaudio/*.h src/cli/*.h tests/*.h bench/*.c bench/*.h
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Iinclude src tests bench

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:=.d) $(TEST_SUPPORT_OBJ:.o=.d) $(BENCH_BIN:=.d) \
	$(BENCH_SUPPORT_OBJ:.o=.d)
