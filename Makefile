# fusebox -- see README.md. `make run` and `make test` do all the set-up.
#
# What gets built:
#   fusebox          the front: every command that only reads a config or a
#                    log or talks to the control socket; links libc, inih
#                    and cJSON alone, so `gate check` starts fast
#   fusebox-engine   every command, including those that need libcurl,
#                    hiredis, libsystemd or ncursesw (console, run, call,
#                    status --probe); the front hands those over to it
#   libfusebox.so.0, libfusebox.a
#                    the library for services: the pure core, the config
#                    loader and the gate client; only fb_ symbols exported

VERSION   := 0.1.0
SOVERSION := 0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
LIBDIR    ?= $(PREFIX)/lib
LIBEXECDIR ?= $(PREFIX)/libexec/fusebox
INCDIR    ?= $(PREFIX)/include
SHAREDIR  ?= $(PREFIX)/share
DATADIR   ?= $(SHAREDIR)/fusebox
MANDIR    ?= $(SHAREDIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR  ?= $(SHAREDIR)/bash-completion/completions
ZSHCOMPDIR   ?= $(SHAREDIR)/zsh/vendor-completions
UNITDIR      ?= $(PREFIX)/lib/systemd/system
USERUNITDIR  ?= $(PREFIX)/lib/systemd/user
SYSUSERSDIR  ?= $(PREFIX)/lib/sysusers.d
DESTDIR   ?=
CC        ?= cc
CFLAGS    ?= -O2 -g
PKG_CONFIG ?= pkg-config

# pkg-config names: what each part links.
LIB_PKGS    := inih libcjson libcurl
# What fusebox.pc requires: libcurl is named in Libs.private instead, as
# -lcurl, since its own static dependencies are rarely all installed.
PC_PKGS     := inih libcjson
FRONT_PKGS  := inih libcjson
ENGINE_PKGS := ncursesw libcurl hiredis inih libcjson libsystemd
TEST_PKGS   := cmocka
# Debian packages: to build, to test (also what `make run` uses), and to
# benchmark against (only `make bench` installs those).
DEB_BUILD := build-essential pkg-config libncurses-dev libcurl4-openssl-dev \
             libhiredis-dev libinih-dev libcjson-dev libsystemd-dev
DEB_TEST  := libcmocka-dev redis-server tmux curl binutils man-db groff-base \
             mandoc python3 python3-prometheus-client bash-completion zsh faketime
DEB_BENCH := nginx-light jq time

# pkg-config runs when a recipe first needs its answer, never while the
# Makefile is read: `make test` on a bare machine installs the packages
# (deps) before anything asks pkg-config about them. Each answer is then
# kept for the rest of the run.
pkg = $(or $(shell $(PKG_CONFIG) $(1) $(2)),$(if $(shell $(PKG_CONFIG) --exists $(2) || echo missing),$(error pkg-config: missing $(2); run `make deps`)))
lazy = $(eval $(1) := $(2))$($(1))
LIB_CFLAGS    = $(call lazy,LIB_CFLAGS,$(call pkg,--cflags,$(LIB_PKGS)))
LIB_LIBS      = $(call lazy,LIB_LIBS,$(call pkg,--libs,$(LIB_PKGS)))
FRONT_LIBS    = $(call lazy,FRONT_LIBS,$(call pkg,--libs,$(FRONT_PKGS)))
ENGINE_CFLAGS = $(call lazy,ENGINE_CFLAGS,$(call pkg,--cflags,$(ENGINE_PKGS)))
ENGINE_LIBS   = $(call lazy,ENGINE_LIBS,$(call pkg,--libs,$(ENGINE_PKGS)))
TEST_LIBS     = $(call lazy,TEST_LIBS,$(call pkg,--libs,$(TEST_PKGS)))

WARN     := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion \
            -Wno-sign-conversion
CPPFLAGS += -D_GNU_SOURCE -DFB_VERSION='"$(VERSION)"' \
            -DFB_LIBEXECDIR='"$(LIBEXECDIR)"' -Iinclude -Isrc -Ibuild/gen
SYSLIBS  := -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC    := $(wildcard src/core/*.c) \
              $(addprefix src/,config.c config_check.c config_env.c tunables.c inireader.c \
                client.c clock.c client_http.c client_curl.c client_status.c client_peer.c reporter.c)
FRONT_SRC  := $(addprefix src/,main.c front.c cli_help.c cli_config.c cli_ctl.c \
                cli_status.c cli_fleet.c cli_events.c metrics.c cli_replay.c cli_whatif.c whatif.c whatif_sim.c whatif_print.c \
                logread.c logscan.c jsonout.c timeline.c replay.c \
                eventlog.c cli_health.c cli_gate_exec.c)
# The engine: every other file of src/, and the console.
ENGINE_SRC := $(filter-out $(LIB_SRC) src/front.c,$(wildcard src/*.c)) \
              $(wildcard src/console/*.c)
GEN_SRC    := build/gen/themes_builtin.c

LIB_PIC    := $(LIB_SRC:src/%.c=build/pic/%.o)
FRONT_OBJ  := $(FRONT_SRC:src/%.c=build/obj/%.o)
ENGINE_OBJ := $(ENGINE_SRC:src/%.c=build/obj/%.o) build/obj/gen/themes_builtin.o
# The engine's objects but main: what benchmarks link.
INTERNAL_A := build/fusebox-internal.a

SO_NAME  := libfusebox.so.$(SOVERSION)
SO_FILE  := libfusebox.so.$(VERSION)

# The test build: the same sources, with sanitizers.
SAN      := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer
T_LIB    := $(LIB_SRC:src/%.c=build/asan/%.o)
T_ENGINE := $(ENGINE_SRC:src/%.c=build/asan/%.o) build/asan/gen/themes_builtin.o
T_FRONT  := $(FRONT_SRC:src/%.c=build/asan/%.o)
# What suites link: everything but the programs' main and the front.
T_OBJ    := $(T_LIB) $(filter-out build/asan/main.o,$(T_ENGINE))
T_SUITES := $(patsubst tests/%.c,build/tests/%,$(wildcard tests/test_*.c))
T_SCRIPTS := $(wildcard tests/test_*.sh)
T_HELPER := build/asan/tests/helpers.o build/asan/tests/fleet_world.o
T_PROGS  := build/tests/fusebox build/tests/fusebox-engine \
            build/tests/fixture-httpd

EXAMPLES := $(patsubst examples/%.c,build/examples/%,$(wildcard examples/*.c))
BENCHES  := $(patsubst tests/bench/%.c,build/bench/%,$(wildcard tests/bench/bench_*.c)) \
            $(wildcard tests/bench/bench_*.sh)

.PHONY: all test test-build run deps deps-bench bench soak lint clean-objects install uninstall clean
.SECONDARY:

all: fusebox fusebox-engine libfusebox.a $(SO_FILE)

fusebox: $(FRONT_OBJ) libfusebox.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(FRONT_LIBS) $(SYSLIBS)

fusebox-engine: build/obj/main.o $(INTERNAL_A) libfusebox.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(ENGINE_LIBS) $(SYSLIBS)

$(INTERNAL_A): $(filter-out build/obj/main.o,$(ENGINE_OBJ))
	$(Q)$(AR) rcs $@ $^

libfusebox.a: $(LIB_PIC)
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

$(SO_FILE): $(LIB_PIC) src/libfusebox.map
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SO_NAME) \
	  -Wl,--version-script,src/libfusebox.map -Wl,--no-undefined \
	  -o $@ $(LIB_PIC) $(LIB_LIBS) $(SYSLIBS)
	$(Q)ln -sf $@ $(SO_NAME)
	$(Q)ln -sf $(SO_NAME) libfusebox.so

# The built-in themes (the fallback when no theme file is found) are the
# bundled default and mono files, compiled in.
build/gen/themes_builtin.c: themes/default.ini themes/mono.ini src/console/themes-builtin.sh
	@mkdir -p $(dir $@)
	$(Q)src/console/themes-builtin.sh themes/default.ini themes/mono.ini >$@

build/pic/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (library)"
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(LIB_CFLAGS) $(CFLAGS) -fPIC -MMD -MP -c -o $@ $<

build/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(ENGINE_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

build/asan/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) -O1 -g $(SAN) -c -o $@ $<

build/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (sanitized)"
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(ENGINE_CFLAGS) -O1 -g $(SAN) -MMD -MP -c -o $@ $<

build/asan/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(ENGINE_CFLAGS) -O1 -g $(SAN) -MMD -MP -c -o $@ $<

build/tests/%: tests/%.c $(T_OBJ) $(T_HELPER)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (test)"
	$(Q)$(CC) $(WARN) -Wno-conversion $(CPPFLAGS) $(ENGINE_CFLAGS) -O1 -g $(SAN) \
	  -o $@ $< $(T_HELPER) $(T_OBJ) $(TEST_LIBS) $(ENGINE_LIBS) $(SYSLIBS)

# The programs themselves, sanitized, for the end-to-end suites.
# The front links the library as an archive, as the real one does: it
# pulls no libcurl (the HTTP client's objects) in.
build/asan/libfusebox.a: $(T_LIB)
	$(Q)$(AR) rcs $@ $^

build/tests/fusebox: $(T_FRONT) build/asan/libfusebox.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN) -o $@ $^ $(FRONT_LIBS) $(SYSLIBS)

build/tests/fusebox-engine: $(T_LIB) $(T_ENGINE)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN) -o $@ $^ $(ENGINE_LIBS) $(SYSLIBS)

build/tests/fixture-httpd: tests/fixture/httpd.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) -O1 -g $(SAN) -o $@ $<

build/bench/%: tests/bench/%.c $(INTERNAL_A) libfusebox.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(ENGINE_CFLAGS) -O2 -o $@ $< $(INTERNAL_A) \
	  libfusebox.a $(ENGINE_LIBS) $(SYSLIBS)

# examples/, built as a program outside fusebox builds them: through
# pkg-config, with a fusebox.pc that names the build tree.
build/pkgconfig/fusebox.pc: src/fusebox.pc.in Makefile
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@PREFIX@|$(CURDIR)|g' -e 's|@LIBDIR@|$(CURDIR)|g' \
	  -e 's|@INCDIR@|$(CURDIR)/include|g' -e 's|@VERSION@|$(VERSION)|g' \
	  -e 's|@LIB_PKGS@|$(PC_PKGS)|g' $< >$@

build/examples/%: examples/%.c build/pkgconfig/fusebox.pc $(SO_FILE)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (example, through pkg-config)"
	$(Q)$(CC) -std=c11 -Wall -Wextra -Wpedantic -O2 -o $@ $< \
	  $$(PKG_CONFIG_PATH=build/pkgconfig $(PKG_CONFIG) --cflags --libs fusebox) \
	  -Wl,-rpath,$(CURDIR)

# The targets that install packages first run the rest in a new make, so
# that every pkg-config answer comes after the install.
test: deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)tests/run-suites $(T_SUITES) $(T_SCRIPTS)

test-build: $(T_SUITES) $(T_PROGS) all $(EXAMPLES)

run: deps
	$(Q)$(MAKE) --no-print-directory all build/tests/fixture-httpd
	$(Q)tests/demo/run

bench: deps deps-bench
	$(Q)$(MAKE) --no-print-directory all $(BENCHES) build/bench/replay_index
	$(Q)tests/bench/run $(BENCHES)

# Not in `make test`: SOAK_MIN minutes (default 3) of kill -9, faults and
# abuse, then the whole log checked.
soak: deps
	$(Q)$(MAKE) --no-print-directory all build/tests/fixture-httpd
	$(Q)tests/soak

# Installs the Debian packages we need when they are missing; never calls
# apt-get when nothing is missing.
install_debs = missing=""; for p in $(1); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "  DEPS   $$missing"; \
	    apt-get install -y -q $$missing >/dev/null || \
	    { apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null; } || exit 1; \
	  else \
	    echo "fusebox: missing packages; run: sudo apt-get install -y$$missing" >&2; exit 1; \
	  fi; \
	fi

deps:
	$(Q)$(call install_debs,$(DEB_BUILD) $(DEB_TEST))

deps-bench:
	$(Q)$(call install_debs,$(DEB_BENCH))

# What `make install` puts down, each file once; uninstall removes exactly
# these.
INSTALLED := $(BINDIR)/fusebox $(LIBEXECDIR)/fusebox-engine \
             $(LIBDIR)/libfusebox.a $(LIBDIR)/$(SO_FILE) $(LIBDIR)/$(SO_NAME) \
             $(LIBDIR)/libfusebox.so $(PKGCONFIGDIR)/fusebox.pc \
             $(addprefix $(INCDIR)/,$(patsubst include/%,%,$(wildcard include/fusebox/*.h))) \
             $(addprefix $(DATADIR)/themes/,$(notdir $(wildcard themes/*.ini))) \
             $(MANDIR)/man1/fusebox.1 $(MANDIR)/man5/fusebox.conf.5 \
             $(MANDIR)/man3/libfusebox.3 $(BASHCOMPDIR)/fusebox $(ZSHCOMPDIR)/_fusebox \
             $(UNITDIR)/fusebox.service $(USERUNITDIR)/fusebox.service \
             $(SYSUSERSDIR)/fusebox.conf

# fusebox.pc is written at install time: it names the prefix installed to.
install: all
	@mkdir -p build
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	  -e 's|@INCDIR@|$(INCDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	  -e 's|@LIB_PKGS@|$(PC_PKGS)|g' src/fusebox.pc.in >build/fusebox.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(LIBDIR) \
	  $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCDIR)/fusebox $(DESTDIR)$(DATADIR)/themes
	install -m 0755 fusebox $(DESTDIR)$(BINDIR)/fusebox
	install -m 0755 fusebox-engine $(DESTDIR)$(LIBEXECDIR)/fusebox-engine
	install -m 0644 libfusebox.a $(DESTDIR)$(LIBDIR)/libfusebox.a
	install -m 0755 $(SO_FILE) $(DESTDIR)$(LIBDIR)/$(SO_FILE)
	ln -sf $(SO_FILE) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libfusebox.so
	install -m 0644 build/fusebox.pc $(DESTDIR)$(PKGCONFIGDIR)/fusebox.pc
	install -m 0644 include/fusebox/*.h $(DESTDIR)$(INCDIR)/fusebox/
	install -m 0644 themes/*.ini $(DESTDIR)$(DATADIR)/themes/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0644 src/man/fusebox.1 $(DESTDIR)$(MANDIR)/man1/fusebox.1
	install -m 0644 src/man/fusebox.conf.5 $(DESTDIR)$(MANDIR)/man5/fusebox.conf.5
	install -m 0644 src/man/libfusebox.3 $(DESTDIR)$(MANDIR)/man3/libfusebox.3
	install -m 0644 src/shell/fusebox.bash $(DESTDIR)$(BASHCOMPDIR)/fusebox
	install -m 0644 src/shell/_fusebox $(DESTDIR)$(ZSHCOMPDIR)/_fusebox
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(USERUNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' src/systemd/fusebox.service >$(DESTDIR)$(UNITDIR)/fusebox.service
	sed 's|@BINDIR@|$(BINDIR)|g' src/systemd/user/fusebox.service >$(DESTDIR)$(USERUNITDIR)/fusebox.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/fusebox.service $(DESTDIR)$(USERUNITDIR)/fusebox.service
	install -m 0644 src/systemd/fusebox.sysusers $(DESTDIR)$(SYSUSERSDIR)/fusebox.conf

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(INCDIR)/fusebox $(DESTDIR)$(DATADIR)/themes \
	  $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

clean:
	rm -rf build fusebox fusebox-engine libfusebox.a libfusebox.so*

# What `all` builds, so that scan-build sees every file compiled.
clean-objects:
	rm -rf build/obj build/pic build/fusebox-internal.a fusebox fusebox-engine \
	  libfusebox.a libfusebox.so*

-include $(shell find build -name '*.d' 2>/dev/null)

# ---- hostile input: fuzzing, allocation failure, threads, coverage -------
# (issue 14; kept in one block.) The fuzz targets are built with clang and
# libFuzzer; `make test` runs each over its corpus plus a few seconds
# (tests/test_fuzz.sh), `make fuzz` for FUZZ_S seconds each.
FUZZ_CC  ?= clang
FUZZ_S   ?= 60
DEB_FUZZ := clang libclang-rt-14-dev
DEB_COVERAGE := lcov
DEB_TEST += $(DEB_FUZZ)
# Integer checks on, but for the unsigned wraparound that hashes, the rng
# and the word-at-a-time byte tests mean (tests/fuzz/ignorelist.txt).
FUZZ_SAN := -fsanitize=address,undefined,float-cast-overflow,integer \
            -fno-sanitize-recover=all -fno-omit-frame-pointer \
            -fsanitize-ignorelist=tests/fuzz/ignorelist.txt
FUZZ_SRC := $(LIB_SRC) $(filter-out src/main.c,$(ENGINE_SRC))
F_OBJ    := $(FUZZ_SRC:src/%.c=build/fuzz/obj/%.o) \
            build/fuzz/obj/gen/themes_builtin.o build/fuzz/obj/tests/fuzz.o
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
F_CFLAGS  = $(WARN) -Wno-conversion $(CPPFLAGS) -Itests/fuzz $(ENGINE_CFLAGS) -O1 -g

.PHONY: fuzz fuzz-build tsan coverage deps-coverage

build/fuzz/obj/%.o: src/%.c tests/fuzz/ignorelist.txt
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(F_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP -c -o $@ $<

build/fuzz/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(F_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<

build/fuzz/obj/tests/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(F_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP -c -o $@ $<

build/fuzz/libfuzzed.a: $(F_OBJ)
	$(Q)$(AR) rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h build/fuzz/libfuzzed.a
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(F_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< \
	  build/fuzz/libfuzzed.a $(ENGINE_LIBS) $(SYSLIBS)

fuzz-build: $(FUZZ_TARGETS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)tests/fuzz/run $(FUZZ_S) $(FUZZ_TARGETS)

test-build: $(FUZZ_TARGETS)

# Allocation failure (tests/test_alloc.c): every allocation of our own
# code goes through the suite's wrapper, which fails the N-th.
ALLOC_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc,--wrap=strdup,--wrap=strndup
build/tests/test_alloc: tests/test_alloc.c $(T_OBJ) $(T_HELPER)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (test, failing allocations)"
	$(Q)$(CC) $(WARN) -Wno-conversion $(CPPFLAGS) $(ENGINE_CFLAGS) -O1 -g $(SAN) \
	  -o $@ $< $(T_HELPER) $(T_OBJ) $(ALLOC_WRAP) $(TEST_LIBS) $(ENGINE_LIBS) $(SYSLIBS)

# Threads (`make tsan`): the replay index (two parsing threads), the
# breaker's lock-free hot path and everything the replay suite drives,
# built with ThreadSanitizer. The suites run in build/tsan/root, where
# build/tests/ holds the TSan programs.
TSAN       := -fsanitize=thread -fno-omit-frame-pointer
TSAN_OBJ   := $(LIB_SRC:src/%.c=build/tsan/obj/%.o) \
              $(filter-out build/tsan/obj/main.o,$(ENGINE_SRC:src/%.c=build/tsan/obj/%.o)) \
              build/tsan/obj/gen/themes_builtin.o
TSAN_SUITES := build/tsan/tests/test_replay build/tsan/tests/test_breaker \
               build/tsan/tests/test_client_http

build/tsan/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) -O1 -g $(TSAN) -c -o $@ $<

build/tsan/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (thread sanitizer)"
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(ENGINE_CFLAGS) -O1 -g $(TSAN) -MMD -MP -c -o $@ $<

build/tsan/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(ENGINE_CFLAGS) -O1 -g $(TSAN) -MMD -MP -c -o $@ $<

build/tsan/tests/test_%: tests/test_%.c $(TSAN_OBJ) build/tsan/obj/tests/helpers.o
	@mkdir -p $(dir $@)
	@echo "  CC      $< (test, thread sanitizer)"
	$(Q)$(CC) $(WARN) -Wno-conversion $(CPPFLAGS) $(ENGINE_CFLAGS) -O1 -g $(TSAN) \
	  -o $@ $< build/tsan/obj/tests/helpers.o $(TSAN_OBJ) $(TEST_LIBS) $(ENGINE_LIBS) $(SYSLIBS)

build/tsan/libfusebox.a: $(LIB_SRC:src/%.c=build/tsan/obj/%.o)
	$(Q)$(AR) rcs $@ $^

build/tsan/tests/fusebox: $(FRONT_SRC:src/%.c=build/tsan/obj/%.o) build/tsan/libfusebox.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(TSAN) -o $@ $^ $(FRONT_LIBS) $(SYSLIBS)

build/tsan/tests/fusebox-engine: build/tsan/obj/main.o $(TSAN_OBJ)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(TSAN) -o $@ $^ $(ENGINE_LIBS) $(SYSLIBS)

build/tsan/tests/fixture-httpd: tests/fixture/httpd.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) -O1 -g $(TSAN) -o $@ $<

tsan: deps
	$(Q)$(MAKE) --no-print-directory $(TSAN_SUITES) build/tsan/tests/fusebox \
	  build/tsan/tests/fusebox-engine build/tsan/tests/fixture-httpd
	$(Q)rm -rf build/tsan/root && mkdir -p build/tsan/root/build && \
	  for d in src tests themes; do ln -s $(CURDIR)/$$d build/tsan/root/$$d; done && \
	  ln -s $(CURDIR)/build/tsan/tests build/tsan/root/build/tests
	$(Q)cd build/tsan/root && FUSEBOX_THEMES=$(CURDIR)/themes \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ASAN_OPTIONS= ../../../tests/run-suites $(addprefix ../../../,$(TSAN_SUITES))

# The fuzz targets without libFuzzer: each runs over the files or corpus
# folders given (tests/fuzz/replay.c), in the ordinary test build. What
# coverage uses, and a debugger.
build/fuzzrun/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.c tests/fuzz/replay.c $(T_OBJ)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) -Wno-conversion $(CPPFLAGS) -Itests/fuzz $(ENGINE_CFLAGS) -O1 -g \
	  $(SAN) -o $@ tests/fuzz/fuzz_$*.c tests/fuzz/fuzz.c tests/fuzz/replay.c \
	  $(T_OBJ) $(ENGINE_LIBS) $(SYSLIBS)

# Coverage (`make coverage`): a copy of the tree in build/cov/tree built
# with gcov instead of the sanitizers, every suite run (the fuzz suite
# aside), then every fuzz corpus; lcov reports lines and branches of
# src/core/ and of the parsers; the HTML report is build/cov/html.
COV_PARSERS := src/core/parse.c src/core/url.c src/core/sanitize.c src/config.c \
               src/config_env.c src/tunables.c src/inireader.c src/logread.c src/logscan.c \
               src/eventlog.c src/control.c src/console/theme.c
LCOV := lcov --quiet --rc lcov_branch_coverage=1
# test_alloc needs the sanitizers' leak checker: not in a gcov build
COV_SUITES = $(filter-out build/tests/test_alloc,$(T_SUITES))
deps-coverage:
	$(Q)$(call install_debs,$(DEB_COVERAGE))

coverage: deps deps-coverage
	$(Q)rm -rf build/cov && mkdir -p build/cov/tree
	$(Q)cp -a Makefile config.ini.example include src tests themes build/cov/tree/
	$(Q)$(MAKE) -C build/cov/tree --no-print-directory SAN=--coverage FUZZ_TARGETS= \
	  T_SUITES="$(COV_SUITES)" test-build \
	  $(patsubst tests/fuzz/%.c,build/fuzzrun/%,$(wildcard tests/fuzz/fuzz_*.c))
	$(Q)cd build/cov/tree && tests/run-suites $(COV_SUITES) \
	  $(filter-out tests/test_fuzz.sh,$(T_SCRIPTS)) || echo "coverage: some suites failed (above)"
	$(Q)cd build/cov/tree && for f in build/fuzzrun/fuzz_*; do \
	  $$f tests/fuzz/corpus/$${f##*/fuzz_} || echo "coverage: $$f failed"; done
	$(Q)$(LCOV) --capture --directory build/cov/tree/build/asan -o build/cov/all.info
	$(Q)$(LCOV) --extract build/cov/all.info '*/src/core/*' -o build/cov/core.info
	$(Q)$(LCOV) --extract build/cov/all.info $(addprefix '*/,$(addsuffix ',$(COV_PARSERS))) \
	  -o build/cov/parsers.info
	$(Q)genhtml --quiet --branch-coverage -o build/cov/html build/cov/all.info
	@echo "src/core/:"; $(LCOV) --summary build/cov/core.info 2>&1 | grep -E 'lines|branches'
	@echo "parsers ($(COV_PARSERS)):"; $(LCOV) --summary build/cov/parsers.info 2>&1 | grep -E 'lines|branches'

# Static analysis: cppcheck and clang's scan-build over the tree; both must
# find nothing (a finding that is wrong is suppressed inline, with why).
DEB_LINT := cppcheck clang-tools-14
lint:
	$(Q)$(call install_debs,$(DEB_LINT))
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --std=c11 -D_GNU_SOURCE -Iinclude -Isrc src
	rm -rf build/scan && $(MAKE) --no-print-directory clean-objects
	scan-build --status-bugs -o build/scan $(MAKE) --no-print-directory -j2 all
