# mod_tls: build the Rust binding (offline, from Debian's crate sources)
# and the Apache module with apxs.
#
#   make            build build/mod_tls.so
#   make test       everything the suite checks (same as .ci/run)
#   make install    install the module and tls.load/tls.conf for a2enmod
#   make bench      the side-by-side benchmark with mod_ssl (see docs/)
#   make header     regenerate rtls/include/rtls.h from the Rust code (cbindgen)
#   make sanitize   build/asan/mod_tls.so, the module with ASan/LeakSanitizer/UBSan, and
#                   build/asan/preload, the runtime apache2 must preload to load it
#                   (scripts/test.sh runs the suite against it too; docs/reliability.md)
#
# Variables: APXS (default apxs), CARGO (default: Debian's, see scripts/lib.sh), DESTDIR,
# SAN_CC (compiler of the sanitizer build, default clang),
# MODTLS_CRATES (a registry directory holding the locked crates; default: scripts/crates.sh).

APXS     ?= apxs
CARGO    ?= cargo
BUILD    := build
# Where cargo finds the crates (Debian 13's librust-*-dev sources): see scripts/crates.sh.
CRATES   := $(shell scripts/crates.sh dir)
CARGO_SRC := --config 'source.debian.directory="$(CRATES)"'
RTLS_LIB := rtls/target/release/librtls.a

SRC := src/mod_tls.c src/tls_cache.c src/tls_cert.c src/tls_clientcert.c src/tls_conf.c src/tls_core.c src/tls_filter.c \
       src/tls_proto.c src/tls_proxy.c src/tls_server.c src/tls_setup.c src/tls_util.c src/tls_var.c \
       src/tls_acme.c src/tls_ocsp.c
HDR := $(wildcard src/*.h) rtls/include/rtls.h
RS  := $(wildcard rtls/src/*.rs) rtls/Cargo.toml rtls/Cargo.lock rtls/.cargo/config.toml

# Warnings are errors. (apxs passes each -Wc,... to the compiler.)
WARN := -std=gnu99 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wmissing-declarations -Wpointer-arith -Wformat=2 -Wformat-security -Wcast-align \
        -Wwrite-strings -Wundef -Wno-unused-parameter
APXS_CFLAGS := $(foreach w,$(WARN),-Wc,$(w)) -I $(CURDIR)/rtls/include
APXS_LDFLAGS := -Wl,-Wl,--version-script=$(CURDIR)/src/exports.map -Wl,-Wl,--gc-sections

MODDIR  = $(shell $(APXS) -q LIBEXECDIR)
SYSCONF = $(shell $(APXS) -q SYSCONFDIR)

.PHONY: all rtls test install clean bench demo header sanitize

all: $(BUILD)/mod_tls.so

rtls: $(RTLS_LIB)

$(RTLS_LIB): $(RS) $(BUILD)/crates.stamp
	cd rtls && $(CARGO) build --release --offline --locked $(CARGO_SRC)

# The crate sources of every Cargo.lock (fetched once; again when a lock changes).
$(BUILD)/crates.stamp: rtls/Cargo.lock bench/hsload/Cargo.lock bench/callgrind/Cargo.lock scripts/crates.sh
	scripts/crates.sh fetch
	@mkdir -p $(BUILD) && touch $@

# $(call apxs_build,DIR,EXTRA_APXS_FLAGS): compile $(SRC) with apxs in DIR/obj into DIR/mod_tls.so
define apxs_build
	@mkdir -p $(1)/obj
	@cp $(SRC) $(HDR) $(1)/obj/
	@echo "  APXS  $@ (log: $(1)/apxs.log)"
	@cd $(1)/obj && $(APXS) -c -o mod_tls.la $(APXS_CFLAGS) $(APXS_LDFLAGS) $(2) \
	    $(notdir $(SRC)) $(CURDIR)/$(RTLS_LIB) -lpthread -ldl -lm >../apxs.log 2>&1 \
	    || { grep -E "error|warning" ../apxs.log || cat ../apxs.log; exit 1; }
	@# a new file, not a rewrite in place: a running httpd keeps its mapping
	cp $(1)/obj/.libs/mod_tls.so $@.tmp && mv -f $@.tmp $@
endef

$(BUILD)/mod_tls.so: $(SRC) $(HDR) $(RTLS_LIB) src/exports.map Makefile
	$(call apxs_build,$(BUILD))

# The sanitizer build (docs/reliability.md): the C code with AddressSanitizer (LeakSanitizer
# included) and UBSan, every finding fatal, at -O1 with frame pointers for usable stacks.
# Compiled by clang (SAN_CC) because its ASan runtime carries UBSan too: one preloaded library,
# one log_path for every report (gcc's separate libubsan writes to stderr whatever log_path
# says). Warnings are not errors here: the gcc build above enforces the warning set, and clang
# adds some on APR's macros (cast-align in APR_ARRAY_IDX, the {NULL} ending a directive table);
# they stay in build/asan/apxs.log. rtls is the same static library, not instrumented (Rust;
# its allocations still go through the malloc ASan intercepts, so leaks of Rust objects are
# seen). apache2 is not instrumented either, so the ASan runtime has to be the first library of
# the process: build/asan/preload names it, for LD_PRELOAD (MODTLS_TEST_PRELOAD of the suite).
ASAN_DIR := $(BUILD)/asan
SAN_CC   ?= clang
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g -Wno-error
SAN_RT    = $(shell $(SAN_CC) -print-file-name=libclang_rt.asan-$$(uname -m).so)

sanitize: $(ASAN_DIR)/mod_tls.so $(ASAN_DIR)/preload

$(ASAN_DIR)/mod_tls.so: $(SRC) $(HDR) $(RTLS_LIB) src/exports.map Makefile
	$(call apxs_build,$(ASAN_DIR),-S CC=$(SAN_CC) $(foreach f,$(SANITIZE),-Wc,$(f)) \
	    -Wl,-fsanitize=address,undefined -Wl,-shared-libasan)

$(ASAN_DIR)/preload: $(ASAN_DIR)/mod_tls.so
	@[ -f "$(SAN_RT)" ] || { echo "sanitize: no ASan runtime for $(SAN_CC) (Debian: libclang-rt-dev)" >&2; exit 1; }
	@readlink -f "$(SAN_RT)" >$@.tmp && mv -f $@.tmp $@
	@echo "  PRELOAD $$(cat $@)"

test:
	./scripts/test.sh

# rtls.h is generated from rtls/src by cbindgen (Debian's package) with rtls/cbindgen.toml, which
# says why cbindgen reads lib.rs rather than the crate directory. test/test_00_source.py runs the
# same command and fails when the committed header differs.
CBINDGEN ?= cbindgen
header:
	$(CBINDGEN) --quiet --config rtls/cbindgen.toml --output rtls/include/rtls.h rtls/src/lib.rs

bench: all
	./bench/run.sh $(BENCH_ARGS)

demo:
	./scripts/demo.sh

install: $(BUILD)/mod_tls.so
	install -d $(DESTDIR)$(MODDIR) $(DESTDIR)$(SYSCONF)/mods-available
	install -m 644 $(BUILD)/mod_tls.so $(DESTDIR)$(MODDIR)/mod_tls.so
	install -m 644 conf/tls.load conf/tls.conf $(DESTDIR)$(SYSCONF)/mods-available/

clean:
	rm -rf $(BUILD)
	cd rtls && $(CARGO) clean --offline $(CARGO_SRC)
