// Builds the network engine's configuration from the settings and the
// effective lists (C++ only; call inside run_guarded()).
#pragma once

#include "base/settings.hpp"
#include "checks/lists.hpp"
#include "net/network_engine.hpp"

namespace mailsentry::pg {

// `share_dir` is PostgreSQL's share directory (for the shipped RDAP file).
NetworkEngineConfig make_engine_config(const Settings& s, const Lists& lists,
                                       const char* share_dir);

// The per-call SMTP settings of this session (timeouts, retry delay).
ProbeSettings make_probe_settings(const Settings& s);

}  // namespace mailsentry::pg
