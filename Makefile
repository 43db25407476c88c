# cryo: one plain GNU Makefile.  Out-of-tree objects in $(BUILD)/.
#   make            build libcryo and the tools into $(BUILD)/bin
#   make check      install deps, build, run unit + CLI tests (root for CLI)
#   make asan       the same suite under AddressSanitizer + UBSan
#   make fuzz       build the libFuzzer targets with clang and run each briefly
#   make bench      performance side by side with runc/docker (see docs)
#   make demo       a sacrificial container, frozen and thawed, with custody
#   make install    PREFIX=/usr/local DESTDIR=

BUILD    ?= build
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
CC       ?= cc
PKGS     := libcjson libnl-3.0 libnl-route-3.0 libsodium libarchive libzstd libcap libmicrohttpd libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) openssl 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcjson -lnl-route-3 -lnl-3 -lsodium -larchive -lzstd -lcap -lmicrohttpd -lseccomp)

# snprintf truncation is by design for bounded display fields; paths that
# must not be cut are length-checked where they are built.
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-unused-parameter \
            -Wstrict-prototypes -Wmissing-prototypes -Wvla \
            $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),,-Wno-format-truncation)
HARDEN   := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection -fPIE -fcf-protection
OPT      ?= -O2 -g
SAN      ?=
CFLAGS   ?=
override CFLAGS += -std=gnu11 $(OPT) $(WARN) $(if $(SAN),,$(HARDEN)) $(SAN) \
            -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS)
override LDFLAGS += -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(SAN)
LDLIBS   := $(PKG_LIBS)

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBCRYO  := $(BUILD)/libcryo.a
TOOLS    := $(notdir $(wildcard tools/*))
BINS     := $(foreach t,$(TOOLS),$(BUILD)/bin/$(if $(filter cryo,$(t)),cryo,cryo-$(t)))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPERS  := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/helpers/%)
TESTTOOL_SRC := $(wildcard tests/tools/*.c)
TESTTOOLS := $(TESTTOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
REPLAYERS := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/replay/%)

.SECONDARY:
.PHONY: print-pkgs all check test asan fuzz bench demo install deps clean helpers units replayers
all: $(BINS)

# for scripts/fuzz, which builds the library with clang itself
print-pkgs:
	@echo $(PKGS)

$(BUILD)/%.o: %.c $(wildcard include/cryo/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBCRYO): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/cryo: $(BUILD)/tools/cryo/main.o $(LIBCRYO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/cryo-%: $(BUILD)/tools/%/main.o $(LIBCRYO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%.o: tests/unit/check.h
$(BUILD)/tests/fuzz/%.o: $(wildcard tests/fuzz/*.h)

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(LIBCRYO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Stand-ins for tools not written yet, linked with libcryo like a tool.
$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIBCRYO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Helpers run inside the busybox root filesystem: static, no libc there.
$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<

# Fuzz targets double as plain replayers of their committed corpus.
$(BUILD)/replay/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(LIBCRYO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

units: $(UNITS)
helpers: $(HELPERS) $(TESTTOOLS)
replayers: $(REPLAYERS)

deps:
	@scripts/install-deps

check: deps
	@$(MAKE) --no-print-directory all units helpers replayers
	@BUILD=$(abspath $(BUILD)) tests/run

test: all units helpers replayers
	@BUILD=$(abspath $(BUILD)) tests/run

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		all units helpers replayers
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		BUILD=$(abspath build-asan) tests/run

FUZZ_TIME ?= 20
fuzz: deps
	@scripts/fuzz $(FUZZ_TIME)

bench: deps
	@$(MAKE) --no-print-directory all helpers
	@BUILD=$(abspath $(BUILD)) scripts/bench

demo: deps
	@$(MAKE) --no-print-directory all helpers
	@BUILD=$(abspath $(BUILD)) scripts/demo

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 0644 docs/man/*.1 $(DESTDIR)$(MANDIR)/man1/

clean:
	rm -rf build build-asan build-fuzz
