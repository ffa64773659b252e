# PGXS build of the mailsentry extension: mailsentry.so from src/core and
# src/pg, plus the lists and the gibberish model generated from data/.
EXTENSION = mailsentry
MODULE_big = mailsentry
# The install and upgrade scripts (sql/); the control file stays at the top,
# where PGXS looks for it.
DATA = sql/mailsentry--0.1.sql sql/mailsentry--0.1--0.2.sql
# IANA's RDAP bootstrap file, installed as $sharedir/extension/mailsentry_rdap_dns.json.
DATA_built = build/mailsentry_rdap_dns.json
PGFILEDESC = "mailsentry - email address verification"

GEN_DIR = build/gen
CORE_SOURCES = $(sort $(wildcard src/core/*/*.cpp))
PG_SOURCES = $(sort $(wildcard src/pg/*/*.cpp))
GENERATED_SOURCES = $(GEN_DIR)/builtin_lists.cpp $(GEN_DIR)/gibberish_model.cpp
OBJS = $(CORE_SOURCES:.cpp=.o) $(PG_SOURCES:.cpp=.o) $(GENERATED_SOURCES:.cpp=.o)

# ASIO_HAS_STD_ALIGNED_ALLOC: one allocation scheme for Asio in every
# translation unit (see CMakeLists.txt).
PG_CPPFLAGS = -Isrc/core -Isrc/pg -DASIO_STANDALONE -DASIO_NO_DEPRECATED -DASIO_HAS_STD_ALIGNED_ALLOC=1
PG_CXXFLAGS = -std=c++17 -fvisibility-inlines-hidden -Wno-register
SHLIB_LINK = -lidn2 -lunistring -lpsl -lcares -lssl -lcrypto -lpthread -lstdc++

# The SQL suites live in test/regress/ (sql/, expected/, specs/). Each make
# target writes its temporary instance, results/, regression.diffs and
# regression.out to its own folder under test/regress/out/ (beside the suites,
# as in PostgreSQL's tree, and writable by the user who runs the suites even
# when root built the tree), which make clean removes; REGRESS_PREP (a PGXS
# hook of installcheck) creates the folders.
REGRESS_DIR = test/regress
REGRESS_OUT = $(REGRESS_DIR)/out
REGRESS_PREP = regress-output-dirs

# pg_regress on a temporary instance that preloads the library, so the tests
# also cover what needs shared_preload_libraries.
REGRESS = syntax normalize suggest offline_checks email_address_domain lists_and_weights \
          bad_input error_guard worker_database privileges
REGRESS_OPTS = --inputdir=$(REGRESS_DIR) --outputdir=$(REGRESS_OUT)/installcheck \
               --temp-instance=$(REGRESS_OUT)/installcheck/tmp_check \
               --temp-config=$(REGRESS_DIR)/regress.conf
# Isolation tests (two sessions); run by `make isolationcheck`, so that a
# failure in one suite does not hide the other.
ISOLATION_TESTS = override_sessions
ISOLATION_OPTS = --inputdir=$(REGRESS_DIR) --outputdir=$(REGRESS_OUT)/isolationcheck \
                 --temp-instance=$(REGRESS_OUT)/isolationcheck/tmp_check \
                 --temp-config=$(REGRESS_DIR)/regress.conf --dbname=contrib_regression

# Without shared_preload_libraries: the network-free functions work in any
# database and encoding; the network functions say what is missing.
NOPRELOAD_TESTS = encodings no_preload upgrade
NOPRELOAD_OPTS = --inputdir=$(REGRESS_DIR) --outputdir=$(REGRESS_OUT)/nopreloadcheck \
                 --temp-instance=$(REGRESS_OUT)/nopreloadcheck/tmp_check --dbname=contrib_regression

# The network suite: verify_email() against the DNS, SMTP and RDAP servers
# that test/integration/servers.sh starts on loopback addresses (as root).
NET_TESTS = net_setup net_dns net_smtp net_catch_all net_timeouts net_other_checks net_json \
            net_privileges net_interrupts net_cache net_bulk net_jobs net_usage net_parallel net_domain_age net_dead_domains net_fail_points
NET_OPTS = --inputdir=$(REGRESS_DIR) --outputdir=$(REGRESS_OUT)/netcheck \
           --temp-instance=$(REGRESS_OUT)/netcheck/tmp_check \
           --temp-config=test/integration/pg.conf --dbname=contrib_regression

# `make <suite> PARALLEL=1` runs a suite under parallel plans (test/regress/parallel.conf).
PARALLEL_OPTS = $(if $(PARALLEL),--temp-config=$(REGRESS_DIR)/parallel.conf)
REGRESS_OPTS += $(PARALLEL_OPTS)
ISOLATION_OPTS += $(PARALLEL_OPTS)
NOPRELOAD_OPTS += $(PARALLEL_OPTS)
NET_OPTS += $(PARALLEL_OPTS)

