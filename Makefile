# Postern: one non-recursive build.
#
# Each directory contributes a fragment, DIR/module.mk, that appends to
#   UTIL_SRCS, GLOBAL_SRCS      library sources
#   BIN_PROGS, LIBEXEC_PROGS    program names; NAME_SRCS lists each one's sources
#   UNIT_TESTS                  tests/unit/NAME_test.c files, one binary each
#   FUZZ_TARGETS                tests/fuzz/NAME.c files, libFuzzer targets
#
# Trees: `make` builds build/ (release, hardened); `make check` builds
# build/asan/ with AddressSanitizer and UBSan and runs every test against it;
# `make fuzz` builds build/fuzz/ with clang and libFuzzer.

BUILD ?= build
SANITIZE ?=
PREFIX ?= /usr
DESTDIR ?=
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
SETGID_GROUP ?= posterndrop

CC ?= cc
PKG_CONFIG ?= pkg-config
PYTHON ?= /usr/bin/python3

OPT ?= -O2
ifneq ($(SANITIZE),)
OPT := -O1
endif
WARN := -Wall -Wextra -Wformat=2 -Wshadow -Werror
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CPPFLAGS_ALL := -I. -D_GNU_SOURCE
CFLAGS_ALL := -std=gnu11 $(OPT) -g $(WARN) $(HARDEN) -MMD -MP
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now -Wl,--as-needed

ifeq ($(SANITIZE),1)
CPPFLAGS_ALL += -DPOSTERN_SANITIZE
CFLAGS_ALL += -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
LDFLAGS_ALL += -fsanitize=address,undefined
endif
ifeq ($(SANITIZE),fuzz)
CC := clang
CFLAGS_ALL += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-Wno-unused-command-line-argument
LDFLAGS_ALL += -fsanitize=address,undefined
endif

# Dependencies: found with pkg-config, except Berkeley DB which ships none.
# A missing one stops the build with the command that installs it.
NODEP_GOALS := deps clean distclean help
ifneq ($(filter-out $(NODEP_GOALS),$(or $(MAKECMDGOALS),all)),)
define need_pkg
ifneq ($$(shell $(PKG_CONFIG) --exists $(1) && echo yes),yes)
$$(error $(1) not found. Install it with: apt-get install $(2)   (or: make deps))
endif
endef
$(eval $(call need_pkg,openssl,libssl-dev))
$(eval $(call need_pkg,libpcre2-8,libpcre2-dev))
$(eval $(call need_pkg,libsasl2,libsasl2-dev))
$(eval $(call need_pkg,lmdb,liblmdb-dev))
ifeq ($(wildcard /usr/include/db.h),)
$(error Berkeley DB (db.h) not found. Install it with: apt-get install libdb-dev   (or: make deps))
endif
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags openssl libpcre2-8 libsasl2 lmdb)
DEP_LIBS := $(shell $(PKG_CONFIG) --libs openssl libpcre2-8 libsasl2 lmdb) -ldb -lresolv
endif

# The fragments below define rules; `make` alone still means `make all`.
.DEFAULT_GOAL := all

UTIL_SRCS :=
GLOBAL_SRCS :=
BIN_PROGS :=
LIBEXEC_PROGS :=
UNIT_TESTS :=
FUZZ_TARGETS :=
BIN_LINK_NAMES :=

include util/module.mk
include global/module.mk
include $(wildcard master/module.mk smtpd/module.mk qmgr/module.mk smtp/module.mk \
	local/module.mk virtual/module.mk pickup/module.mk showq/module.mk postdrop/module.mk \
	anvil/module.mk admin/module.mk)
include tests/module.mk

OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIBUTIL := $(BUILD)/lib/libutil.a
LIBGLOBAL := $(BUILD)/lib/libglobal.a
LIBS := $(LIBGLOBAL) $(LIBUTIL)

BIN_TARGETS := $(addprefix $(BUILD)/bin/,$(BIN_PROGS))
LIBEXEC_TARGETS := $(addprefix $(BUILD)/libexec/,$(LIBEXEC_PROGS))
UNIT_TARGETS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_TESTS))
# Programs that are links to another: NAME -> TARGET.
BIN_LINKS := $(addprefix $(BUILD)/bin/,$(BIN_LINK_NAMES))

.PHONY: all unit check fuzz fuzz-smoke install clean deps run bench bench-tables help
all: $(BIN_TARGETS) $(LIBEXEC_TARGETS) $(BIN_LINKS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(DEP_CFLAGS) $(CFLAGS_ALL) $(CFLAGS) -c -o $@ $<

$(LIBUTIL): $(call OBJ,$(UTIL_SRCS))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBGLOBAL): $(call OBJ,$(GLOBAL_SRCS))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

define program_rule
$(BUILD)/$(1)/$(2): $$(call OBJ,$$($(2)_SRCS)) $$(LIBS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS_ALL) $$(LDFLAGS_ALL) $$(LDFLAGS) -o $$@ $$^ $$(DEP_LIBS)
endef
$(foreach p,$(BIN_PROGS),$(eval $(call program_rule,bin,$(p))))
$(foreach p,$(LIBEXEC_PROGS),$(eval $(call program_rule,libexec,$(p))))

define link_rule
$(BUILD)/bin/$(1): $(BUILD)/bin/$(2)
	ln -sf $(2) $$@
endef
$(foreach l,$(BIN_LINK_NAMES),$(eval $(call link_rule,$(l),$($(l)_LINK))))

