#include "net/network_verifier.hpp"

#include <asio/steady_timer.hpp>
#include <chrono>

namespace mailsentry {

bool parse_depth(std::string_view text, Depth& depth) {
  for (const auto& [each, name] : kDepths)
    if (text == name) {
      depth = each;
      return true;
    }
  return false;
}

std::string_view depth_name(Depth depth) {
  for (const auto& [each, name] : kDepths)
    if (each == depth) return name;
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
  return static_cast<int>(duration_cast<hours>(system_clock::now().time_since_epoch()).count() /
                          24);
}

// Collects the answers of the concurrent lookups and gives the verdict's
// facts once the MX/SMTP path and the blocklists are done. The registration
// date joins them only if it is there by then, or comes within the grace
// while its lookup is on the wire (depth extended waits for it in full): a
// slow or paced registry never holds a verdict back. Warnings are kept per
// check and joined in a fixed order, so the result does not depend on which
// lookup happened to answer first.
struct PendingFacts : std::enable_shared_from_this<PendingFacts> {
  NetworkFacts facts;
  std::vector<std::string> age_warnings;
  std::vector<std::string> blocklist_warnings;
  int outstanding = 0;  // the MX/SMTP path, each blocklist, and the start
  std::function<void(NetworkFacts)> done;
  bool delivered = false;

  enum class Age { not_wanted, waiting, arrived } age = Age::not_wanted;
  bool wait_for_age = false;  // depth extended
  std::string registrable_domain;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<asio::steady_timer> grace;
  std::weak_ptr<std::function<void(LateDomainAge)>> late_age;

  void finish_one(const std::function<void(PendingFacts&)>& other_checks_done) {
    if (--outstanding == 0) other_checks_done(*this);
  }

  void take_age(const DomainAgeResult& result) {
    if (delivered) {
      // The verdict went out without it: the worker writes it to the rows.
      if (auto handler = late_age.lock())
        (*handler)(LateDomainAge{registrable_domain, result.created_days, result.warning});
      return;
    }
    age = Age::arrived;
    if (result.created_days) {
      facts.domain_created_days = result.created_days;
      facts.domain_age_days = days_since_epoch_today() - *result.created_days;
      if (!result.warning.empty()) age_warnings.push_back("registration date " + result.warning);
    } else if (!result.warning.empty()) {
      age_warnings.push_back("domain age unknown: " + result.warning);
    }
    if (outstanding == 0) deliver();
  }

