# fusebox -- see README.md. `make run` and `make test` do all the set-up.

VERSION  := 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
DATADIR  ?= $(PREFIX)/share/fusebox
DESTDIR  ?=
CC       ?= cc
CFLAGS   ?= -O2 -g
PKG_CONFIG ?= pkg-config

PKGS      := ncursesw libcurl hiredis inih libcjson
TEST_PKGS := cmocka
# Debian packages: what we build with, test with and benchmark against.
DEB_BUILD := build-essential pkg-config libncurses-dev libcurl4-openssl-dev \
             libhiredis-dev libinih-dev libcjson-dev
DEB_TEST  := libcmocka-dev redis-server tmux curl python3-prometheus-client
DEB_BENCH := nginx-light jq time

WARN     := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion \
            -Wno-sign-conversion
CPPFLAGS += -D_GNU_SOURCE -DFB_VERSION='"$(VERSION)"' -DFB_DATADIR='"$(DATADIR)"' \
            -Iinclude -Isrc
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
LDLIBS   += $(PKG_LIBS) -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

CORE_SRC := $(wildcard src/core/*.c)
LIB_SRC  := $(CORE_SRC) $(filter-out src/main.c,$(wildcard src/*.c)) \
            $(wildcard src/console/*.c)
LIB_OBJ  := $(LIB_SRC:src/%.c=build/obj/%.o)
MAIN_OBJ := build/obj/main.o

# The test build: same sources, with sanitizers.
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer
T_OBJ    := $(LIB_SRC:src/%.c=build/asan/%.o)
T_MAIN   := build/asan/main.o
T_SUITES := $(patsubst tests/%.c,build/tests/%,$(wildcard tests/test_*.c))
T_LIBS   := $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)
T_HELPER := build/asan/tests/helpers.o

BENCHES  := $(patsubst tests/bench/%.c,build/bench/%,$(wildcard tests/bench/bench_*.c)) \
            $(wildcard tests/bench/bench_*.sh)

.PHONY: all test run deps bench install uninstall clean
.SECONDARY:

all: fusebox libfusebox.a

fusebox: $(MAIN_OBJ) libfusebox.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

libfusebox.a: $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

build/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (sanitized)"
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g $(SAN) -MMD -MP -c -o $@ $<

build/asan/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g $(SAN) -MMD -MP -c -o $@ $<

build/tests/%: tests/%.c $(T_OBJ) $(T_HELPER)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (test)"
	$(Q)$(CC) $(WARN) -Wno-conversion $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g $(SAN) \
	  -o $@ $< $(T_HELPER) $(T_OBJ) $(T_LIBS) $(LDLIBS)

# The program itself, sanitized, for the end-to-end suites.
build/tests/fusebox: $(T_MAIN) $(T_OBJ)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN) -o $@ $^ $(LDLIBS)

build/tests/fixture-httpd: tests/fixture/httpd.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) -O1 -g $(SAN) -o $@ $<

build/bench/%: tests/bench/%.c libfusebox.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) $(PKG_CFLAGS) -O2 -o $@ $< libfusebox.a $(LDLIBS)

test: deps $(T_SUITES) build/tests/fusebox build/tests/fixture-httpd
	$(Q)tests/run-suites $(T_SUITES)

bench: deps all $(BENCHES) build/bench/replay_index
	$(Q)tests/bench/run $(BENCHES)

run: deps all build/tests/fixture-httpd
	$(Q)tests/demo/run

# Installs the Debian packages we need when they are missing.
deps:
	$(Q)missing=""; for p in $(DEB_BUILD) $(DEB_TEST) $(DEB_BENCH); do \
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

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)/fusebox $(DESTDIR)$(DATADIR)/themes
	install -m 0755 fusebox $(DESTDIR)$(BINDIR)/fusebox
	install -m 0644 libfusebox.a $(DESTDIR)$(LIBDIR)/libfusebox.a
	install -m 0644 include/fusebox/*.h $(DESTDIR)$(INCDIR)/fusebox/
	install -m 0644 themes/*.ini $(DESTDIR)$(DATADIR)/themes/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/fusebox $(DESTDIR)$(LIBDIR)/libfusebox.a
	rm -rf $(DESTDIR)$(INCDIR)/fusebox $(DESTDIR)$(DATADIR)

clean:
	rm -rf build fusebox libfusebox.a

-include $(shell find build -name '*.d' 2>/dev/null)
