# signpost: plain Makefile. `make` builds bin/signpostd; `make run` starts a demo;
# `make test` runs every test under AddressSanitizer and UndefinedBehaviorSanitizer;
# `make bench` measures throughput against Kannel.

CC ?= cc
PKGS := libevent_core libevent_extra libcurl libpq json-c libcrypto

# Build modes live side by side under build/: dev (default), san (SANITIZE=1), opt (OPT=1).
ifeq ($(SANITIZE),1)
MODE := san
MODE_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
MODE_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(FUZZ),1)
# libFuzzer targets (make fuzz): clang, with ASan and UBSan, coverage for the fuzzer.
MODE := fuzz
CC := clang
MODE_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
MODE_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(OPT),1)
# The release build (the Dockerfile's too) is hardened: bounds-checked libc calls
# (_FORTIFY_SOURCE=3, gcc 12 and -O2), stack canaries, a position-independent executable
# and relocations made read-only before main (full RELRO). tests/hardening.sh checks it.
MODE := opt
MODE_CFLAGS := -O2 -g -DNDEBUG -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 \
	-fstack-protector-strong -fPIE
MODE_LDFLAGS := -pie -Wl,-z,relro,-z,now
else
MODE := dev
MODE_CFLAGS := -O1 -g
endif

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wimplicit-fallthrough -Wvla
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

BUILD := build/$(MODE)
# `make V=1` shows the full commands.
ifneq ($(V),1)
SAY = @echo "  $(1) $(2)";
endif
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE -pthread $(WARNINGS) $(MODE_CFLAGS) -I. \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS_ALL := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread $(LDLIBS)