# A test may also link a daemon's own files: NAME_EXTRA_SRCS (set in the
# daemon's module.mk).
define unit_rule
$(BUILD)/tests/$(1): $$(call OBJ,tests/unit/$(1).c $$($(1)_EXTRA_SRCS)) $$(LIBS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS_ALL) $$(LDFLAGS_ALL) -o $$@ $$^ $$(DEP_LIBS) -lcmocka
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(basename $(notdir $(t))))))

unit: $(UNIT_TARGETS)

# The whole suite against the sanitizer tree: unit tests, system tests and a
# short fuzzing smoke run. Each runner prints its own summary line.
check:
	$(MAKE) BUILD=build/asan SANITIZE=1 all unit
	tests/run-unit build/asan
	POSTERN_BUILD=$(CURDIR)/build/asan $(PYTHON) -m pytest -q tests/system
	@if command -v clang >/dev/null; then $(MAKE) fuzz-smoke; \
	else echo "fuzz smoke skipped: clang not installed (make deps)"; fi

define fuzz_rule
$(BUILD)/fuzz/$(1): $$(call OBJ,tests/fuzz/$(1).c $$($(1)_EXTRA_SRCS)) $$(LIBS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS_ALL) -fsanitize=fuzzer $$(LDFLAGS_ALL) -o $$@ $$^ $$(DEP_LIBS)
endef
ifeq ($(SANITIZE),fuzz)
$(foreach f,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(basename $(notdir $(f))))))
fuzz: $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_TARGETS))
else
fuzz:
	$(MAKE) BUILD=build/fuzz SANITIZE=fuzz fuzz
endif

fuzz-smoke: fuzz
	tests/run-fuzz-smoke build/fuzz/fuzz 20

# Debian layout (DESIGN.md). Daemons under $(PREFIX)/lib/postern.
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/postern \
		$(DESTDIR)$(SYSCONFDIR)/postern $(DESTDIR)$(LOCALSTATEDIR)/spool/postern \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)/lib/systemd/system
	for p in $(BIN_PROGS); do install -m 755 $(BUILD)/bin/$$p $(DESTDIR)$(PREFIX)/sbin/; done
	for l in $(BIN_LINK_NAMES); do ln -sf sendmail $(DESTDIR)$(PREFIX)/sbin/$$l; done
	@# postdrop and postqueue are the only set-id programs: set-gid
	@# setgid_group, so that users can write maildrop/ (mode 1730) and reach
	@# public/ (pickup, qmgr, showq), and nothing else.
	for p in postdrop postqueue; do \
		[ -e $(DESTDIR)$(PREFIX)/sbin/$$p ] || continue; \
		if getent group $(SETGID_GROUP) >/dev/null && [ "$$(id -u)" -eq 0 ]; then \
			chgrp $(SETGID_GROUP) $(DESTDIR)$(PREFIX)/sbin/$$p && \
			chmod 2755 $(DESTDIR)$(PREFIX)/sbin/$$p; \
		else echo "install: $$p left without set-gid: run as root with group" \
			"$(SETGID_GROUP) present (groupadd --system $(SETGID_GROUP))"; fi; done
	for p in $(LIBEXEC_PROGS); do \
		install -m 755 $(BUILD)/libexec/$$p $(DESTDIR)$(PREFIX)/lib/postern/; done
	for f in main.cf master.cf; do \
		test -e $(DESTDIR)$(SYSCONFDIR)/postern/$$f || \
		install -m 644 conf/$$f $(DESTDIR)$(SYSCONFDIR)/postern/$$f; done
	install -m 644 conf/postern.service $(DESTDIR)/lib/systemd/system/postern.service
	for s in 1 5 8; do for m in man/man$$s/*.$$s; do \
		[ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done; done; true

# Every build and test dependency, from Debian's archive (run as root).
DEB_PACKAGES := build-essential pkg-config libssl-dev libdb-dev db5.3-util libpcre2-dev liblmdb-dev \
	libsasl2-dev sasl2-bin libsasl2-modules libcmocka-dev python3-pytest clang \
	postfix postfix-pcre postfix-lmdb time swaks libnet-ssleay-perl testssl.sh dnsmasq-base bind9-dnsutils \
	dovecot-imapd dovecot-lmtpd unbound ldnsutils
deps:
	tests/install-deps $(DEB_PACKAGES)

# The demo: build, create and start an instance in ./run, show mail flowing.
run: all
	tests/demo $(CURDIR)/run

# Postern and Postfix side by side on the release build (bench/README.md).
bench: all
	POSTERN_BUILD=$(CURDIR)/$(BUILD) bench/run

# postmap against Postfix's postmap on 1,000,000-key tables (bench/README.md).
bench-tables: all
	POSTERN_BUILD=$(CURDIR)/$(BUILD) bench/tables

clean:
	rm -rf build

help:
	@echo "make           build into build/"
	@echo "make check     sanitizer build + unit, system and fuzz-smoke tests"
	@echo "make fuzz      libFuzzer targets into build/fuzz/fuzz/"
	@echo "make deps      install build and test dependencies (root, Debian)"
	@echo "make run       build and start a demo instance in ./run"
	@echo "make bench     build, then bench/run: Postern against Postfix (root)"
	@echo "make bench-tables  build, then bench/tables: postmap against Postfix's"
	@echo "make install   DESTDIR= PREFIX= (Debian layout)"

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
