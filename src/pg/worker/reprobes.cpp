#include "worker/reprobes.hpp"

#include "base/postgres_headers.hpp"

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "tables/cache_reprobes.hpp"
#include "tables/user_config.hpp"
#include "verdict/engine_config.hpp"
#include "verdict/verification_steps.hpp"
#include "worker/worker_requests.hpp"
#include "worker/worker_transaction.hpp"

namespace mailsentry::pg {

namespace {

constexpr int kReprobesInFlight = 100;

void reprobe_body() {
  if (!mailsentry_relations_exist({"cache"})) return;
  const int room = kReprobesInFlight - static_cast<int>(internal_in_flight(InternalKind::reprobe));
  if (room <= 0) return;
  const DueReprobes due = lease_due_reprobes(room, settings.reprobe_delay_s);
  // C++ only from here: the verification lives inside the guarded scope.
  raise_if_failed(run_guarded("re-probing",
                              [&] {
                                const ProbeSettings probe = make_probe_settings(settings);
                                for (int i = 0; i < due.count; ++i) {
                                  const DueReprobe& row = due.rows[i];
                                  Verification v;
                                  std::optional<NetworkRequest> request = start_verification(
                                      row.address.view(), row.depth, probe, current_lists(), v);
                                  if (!request) continue;
                                  InternalRequest internal;
                                  internal.kind = InternalKind::reprobe;
                                  internal.meta.reprobes = row.reprobes + 1;
                                  internal.meta.is_reprobe = true;
                                  submit_internal(std::move(internal), std::move(*request));
                                }
                              }),
                  "mailsentry worker");
}

}  // namespace

void reprobe_due_entries() {
  if (settings.reprobe_attempts > 0) (void)run_in_transaction("re-probing", reprobe_body);
}

}  // namespace mailsentry::pg
