// The background worker: connects to mailsentry.database, owns the network
// engine (its I/O thread), takes requests from the shared queue and writes
// the answers back. Only this main thread calls PostgreSQL.
#include "worker/worker.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "net/network_engine.hpp"
#include "queue/request_queue.hpp"
#include "tables/user_config.hpp"
#include "verdict/engine_config.hpp"
#include "worker/cache_maintenance.hpp"
#include "worker/job_runner.hpp"
#include "worker/reprobes.hpp"
#include "worker/worker_requests.hpp"
#include "worker/worker_results.hpp"

extern "C" {
PGDLLEXPORT void mailsentry_worker_main(Datum);
}

namespace mailsentry::pg {

namespace {

// Globals, never on a stack that an ereport could unwind.
std::unique_ptr<NetworkEngine> engine;
unsigned long long configured_version = 0;
TimestampTz lists_checked_at = 0;
TimestampTz stats_published_at = 0;
TimestampTz jobs_run_at = 0;
TimestampTz reprobes_run_at = 0;
TimestampTz purge_run_at = 0;
TimestampTz health_saved_at = 0;
TimestampTz health_checked_at = 0;
bool purge_soon = false;
bool facts_restored = false;

// A running job is fed this often: its addresses may all finish between two
// rounds, and nothing else would wake the worker then.
constexpr long kJobRoundMs = 100;

bool due(TimestampTz& last, long interval_ms) {
  const TimestampTz now = GetCurrentTimestamp();
  if (!TimestampDifferenceExceeds(last, now, static_cast<int>(interval_ms))) return false;
  last = now;
  return true;
}

// Restoring the domain facts once; then jobs, re-probes, purging and the
// saved MX health, only where the worker can write (not on a standby).
void run_upkeep() {
  // Reading the domain facts back works on a standby too.
  if (!facts_restored) {
    restore_domain_facts();
    facts_restored = true;
  }
  if (RecoveryInProgress()) return;
  if (due(jobs_run_at, kJobRoundMs)) run_jobs();
  if (due(reprobes_run_at, 1000)) reprobe_due_entries();
  if (due(purge_run_at, purge_soon ? 1000 : settings.cache_purge_interval_s * 1000L))
    purge_soon = purge_expired_entries();
  if (due(health_checked_at, 1000)) save_mx_health(due(health_saved_at, 10000));
}
MxStatsPod mx_stats_copy[kMaxMxStats];
WorkerHealthPod health_copy;
RegistryStatsPod registry_stats_copy[kMaxRegistryStats];
int registry_stats_count = 0;
// What has been logged already: one line per episode or breaker opening.
WorkerHealthPod health_logged;
std::unordered_map<std::string, std::uint64_t> registry_openings_seen;
char registry_opened_name[256];  // the registries whose breaker opened since the last look

void stop_engine(int, Datum) {
  // Nobody would answer these any more: the callers get an estimate now.
  answer_taken_requests("the worker stopped before the network checks finished");
  worker_detach();
  (void)run_guarded("stopping the network engine", [] {
    set_worker_engine(nullptr);
    engine.reset();
  });
}

// Reads the effective lists (user overrides) in a short transaction.
void refresh_user_config() {
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  PushActiveSnapshot(GetTransactionSnapshot());
  ensure_user_config_current();
  PopActiveSnapshot();
  CommitTransactionCommand();
  lists_checked_at = GetCurrentTimestamp();
}

void start_or_reconfigure_engine() {
  char share_path[MAXPGPATH];
  get_share_path(my_exec_path, share_path);
  const GuardResult result = run_guarded("configuring the network engine", [&] {
    NetworkEngineConfig config = make_engine_config(settings, current_lists(), share_path);
    if (engine)
      engine->reconfigure(std::move(config));
    else
      engine = std::make_unique<NetworkEngine>(std::move(config));
    set_worker_engine(engine.get());
  });
  raise_if_failed(result, "mailsentry worker");
  configured_version = user_config_version();
}

void take_new_requests() {
  for (int i = 0; i < shared_queue->slot_count; ++i) {
    const uint32 ticket = worker_take(i);
    if (ticket == 0) continue;
    const GuardResult result = run_guarded("submitting a request", [&] {
      InternalRequest call;
      call.kind = InternalKind::backend_call;
      call.slot = i;
      call.ticket = ticket;
      submit_internal(std::move(call), request_from_pod(shared_queue->slots[i].request));
    });
    if (result.failed) {
      // The request cannot be served: answer it with an empty result.
      pg_atomic_fetch_add_u64(&shared_queue->stats.errors, 1);
      answer_empty(i, ticket, "the worker could not take the request");
      ereport(WARNING, (errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
                        errmsg("mailsentry worker: %s", result.message)));
    }
  }
}

TimestampTz to_timestamptz(std::chrono::system_clock::time_point at) {
  const auto unix_us =
      std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
  return static_cast<TimestampTz>(unix_us) -
         (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * static_cast<TimestampTz>(USECS_PER_DAY);
}

// C++ side: the engine's figures as plain data.
void copy_engine_stats(int& mx_count) {
  const NetworkEngine::Stats stats = engine->stats();
  for (const auto& mx : stats.mx) {
    if (mx_count == kMaxMxStats) break;
    MxStatsPod& pod = mx_stats_copy[mx_count++];
    pod.host.assign(mx.host);
    pod.sessions_open = mx.sessions_open;
    pod.queued = mx.queued;
    pod.probes = mx.probes;
    pod.timeouts = mx.timeouts;
    pod.errors = mx.errors;
    pod.breaker_open = mx.breaker_open;
  }
  health_copy.outbound_smtp_blocked = stats.outbound.blocked;
  health_copy.outbound_smtp_blocked_episodes = stats.outbound.episodes;
  health_copy.resolver = !stats.resolver.known          ? ResolverView::unknown
                         : stats.resolver.sees_internet ? ResolverView::sees_internet
                                                        : ResolverView::blind;
  health_copy.resolver_blind_episodes = stats.resolver.episodes;
  health_copy.late_domain_ages = stats.late_domain_ages;
  health_copy.registry_breakers_open = 0;
  registry_stats_count = 0;
  std::string opened;
  for (const RegistryStats& registry : stats.registries) {
    std::uint64_t& seen = registry_openings_seen[registry.protocol + " " + registry.name];
    if (registry.breaker_openings > seen) {
      if (!opened.empty()) opened += ", ";
      opened += registry.protocol + " " + registry.name;
    }
    seen = registry.breaker_openings;
    if (registry.breaker_open) ++health_copy.registry_breakers_open;
    if (registry_stats_count == kMaxRegistryStats) continue;
    RegistryStatsPod& pod = registry_stats_copy[registry_stats_count++];
    pod.server.assign(registry.name);
    pod.whois = registry.protocol == "whois";
    pod.lookups = registry.lookups;
    pod.failures = registry.failures;
    pod.breaker_open = registry.breaker_open;
    pod.open_until = to_timestamptz(registry.open_until);
    pod.breaker_openings = registry.breaker_openings;
  }
  snprintf(registry_opened_name, sizeof registry_opened_name, "%s", opened.c_str());
}

// One WARNING when an episode starts (the counters only grow while the
// worker runs), so an operator sees each without a flood.
void log_new_episodes() {
  if (health_copy.outbound_smtp_blocked_episodes > health_logged.outbound_smtp_blocked_episodes)
    ereport(WARNING,
            (errcode(ERRCODE_CONNECTION_FAILURE),
             errmsg("mailsentry worker: outbound SMTP (port 25) seems blocked from this server"),
             errdetail("Connections to three different mail servers in a row failed within a "
                       "minute; verdicts stay inconclusive until a connection succeeds."),
             errhint("Ask the hosting provider to open outbound port 25, or relay the probes "
                     "through a host that may use it.")));
  if (health_copy.resolver_blind_episodes > health_logged.resolver_blind_episodes)
    ereport(WARNING,
            (errcode(ERRCODE_CONNECTION_FAILURE),
             errmsg("mailsentry worker: the DNS resolver cannot see the Internet"),
             errdetail("The canary lookups (mailsentry.dns_canary_domains) found no mail "
                       "servers; NXDOMAIN answers are not taken as dead domains meanwhile."),
             errhint("Check mailsentry.dns_servers.")));
  if (registry_opened_name[0] != '\0')
    ereport(LOG, (errcode(ERRCODE_CONNECTION_FAILURE),
                  errmsg("mailsentry worker: registry server %s keeps failing; domain age "
                         "lookups there fail fast for mailsentry.registry_breaker_cooldown",
                         registry_opened_name)));
  health_logged = health_copy;
}

// Copies the engine's figures to shared memory for mailsentry.stats,
// mx_stats and registry_stats.
void publish_stats() {
  int count = 0;
  const GuardResult result =
      run_guarded("collecting statistics", [&] { copy_engine_stats(count); });
  if (result.failed) return;
  SpinLockAcquire(&shared_queue->mx_stats_lock);
  memcpy(shared_queue->mx_stats, mx_stats_copy, sizeof(MxStatsPod) * count);
  shared_queue->mx_stats_count = count;
  shared_queue->health = health_copy;
  memcpy(shared_queue->registry_stats, registry_stats_copy,
         sizeof(RegistryStatsPod) * registry_stats_count);
  shared_queue->registry_stats_count = registry_stats_count;
  shared_queue->mx_stats_at = GetCurrentTimestamp();
  SpinLockRelease(&shared_queue->mx_stats_lock);
  log_new_episodes();
  stats_published_at = GetCurrentTimestamp();
}

// Hardened MTAs refuse "localhost" in EHLO: probes would all look refused.
// Said at start and after each reload that leaves it so.
void warn_about_settings() {
  if (settings.helo_name == nullptr || pg_strcasecmp(settings.helo_name, "localhost") == 0)
    ereport(WARNING,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
             errmsg("mailsentry worker: mailsentry.helo_name is \"localhost\""),
             errdetail("Many mail servers refuse EHLO localhost, so their answers would be "
                       "refusals, not verdicts."),
             errhint("Set mailsentry.helo_name to this server's public host name.")));
}

// While switched off the worker holds no database connection, so the
// database can be dropped; it connects once switched on again.
void wait_until_enabled() {
  while (!settings.enabled) {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
    }
  }
}

}  // namespace