EXTRA_CLEAN = $(GEN_DIR) $(REGRESS_OUT)

# Debian's PGXS also compiles every source to LLVM bitcode with clang for JIT
# inlining, without the C++ flags above. Inlining C++ into JIT-compiled
# expressions buys nothing here, so the extension ships no bitcode.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The library is replaced by a rename, never overwritten in place: a server
# running with it loaded would crash (tools/replace_file.sh).
INSTALL_SHLIB = $(SHELL) $(CURDIR)/tools/replace_file.sh

build/mailsentry_rdap_dns.json: data/rdap_dns.json
	@mkdir -p build
	cp $< $@

# Generated sources: the lists and the model are rebuilt from data/.
LIST_SPECS = $(shell cat data/builtin_lists.txt)
LIST_FILES = $(foreach spec,$(LIST_SPECS),$(word 2,$(subst =, ,$(spec))))

$(GEN_DIR)/builtin_lists.cpp: tools/embed_lists.sh data/builtin_lists.txt $(LIST_FILES)
	@mkdir -p $(GEN_DIR)
	sh tools/embed_lists.sh $@ $(LIST_SPECS)

$(GEN_DIR)/train_gibberish: tools/train_gibberish.cpp
	@mkdir -p $(GEN_DIR)
	$(CXX) -std=c++17 -O2 -o $@ $<

$(GEN_DIR)/gibberish_model.cpp: $(GEN_DIR)/train_gibberish data/names.txt data/english_words.txt
	$(GEN_DIR)/train_gibberish data/names.txt data/english_words.txt $@

# Objects depend on the headers of their directories (simple and safe).
$(CORE_SOURCES:.cpp=.o) $(GENERATED_SOURCES:.cpp=.o): $(wildcard src/core/*/*.hpp)
$(PG_SOURCES:.cpp=.o): $(wildcard src/core/*/*.hpp) $(wildcard src/pg/*/*.hpp)

.PHONY: isolationcheck nopreloadcheck netcheck regress-output-dirs
isolationcheck: regress-output-dirs
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION_TESTS)
nopreloadcheck: regress-output-dirs
	$(pg_regress_installcheck) $(NOPRELOAD_OPTS) $(NOPRELOAD_TESTS)
netcheck: regress-output-dirs
	$(pg_regress_installcheck) $(NET_OPTS) $(NET_TESTS)
regress-output-dirs:
	@mkdir -p $(REGRESS_OUT)/installcheck $(REGRESS_OUT)/isolationcheck \
	          $(REGRESS_OUT)/nopreloadcheck $(REGRESS_OUT)/netcheck

# Core library, unit tests and benchmarks (no PostgreSQL): see CMakeLists.txt.
.PHONY: unit bench
unit:
	cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build/cmake -j2
	cd build/cmake && ctest --output-on-failure
bench:
	cmake -S . -B build/cmake-release -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build/cmake-release -j2 --target mailsentry_bench
	build/cmake-release/mailsentry_bench
# SQL throughput over a 1M-row table (needs root for the throwaway cluster).
.PHONY: bench-sql
bench-sql: install
	bash test/bench/sql_offline_bench.sh

# verify_email() against the local servers (needs root: ports 25, 53, 80).
.PHONY: bench-net
bench-net: install
	bash test/bench/net_bench.sh

# The cache, bulk and job benchmarks: each starts its own dnsmasq and scripted
# SMTP servers on 127.0.0.150-170 and its own throwaway cluster (needs root:
# ports 25 and 53). Not the servers of test/integration/servers.sh.
.PHONY: bench-cache bench-bulk bench-job
bench-cache: install
	bash test/bench/cache_hit_bench.sh
bench-bulk: install
	bash test/bench/bulk_bench.sh
bench-job: install
	bash test/bench/job_bench.sh

# verify_emails() with default settings against a real Postfix (default error
# limits), dnsmasq and an RDAP registry that cannot be reached, beside the
# same run with domain_age = off and a minimal probe client; own servers on
# 127.0.0.157-159 and its own throwaway cluster (needs root).
.PHONY: bench-postfix
bench-postfix: install
	bash test/bench/postfix_bulk_bench.sh

# libFuzzer targets of the parsers (test/fuzz/): replay the corpora, then fuzz
# each target FUZZ_SECONDS seconds (clang; see scripts/install_deps.sh).
.PHONY: fuzz
fuzz:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) bash test/fuzz/run.sh

# The soak test (test/soak/soak.sh): 50 sessions calling verify_email /
# verify_emails for SOAK_SECONDS (default 300) while the MTA restarts, the
# DNS server stops and starts and the worker gets SIGTERM twice; its own
# servers on 127.0.0.162-165 and its own throwaway cluster (needs root).
# test/run_all.sh runs the short form, make soak SOAK_SECONDS=30.
.PHONY: soak
soak: install
	SOAK_SECONDS=$(or $(SOAK_SECONDS),300) bash test/soak/soak.sh
