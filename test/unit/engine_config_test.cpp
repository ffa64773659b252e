#include "verdict/engine_config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace mailsentry {
namespace {

using std::chrono::milliseconds;

// Settings as the GUC machinery leaves them with no string set.
Settings plain_settings() {
  Settings s{};
  s.dns_timeout_ms = 2000;
  s.rdap_timeout_ms = 4000;
  s.domain_age_grace_ms = 300;
  s.greylist_retry_delay_ms = 3000;
  return s;
}

TEST(EngineConfig, DomainAgeGraceIsCappedByTheRegistryTimeout) {
  Settings s = plain_settings();
  s.domain_age_grace_ms = 10000;
  s.rdap_timeout_ms = 2500;
  EXPECT_EQ(make_engine_config(s, Lists{}, "/share").network.domain_age_grace, milliseconds(2500));
  s.domain_age_grace_ms = 700;
  EXPECT_EQ(make_engine_config(s, Lists{}, "/share").network.domain_age_grace, milliseconds(700));
}

TEST(EngineConfig, BootstrapFileDefaultsToTheShippedOneUnderTheShareDir) {
  Settings s = plain_settings();
  EXPECT_EQ(make_engine_config(s, Lists{}, "/usr/share/pg").domain_age.bootstrap_file,
            "/usr/share/pg/extension/mailsentry_rdap_dns.json");
  std::string empty;
  s.rdap_bootstrap_file = empty.data();
  EXPECT_EQ(make_engine_config(s, Lists{}, "/usr/share/pg").domain_age.bootstrap_file,
            "/usr/share/pg/extension/mailsentry_rdap_dns.json");
  std::string own = "/etc/rdap.json";
  s.rdap_bootstrap_file = own.data();
  EXPECT_EQ(make_engine_config(s, Lists{}, "/usr/share/pg").domain_age.bootstrap_file,
            "/etc/rdap.json");
}

TEST(EngineConfig, UnsetStringsTakeTheirDefaults) {
  const NetworkEngineConfig config = make_engine_config(plain_settings(), Lists{}, "/share");
  EXPECT_TRUE(config.dns.servers.empty());
  EXPECT_EQ(config.smtp.helo_name, "localhost");
  EXPECT_EQ(config.smtp.mail_from, "");
  EXPECT_TRUE(config.smtp.source_addresses.empty());
  EXPECT_EQ(config.domain_age.whois_server, "");
  EXPECT_TRUE(config.network.dnsbl_zones.empty());
  EXPECT_TRUE(config.canary.domains.empty());
}

TEST(EngineConfig, ListSettingsAreSplitAndAddressesParsed) {
  Settings s = plain_settings();
  std::string sources = "192.0.2.7, 2001:db8::5";
  std::string zones = "zen.example.org ,dbl.example.net";
  std::string canaries = "gmail.com,outlook.com";
  std::string servers = "127.0.0.53:5353";
  s.source_addresses = sources.data();
  s.dnsbl_zones = zones.data();
  s.dns_canary_domains = canaries.data();
  s.dns_servers = servers.data();
  const NetworkEngineConfig config = make_engine_config(s, Lists{}, "/share");
  ASSERT_EQ(config.smtp.source_addresses.size(), 2u);
  EXPECT_EQ(config.smtp.source_addresses[0], asio::ip::make_address("192.0.2.7"));
  EXPECT_TRUE(config.smtp.source_addresses[1].is_v6());
  EXPECT_EQ(config.network.dnsbl_zones,
            (std::vector<std::string>{"zen.example.org", "dbl.example.net"}));
  EXPECT_EQ(config.canary.domains, (std::vector<std::string>{"gmail.com", "outlook.com"}));
  ASSERT_EQ(config.dns.servers.size(), 1u);
  EXPECT_EQ(config.dns.servers[0].host, "127.0.0.53");
  EXPECT_EQ(config.dns.servers[0].port, 5353);
}

TEST(EngineConfig, SmtpAndRegistryNumbersAreCarriedOver) {
  Settings s = plain_settings();
  s.smtp_port = 2525;
  s.starttls = static_cast<int>(StartTlsMode::required);
  s.max_connections_per_mx = 3;
  s.breaker_failures = 7;
  s.breaker_cooldown_ms = 9000;
  s.allow_private_networks = true;
  s.rdap_min_interval_ms = 150;
  const NetworkEngineConfig config = make_engine_config(s, Lists{}, "/share");
  EXPECT_EQ(config.smtp.port, 2525);
  EXPECT_EQ(config.smtp.starttls, StartTlsMode::required);
  EXPECT_EQ(config.smtp.max_connections_per_mx, 3);
  EXPECT_EQ(config.smtp.breaker_failure_threshold, 7);
  EXPECT_EQ(config.smtp.breaker_cooldown, milliseconds(9000));
  EXPECT_TRUE(config.smtp.address_policy.allow_private_networks);
  EXPECT_TRUE(config.domain_age.address_policy.allow_private_networks);
  EXPECT_EQ(config.domain_age.timeout, milliseconds(4000));
  EXPECT_EQ(config.domain_age.min_interval_per_registry, milliseconds(150));
}

TEST(EngineConfig, ProviderPatternsComeFromTheEffectiveLists) {
  Lists lists;
  lists.anti_probe_mx.add("*.protection.example.com", "Example Shield");
  lists.mx_providers.add("*.mail.example.net", "Example Mail");
  const NetworkEngineConfig config = make_engine_config(plain_settings(), lists, "/share");
  EXPECT_EQ(config.network.anti_probe_patterns,
            (std::vector<std::string>{"*.protection.example.com"}));
  EXPECT_EQ(
      config.network.mx_provider_patterns,
      (std::vector<std::pair<std::string, std::string>>{{"*.mail.example.net", "Example Mail"}}));
}

TEST(ProbeSettings, TimeoutsAreParsedFromTheSetting) {
  Settings s = plain_settings();
  std::string timeouts = "100, 200,300";
  s.smtp_timeouts = timeouts.data();
  s.greylist_retry_delay_ms = 1234;
  const ProbeSettings probe = make_probe_settings(s);
  EXPECT_EQ(probe.timeouts,
            (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(300)}));
  EXPECT_EQ(probe.greylist_retry_delay, milliseconds(1234));
}

TEST(ProbeSettings, FollowsAChangedSettingAndFallsBackWhenEmpty) {
  Settings s = plain_settings();
  std::string first = "1000";
  s.smtp_timeouts = first.data();
  EXPECT_EQ(make_probe_settings(s).timeouts, (std::vector<milliseconds>{milliseconds(1000)}));
  std::string second = "2000,4000";
  s.smtp_timeouts = second.data();
  EXPECT_EQ(make_probe_settings(s).timeouts,
            (std::vector<milliseconds>{milliseconds(2000), milliseconds(4000)}));
  s.smtp_timeouts = nullptr;
  EXPECT_EQ(make_probe_settings(s).timeouts, ProbeSettings().timeouts);
  std::string blank = " , ";
  s.smtp_timeouts = blank.data();
  EXPECT_EQ(make_probe_settings(s).timeouts, ProbeSettings().timeouts);
}

}  // namespace
}  // namespace mailsentry
