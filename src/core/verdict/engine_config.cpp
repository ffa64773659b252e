#include "verdict/engine_config.hpp"

#include <algorithm>
#include <cstdlib>

#include "checks/comma_list.hpp"

namespace mailsentry {

namespace {

std::vector<std::pair<std::string, std::string>> patterns_of(const NamedList& list) {
  std::vector<std::pair<std::string, std::string>> patterns;
  list.for_each([&patterns](const BuiltinEntry& entry) {
    patterns.emplace_back(std::string(entry.key), std::string(entry.detail));
  });
  return patterns;
}

}  // namespace

NetworkEngineConfig make_engine_config(const Settings& s, const Lists& lists,
                                       const char* share_dir) {
  NetworkEngineConfig config;
  config.dns.servers = parse_dns_servers(s.dns_servers ? s.dns_servers : "");
  config.dns.timeout = std::chrono::milliseconds(s.dns_timeout_ms);
  config.dns.default_ttl = std::chrono::seconds(s.dns_default_ttl_s);

  SmtpOptions& smtp = config.smtp;
  smtp.port = static_cast<std::uint16_t>(s.smtp_port);
  smtp.helo_name = s.helo_name ? s.helo_name : "localhost";
  smtp.mail_from = s.mail_from ? s.mail_from : "";
  smtp.starttls = static_cast<StartTlsMode>(s.starttls);
  smtp.address_policy.allow_private_networks = s.allow_private_networks;
  smtp.max_connections_per_mx = s.max_connections_per_mx;
  smtp.max_connections_total = s.max_connections;
  smtp.max_recipients_per_session = s.max_recipients_per_session;
  smtp.max_rejections_per_session = s.max_rejections_per_session;
  smtp.idle_timeout = std::chrono::milliseconds(s.idle_session_timeout_ms);
  smtp.breaker_failure_threshold = s.breaker_failures;
  smtp.breaker_cooldown = std::chrono::milliseconds(s.breaker_cooldown_ms);
  smtp.log_transcripts = s.log_smtp_transcripts;
  for (const std::string& address : split_list(s.source_addresses ? s.source_addresses : ""))
    smtp.source_addresses.push_back(asio::ip::make_address(address));

  DomainAgeOptions& age = config.domain_age;
  age.bootstrap_file = s.rdap_bootstrap_file && s.rdap_bootstrap_file[0]
                           ? std::string(s.rdap_bootstrap_file)
                           : std::string(share_dir) + "/extension/mailsentry_rdap_dns.json";
  age.whois_server = s.whois_server ? s.whois_server : "";
  age.timeout = std::chrono::milliseconds(s.rdap_timeout_ms);
  age.min_interval_per_registry = std::chrono::milliseconds(s.rdap_min_interval_ms);
  age.registry_breaker_cooldown = std::chrono::milliseconds(s.registry_breaker_cooldown_ms);
  age.address_policy.allow_private_networks = s.allow_private_networks;
  age.verify_tls = s.rdap_verify_tls;

  NetworkOptions& network = config.network;
  network.domain_age = s.domain_age;
  // A grace longer than one registry request would only hold verdicts back.
  network.domain_age_grace =
      std::chrono::milliseconds(std::min(s.domain_age_grace_ms, s.rdap_timeout_ms));
  network.dnsbl_zones = split_list(s.dnsbl_zones ? s.dnsbl_zones : "");
  for (auto& [pattern, provider] : patterns_of(lists.anti_probe_mx))
    network.anti_probe_patterns.push_back(pattern);
  network.mx_provider_patterns = patterns_of(lists.mx_providers);

  config.canary.domains = split_list(s.dns_canary_domains ? s.dns_canary_domains : "");
  return config;
}

ProbeSettings make_probe_settings(const Settings& s) {
  // Parsed once per value of the setting, not once per verification.
  static std::string parsed_text;
  static std::vector<std::chrono::milliseconds> parsed_timeouts;
  const char* text = s.smtp_timeouts ? s.smtp_timeouts : "";
  if (parsed_timeouts.empty() || parsed_text != text) {
    std::vector<std::chrono::milliseconds> timeouts;
    for (const std::string& item : split_list(text))
      timeouts.emplace_back(std::strtol(item.c_str(), nullptr, 10));
    if (timeouts.empty()) timeouts = ProbeSettings().timeouts;
    parsed_timeouts = std::move(timeouts);
    parsed_text = text;
  }
  ProbeSettings probe;
  probe.timeouts = parsed_timeouts;
  probe.greylist_retry_delay = std::chrono::milliseconds(s.greylist_retry_delay_ms);
  return probe;
}

}  // namespace mailsentry
