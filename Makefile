# mod_tls: build the Rust binding (offline, from Debian's crate sources)
# and the Apache module with apxs.
#
#   make            build build/mod_tls.so
#   make test       everything the suite checks (same as .ci/run)
#   make install    install the module and tls.load/tls.conf for a2enmod
#   make bench      the side-by-side benchmark with mod_ssl (see docs/)
#   make header     regenerate rtls/include/rtls.h from the Rust code (cbindgen)
#
# Variables: APXS (default apxs), CARGO (default: Debian's, see scripts/lib.sh), DESTDIR,
# MODTLS_CRATES (a registry directory holding the locked crates; default: scripts/crates.sh).

APXS     ?= apxs
CARGO    ?= cargo
BUILD    := build
# Where cargo finds the crates (Debian 13's librust-*-dev sources): see scripts/crates.sh.
CRATES   := $(shell scripts/crates.sh dir)
CARGO_SRC := --config 'source.debian.directory="$(CRATES)"'
RTLS_LIB := rtls/target/release/librtls.a

SRC := src/mod_tls.c src/tls_cache.c src/tls_cert.c src/tls_conf.c src/tls_core.c src/tls_filter.c \
       src/tls_proto.c src/tls_server.c src/tls_setup.c src/tls_util.c src/tls_var.c
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

.PHONY: all rtls test install clean bench demo header

all: $(BUILD)/mod_tls.so

rtls: $(RTLS_LIB)

$(RTLS_LIB): $(RS) $(BUILD)/crates.stamp
	cd rtls && $(CARGO) build --release --offline --locked $(CARGO_SRC)

# The crate sources of every Cargo.lock (fetched once; again when a lock changes).
$(BUILD)/crates.stamp: rtls/Cargo.lock bench/hsload/Cargo.lock bench/callgrind/Cargo.lock scripts/crates.sh
	scripts/crates.sh fetch
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/mod_tls.so: $(SRC) $(HDR) $(RTLS_LIB) src/exports.map Makefile
	@mkdir -p $(BUILD)/obj
	@cp $(SRC) $(HDR) $(BUILD)/obj/
	@echo "  APXS  $@ (log: $(BUILD)/apxs.log)"
	@cd $(BUILD)/obj && $(APXS) -c -o mod_tls.la $(APXS_CFLAGS) $(APXS_LDFLAGS) \
	    $(notdir $(SRC)) $(CURDIR)/$(RTLS_LIB) -lpthread -ldl -lm >../apxs.log 2>&1 \
	    || { grep -E "error|warning" ../apxs.log || cat ../apxs.log; exit 1; }
	@# a new file, not a rewrite in place: a running httpd keeps its mapping
	cp $(BUILD)/obj/.libs/mod_tls.so $@.tmp && mv -f $@.tmp $@

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
