#include "network_verifier.hpp"

#include <chrono>

namespace mailsentry {

bool parse_depth(std::string_view text, Depth& depth) {
  if (text == "quick") depth = Depth::quick;
  else if (text == "standard") depth = Depth::standard;
  else if (text == "extended") depth = Depth::extended;
  else return false;
  return true;
}

std::string_view depth_name(Depth depth) {
  switch (depth) {
    case Depth::quick: return "quick";
    case Depth::standard: return "standard";
    case Depth::extended: return "extended";
  }
  return "standard";
}

bool mx_pattern_matches(std::string_view pattern, std::string_view host) {
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    std::string_view suffix = pattern.substr(1);  // ".google.com"
    return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
  }
  return pattern == host;
}

namespace {

int days_since_epoch_today() {
  using namespace std::chrono;
  return static_cast<int>(
      duration_cast<hours>(system_clock::now().time_since_epoch()).count() / 24);
}

// Collects the answers of the concurrent lookups; calls `done` after the last.
// Warnings are kept per check and joined in a fixed order, so the result does
// not depend on which lookup happened to answer first.
struct PendingFacts {
  NetworkFacts facts;
  std::vector<std::string> age_warnings;
  std::vector<std::string> blocklist_warnings;
  int outstanding = 0;
  std::function<void(NetworkFacts)> done;

  void finish_one() {
    if (--outstanding == 0) {
      for (auto* more : {&age_warnings, &blocklist_warnings})
        facts.warnings.insert(facts.warnings.end(), more->begin(), more->end());
      auto callback = std::move(done);
      callback(std::move(facts));
    }
  }
};

void record_mx(const MxAnswer& answer, const NetworkOptions& options, NetworkFacts& facts) {
  switch (answer.status) {
    case DnsStatus::ok:
      facts.mx_found = answer.accepts_mail();
      if (answer.null_mx) facts.warnings.push_back("null MX: the domain accepts no mail");
      break;
    case DnsStatus::no_such_domain:
      facts.mx_found = false;
      facts.warnings.push_back("no such domain (NXDOMAIN)");
      break;
    case DnsStatus::no_data:
      facts.mx_found = false;
      facts.warnings.push_back("the domain has no MX, A or AAAA record");
      break;
    case DnsStatus::inconclusive:
      facts.warnings.push_back("DNS lookup inconclusive: " + answer.error);
      break;
  }
  facts.implicit_mx = answer.implicit_mx;
  for (const MxHost& host : answer.hosts) facts.mx_records.push_back(host.host);
  if (!answer.hosts.empty()) {
    for (const auto& [pattern, provider] : options.mx_provider_patterns) {
      if (mx_pattern_matches(pattern, answer.hosts.front().host)) {
        facts.mx_provider = provider;
        break;
      }
    }
  }
}

const std::string* anti_probe_match(const MxAnswer& answer, const NetworkOptions& options) {
  for (const MxHost& host : answer.hosts)
    for (const std::string& pattern : options.anti_probe_patterns)
      if (mx_pattern_matches(pattern, host.host)) return &pattern;
  return nullptr;
}

void record_probe(const ProbeResult& result, NetworkFacts& facts) {
  facts.smtp = result.outcome;
  facts.catch_all = result.catch_all;
  facts.greylisted = result.greylisted;
  facts.mx_host = result.mx_host;
  facts.smtp_code = result.code;
  facts.smtp_message = result.message;
  if (result.mailbox_full) facts.warnings.push_back("mailbox full");
  for (const std::string& warning : result.warnings) facts.warnings.push_back(warning);
  facts.smtp_transcript = result.transcript;
}

}  // namespace

std::optional<MxAnswer> mx_answer_from_facts(std::string_view domain,
                                             const KnownDomainFacts::Mx& mx) {
  if (!mx.mx_found) return std::nullopt;
  MxAnswer answer;
  if (!*mx.mx_found) {
    answer.status = DnsStatus::no_data;
    return answer;
  }
  answer.status = DnsStatus::ok;
  answer.implicit_mx = mx.implicit_mx;
  // Only the order matters to the prober; the preferences just keep it.
  for (const std::string& host : mx.mx_records) {
    answer.hosts.push_back(MxHost{static_cast<int>(answer.hosts.size()), host});
  }
  if (answer.hosts.empty() && mx.implicit_mx)
    answer.hosts.push_back(MxHost{0, std::string(domain)});
  if (answer.hosts.empty()) return std::nullopt;
  return answer;
}

NetworkVerifier::NetworkVerifier(DnsResolver& dns, SmtpProber& smtp, DomainAgeLookup& domain_age,
                                 NetworkOptions options)
    : dns_(dns), smtp_(smtp), domain_age_(domain_age), options_(std::move(options)) {}

void NetworkVerifier::set_options(NetworkOptions options) { options_ = std::move(options); }

void NetworkVerifier::verify(NetworkRequest request, std::function<void(NetworkFacts)> done) {
  auto pending = std::make_shared<PendingFacts>();
  pending->done = std::move(done);
  const bool full = !request.mx_only;
  const bool age = full && options_.domain_age && !request.registrable_domain.empty();
  const std::size_t blocklists = full ? options_.dnsbl_zones.size() : 0;
  // One extra count held until every lookup has started, so that a lookup
  // answered at once from a cache cannot finish the whole early.
  pending->outstanding = 2 + (age ? 1 : 0) + static_cast<int>(blocklists);

  auto shared_request = std::make_shared<NetworkRequest>(std::move(request));
  const NetworkOptions options = options_;
  dns_.resolve_mx(shared_request->domain, [this, pending, shared_request,
                                           options](MxAnswer answer) {
    record_mx(answer, options, pending->facts);
    const NetworkRequest& req = *shared_request;
    if (req.mx_only || req.depth == Depth::quick || !answer.accepts_mail()) {
      pending->finish_one();
      return;
    }
    if (const std::string* pattern = anti_probe_match(answer, options)) {
      pending->facts.smtp_skipped_by_policy = true;
      pending->facts.warnings.push_back("mail host matches " + *pattern +
                                        ", a provider that refuses SMTP probes: not probed");
      pending->finish_one();
      return;
    }
    ProbeRequest probe;
    probe.recipient = req.address;
    probe.domain = req.domain;
    probe.mx = answer.hosts;
    probe.needs_smtputf8 = req.needs_smtputf8;
    probe.settings = req.smtp;
    probe.settings.extended = req.depth == Depth::extended;
    smtp_.probe(std::move(probe), [pending](ProbeResult result) {
      record_probe(result, pending->facts);
      pending->finish_one();
    });
  });

  if (age) {
    domain_age_.lookup(shared_request->registrable_domain, [pending](DomainAgeResult result) {
      if (result.created_days) {
        pending->facts.domain_created_days = result.created_days;
        pending->facts.domain_age_days = days_since_epoch_today() - *result.created_days;
      } else if (!result.warning.empty()) {
        pending->age_warnings.push_back("domain age unknown: " + result.warning);
      }
      pending->finish_one();
    });
  }
  for (std::size_t i = 0; i < blocklists; ++i) {
    const std::string zone = options_.dnsbl_zones[i];
    dns_.resolve_a(shared_request->domain + "." + zone, [pending, zone](AddressAnswer answer) {
      if (answer.status == DnsStatus::ok && !answer.addresses.empty()) {
        pending->facts.dnsbl_listed = true;
        pending->blocklist_warnings.push_back("listed in DNS blocklist " + zone);
      }
      pending->finish_one();
    });
  }
  pending->finish_one();  // every lookup has started
}

}  // namespace mailsentry