# Folders, from the bottom up: common (no domain), infra (the daemon's I/O, no domain),
# sms and providers, triage and campaigns (pure domain), gateway (the daemon).
COMMON_SRC := $(wildcard common/*.c)
INFRA_SRC := $(wildcard infra/*.c)
DOMAIN_SRC := $(wildcard sms/*.c triage/*.c campaigns/*.c)
PROVIDERS_SRC := $(wildcard providers/*.c)
GATEWAY_SRC := $(filter-out gateway/main.c,$(wildcard gateway/*.c))
LIB_SRC := $(COMMON_SRC) $(INFRA_SRC) $(DOMAIN_SRC) $(PROVIDERS_SRC) $(GATEWAY_SRC)
MIGRATIONS := $(sort $(wildcard schema/*.sql))
DATA_FILES := data/keywords.json data/builtin-words.json data/bank-holidays-england-and-wales.json \
	data/flows/digital_skills.json data/flows/followup.json data/common-passwords.txt
# The console's files; console/build/ only makes console/vendor/ and is not shipped.
CONSOLE_FILES := $(sort $(filter-out console/build/%,$(shell find console -type f \
	-not -path '*/node_modules/*' 2>/dev/null)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o $(BUILD)/gen/data.o \
	$(BUILD)/gen/console.o
# The API reference: docs/openapi.json, the page made from it, its stylesheet.
LIB_OBJ += $(BUILD)/gen/docs.o

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FAKE_SRC := $(wildcard tests/fake/fake_*.c)
FAKE_BIN := $(filter-out $(BUILD)/tests/fake_common,$(FAKE_SRC:tests/fake/%.c=$(BUILD)/tests/%))
FAKE_LIB_SRC := $(COMMON_SRC) $(PROVIDERS_SRC) tests/fake/fake_common.c
FAKE_LIB_OBJ := $(FAKE_LIB_SRC:%.c=$(BUILD)/%.o)

.PHONY: all run test bench clean deps tests-build FORCE
all: bin/signpostd

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call SAY,CC,$<)$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(BUILD)/gen/migrations.c: $(MIGRATIONS) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	$(call SAY,GEN,$@)scripts/embed-sql.sh $(MIGRATIONS) > $@

$(BUILD)/gen/data.c: $(DATA_FILES) scripts/embed-data.sh
	@mkdir -p $(dir $@)
	$(call SAY,GEN,$@)scripts/embed-data.sh $(DATA_FILES) > $@

$(BUILD)/gen/console.c: $(CONSOLE_FILES) scripts/embed-console.sh
	@mkdir -p $(dir $@)
	$(call SAY,GEN,$@)scripts/embed-console.sh $(CONSOLE_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/docs/api.html: docs/openapi.json scripts/openapi-html.py
	@mkdir -p $(dir $@)
	$(call SAY,GEN,$@)scripts/openapi-html.py docs/openapi.json > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/docs.c: docs/openapi.json $(BUILD)/gen/docs/api.html docs/openapi.css \
		scripts/embed-console.sh
	$(call SAY,GEN,$@)scripts/embed-console.sh --docs docs/openapi.json \
		$(BUILD)/gen/docs/api.html docs/openapi.css > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(call SAY,CC,$<)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/signpostd: $(LIB_OBJ) $(BUILD)/gateway/main.o
	$(call SAY,LD,$@)$(CC) $(MODE_LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# bin/signpostd is the binary of the last mode built.
bin/signpostd: $(BUILD)/signpostd FORCE
	@mkdir -p bin
	@cmp -s $< $@ || { cp $< $@.tmp && mv -f $@.tmp $@; }

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call SAY,CC,$@)$(CC) $(CFLAGS_ALL) -MMD -MP $(MODE_LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS_ALL)

$(BUILD)/tests/fake_%: tests/fake/fake_%.c $(FAKE_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call SAY,CC,$@)$(CC) $(CFLAGS_ALL) -MMD -MP $(MODE_LDFLAGS) -o $@ $< $(FAKE_LIB_OBJ) $(LDLIBS_ALL)

tests-build: bin/signpostd $(UNIT_BIN) $(FAKE_BIN)

deps:
	@scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-demo.sh

test: deps
	@$(MAKE) --no-print-directory SANITIZE=1 WERROR=1 tests-build
	@$(MAKE) --no-print-directory FUZZ=1 WERROR=1 fuzz-build
	@BUILD=build/san tests/run.sh

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory OPT=1 WERROR=1 tests-build
	@BUILD=build/opt bench/run.sh

clean:
	rm -rf build bin

# ---- fuzzing with libFuzzer (tests/fuzz/README.md) ----
# One binary per target, build/fuzz/fuzzers/<target>, made with clang from the seeded
# mutation fuzzers' sources (tests/unit/test_fuzz*.c) with FUZZ_TARGET naming the target.
# `make fuzz` runs each for FUZZ_SECONDS (FUZZ_TARGETS="csv http" picks some), keeping what
# it finds in build/fuzz/corpus/ and crashes in build/fuzz/artifacts/.
FUZZ_SECONDS ?= 60
FUZZ_SUITE_BASIC := csv phone template keyword_match flow
FUZZ_SUITE_PROVIDERS := jsonscan twilio vonage messagebird firetext webhook sim
FUZZ_SUITE_HTTP := http
FUZZ_ALL := $(FUZZ_SUITE_HTTP) $(FUZZ_SUITE_BASIC) $(FUZZ_SUITE_PROVIDERS)
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_DIR := build/fuzz/fuzzers

$(FUZZ_SUITE_BASIC:%=$(FUZZ_DIR)/%): $(FUZZ_DIR)/%: tests/unit/test_fuzz.c $(LIB_OBJ)
$(FUZZ_SUITE_PROVIDERS:%=$(FUZZ_DIR)/%): $(FUZZ_DIR)/%: tests/unit/test_fuzz_providers.c $(LIB_OBJ)
$(FUZZ_SUITE_HTTP:%=$(FUZZ_DIR)/%): $(FUZZ_DIR)/%: tests/unit/test_fuzz_http.c $(LIB_OBJ)
$(FUZZ_ALL:%=$(FUZZ_DIR)/%):
	@mkdir -p $(dir $@)
	$(call SAY,FUZZ,$@)$(CC) $(CFLAGS_ALL) -MMD -MP -DFUZZ_TARGET='"$(notdir $@)"' \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_OBJ) $(LDLIBS_ALL)

.PHONY: fuzz fuzz-build
fuzz-build:
ifeq ($(FUZZ),1)
fuzz-build: $(FUZZ_ALL:%=$(FUZZ_DIR)/%)
else
	@$(MAKE) --no-print-directory FUZZ=1 WERROR=1 fuzz-build
endif

fuzz: deps
	@$(MAKE) --no-print-directory FUZZ=1 WERROR=1 fuzz-build
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# ---- the soak (tests/soak/soak.py): about 20 minutes, not part of make test ----
# SOAK_SCALE=0.02 makes it smaller; SOAK_SECONDS sets its length.
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory OPT=1 WERROR=1 tests-build
	@BUILD=build/opt /usr/bin/python3 tests/soak/soak.py

-include $(shell find build -name '*.d' 2>/dev/null)
