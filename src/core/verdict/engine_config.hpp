// The network engine's configuration and the per-call SMTP settings, built
// from the settings' values and the effective lists.
#pragma once

#include "checks/lists.hpp"
#include "net/network_engine.hpp"
#include "verdict/settings_values.hpp"

namespace mailsentry {

// `share_dir` is PostgreSQL's share directory: the shipped RDAP bootstrap
// file is read from there unless a file is set.
NetworkEngineConfig make_engine_config(const Settings& s, const Lists& lists,
                                       const char* share_dir);

// The per-call SMTP settings of this session (timeouts, retry delay).
ProbeSettings make_probe_settings(const Settings& s);

}  // namespace mailsentry