  void deliver() {
    if (delivered) return;
    delivered = true;
    if (grace) grace->cancel();
    if (age == Age::waiting) {
      facts.domain_age_pending = true;
      age_warnings.push_back("registration date pending");
    }
    for (auto* more : {&age_warnings, &blocklist_warnings})
      facts.warnings.insert(facts.warnings.end(), more->begin(), more->end());
    auto callback = std::move(done);
    callback(std::move(facts));
  }
};

// `dead_trusted`: the resolver is known to see the Internet, so an NXDOMAIN
// or an empty answer proves the domain dead (else it may be the resolver's).
void record_mx(const MxAnswer& answer, const NetworkOptions& options, bool dead_trusted,
               NetworkFacts& facts) {
  switch (answer.status) {
    case DnsStatus::ok:
      facts.mx_found = answer.accepts_mail();
      if (answer.null_mx) {
        facts.dead_domain = DeadDomain::null_mx;
        facts.warnings.push_back("null MX: the domain accepts no mail");
      }
      break;
    case DnsStatus::no_such_domain:
    case DnsStatus::no_data: {
      const bool nxdomain = answer.status == DnsStatus::no_such_domain;
      const char* what =
          nxdomain ? "no such domain (NXDOMAIN)" : "the domain has no MX, A or AAAA record";
      if (dead_trusted) {
        facts.mx_found = false;
        facts.dead_domain = nxdomain ? DeadDomain::nxdomain : DeadDomain::no_address;
        facts.warnings.push_back(what);
      } else {
        facts.warnings.push_back(std::string("DNS said ") + what +
                                 ", but the resolver cannot see the Internet (canary lookups "
                                 "failed): not trusted");
      }
      break;
    }
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

// How reaching the mail hosts ended, when it proves the domain dead: every MX
// host without an address, or only on off-limits addresses; or no MX and the
// domain's own address refusing SMTP while port 25 is known to work here.
void record_reach(const ProbeResult& result, bool implicit_mx, NetworkFacts& facts) {
  switch (result.reach) {
    case MailHostReach::no_address:
      facts.dead_domain = DeadDomain::no_address;
      break;
    case MailHostReach::off_limits:
      facts.dead_domain = DeadDomain::off_limits;
      break;
    case MailHostReach::refused:
      if (implicit_mx && result.port25_known_working) facts.dead_domain = DeadDomain::refuses_smtp;
      break;
    default:
      break;
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

NetworkVerifier::NetworkVerifier(asio::io_context& io, DnsResolver& dns, SmtpProber& smtp,
                                 DomainAgeLookup& domain_age, ResolverCanary& canary,
                                 NetworkOptions options)
    : io_(io),
      dns_(dns),
      smtp_(smtp),
      domain_age_(domain_age),
      canary_(canary),
      options_(std::move(options)),
      late_age_(std::make_shared<std::function<void(LateDomainAge)>>()) {}

void NetworkVerifier::set_options(NetworkOptions options) { options_ = std::move(options); }

void NetworkVerifier::on_late_domain_age(std::function<void(LateDomainAge)> handler) {
  *late_age_ = std::move(handler);
}

void NetworkVerifier::verify(NetworkRequest request, std::function<void(NetworkFacts)> done) {
  auto pending = std::make_shared<PendingFacts>();
  pending->done = std::move(done);
  const bool full = !request.mx_only;
  const bool age = full && options_.domain_age && !request.registrable_domain.empty();
  const std::size_t blocklists = full ? options_.dnsbl_zones.size() : 0;
  // One extra count held until every lookup has started, so that a lookup
  // answered at once from a cache cannot finish the whole early.
  pending->outstanding = 2 + static_cast<int>(blocklists);
  if (age) {
    pending->age = PendingFacts::Age::waiting;
    pending->wait_for_age = request.depth == Depth::extended;
    pending->registrable_domain = request.registrable_domain;
    pending->late_age = late_age_;
  }

  // The MX/SMTP path and the blocklists are done: give the verdict now, or
  // after a short grace for a registration date that is on its way.
  const std::weak_ptr<std::function<void(LateDomainAge)>> alive = late_age_;
  const std::chrono::milliseconds grace = options_.domain_age_grace;
  auto other_checks_done = [this, alive, grace](PendingFacts& p) {
    if (p.age != PendingFacts::Age::waiting || p.wait_for_age) {
      if (p.age != PendingFacts::Age::waiting) p.deliver();
      return;
    }
    // Answered and on its way to this verification (the answer is cached
    // before the callbacks run), or on the wire with it at a server that is
    // not hanging: worth the grace. Queued behind a registry's rate limit or
    // breaker, or long asked at a server that does not answer: not.
    const bool on_its_way = grace > std::chrono::milliseconds::zero() && !alive.expired() &&
                            (domain_age_.state(p.registrable_domain) == LookupState::cached ||
                             domain_age_.worth_waiting_for(p.registrable_domain, p.started, grace));
    if (!on_its_way) {
      p.deliver();
      return;
    }
    p.grace = std::make_unique<asio::steady_timer>(io_, grace);
    p.grace->async_wait([weak = p.weak_from_this()](const std::error_code& error) {
      if (error) return;
      if (auto self = weak.lock()) self->deliver();
    });
  };

  auto shared_request = std::make_shared<NetworkRequest>(std::move(request));
  const NetworkOptions options = options_;
  auto after_mx = [this, pending, shared_request, options, other_checks_done](
                      const MxAnswer& answer, bool dead_trusted) {
    record_mx(answer, options, dead_trusted, pending->facts);
    const NetworkRequest& req = *shared_request;
    if (req.mx_only || req.depth == Depth::quick || !answer.accepts_mail()) {
      pending->finish_one(other_checks_done);
      return;
    }
    if (const std::string* pattern = anti_probe_match(answer, options)) {
      pending->facts.smtp_skipped_by_policy = true;
      pending->facts.warnings.push_back("mail host matches " + *pattern +
                                        ", a provider that refuses SMTP probes: not probed");
      pending->finish_one(other_checks_done);
      return;
    }
    ProbeRequest probe;
    probe.recipient = req.address;
    probe.domain = req.domain;
    probe.mx = answer.hosts;
    probe.needs_smtputf8 = req.needs_smtputf8;
    probe.settings = req.smtp;
    probe.settings.extended = req.depth == Depth::extended;
    const bool implicit_mx = answer.implicit_mx;
    smtp_.probe(std::move(probe), [pending, implicit_mx, other_checks_done](ProbeResult result) {
      record_probe(result, pending->facts);
      record_reach(result, implicit_mx, pending->facts);
      pending->finish_one(other_checks_done);
    });
  };
  dns_.resolve_mx(shared_request->domain, [this, after_mx](MxAnswer answer) {
    const bool negative =
        answer.status == DnsStatus::no_such_domain || answer.status == DnsStatus::no_data;
    if (!negative) {
      after_mx(answer, true);
      return;
    }
    // A resolver that cannot see the Internet says NXDOMAIN for everything:
    // a negative answer proves a dead domain only once the canary has passed.
    canary_.when_known([this, after_mx, answer](bool sees_internet) {
      if (sees_internet) canary_.note_dead_finding();
      after_mx(answer, sees_internet);
    });
  });

  if (age) {
    domain_age_.lookup(shared_request->registrable_domain,
                       [pending](DomainAgeResult result) { pending->take_age(result); });
  }
  for (std::size_t i = 0; i < blocklists; ++i) {
    const std::string zone = options_.dnsbl_zones[i];
    dns_.resolve_a(shared_request->domain + "." + zone,
                   [pending, zone, other_checks_done](AddressAnswer answer) {
                     if (answer.status == DnsStatus::ok && !answer.addresses.empty()) {
                       pending->facts.dnsbl_listed = true;
                       pending->blocklist_warnings.push_back("listed in DNS blocklist " + zone);
                     }
                     pending->finish_one(other_checks_done);
                   });
  }
  pending->finish_one(other_checks_done);  // every lookup has started
}

}  // namespace mailsentry