void register_worker() {
  BackgroundWorker worker;
  memset(&worker, 0, sizeof worker);
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  // On a hot standby too: verify_email works there (nothing is cached).
  worker.bgw_start_time = BgWorkerStart_ConsistentState;
  worker.bgw_restart_time = 1;
  snprintf(worker.bgw_library_name, BGW_MAXLEN, "mailsentry");
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "mailsentry_worker_main");
  snprintf(worker.bgw_name, BGW_MAXLEN, "mailsentry worker");
  snprintf(worker.bgw_type, BGW_MAXLEN, "mailsentry worker");
  RegisterBackgroundWorker(&worker);
}

}  // namespace mailsentry::pg

// The worker's entry point keeps the C linkage declared above.
namespace mailsentry::pg {

extern "C" void mailsentry_worker_main(Datum) {
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();

  wait_until_enabled();
  // Visible to waiting backends at once: requests queue up while the worker
  // connects and starts its engine, instead of counting as "no worker".
  before_shmem_exit(stop_engine, 0);
  worker_attach(MyProc);
  BackgroundWorkerInitializeConnection(settings.database, nullptr, 0);
  pgstat_report_appname("mailsentry worker");

  refresh_user_config();
  start_or_reconfigure_engine();
  ereport(LOG, (errmsg("mailsentry worker started in database \"%s\"", settings.database)));
  warn_about_settings();

  for (;;) {
    (void)WaitLatchOrSocket(
        MyLatch, WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
        engine->completion_fd(), job_active() ? kJobRoundMs : 1000, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();

    bool reconfigure = false;
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
      // Switched off: exit and come back without a database connection.
      if (!settings.enabled) proc_exit(1);
      warn_about_settings();
      reconfigure = true;
    }
    if (TimestampDifferenceExceeds(lists_checked_at, GetCurrentTimestamp(), 1000)) {
      refresh_user_config();
      reconfigure |= user_config_version() != configured_version;
    }
    if (reconfigure) start_or_reconfigure_engine();

    take_new_requests();
    handle_completions();
    run_upkeep();
    if (TimestampDifferenceExceeds(stats_published_at, GetCurrentTimestamp(), 1000))
      publish_stats();
  }
}

}  // namespace mailsentry::pg
