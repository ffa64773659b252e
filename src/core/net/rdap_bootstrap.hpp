// IANA's RDAP bootstrap registry for domain names (RFC 9224, "dns.json"):
// which RDAP servers answer for which TLDs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mailsentry {

class RdapBootstrap {
 public:
  // nullopt (and `error` set) when the text is not a bootstrap file.
  static std::optional<RdapBootstrap> parse(std::string_view json, std::string* error = nullptr);
  static std::optional<RdapBootstrap> load_file(const std::string& path,
                                                std::string* error = nullptr);

  // Base URLs of the service whose label set is the longest suffix of
  // `domain` ("example.co.uk" tries "example.co.uk", "co.uk", then "uk"),
  // https first; empty when no service covers the domain.
  std::vector<std::string> base_urls_for(std::string_view domain) const;

  // base + "domain/" + name, with exactly one slash between base and "domain".
  static std::string domain_query_url(std::string_view base_url, std::string_view domain);

  std::size_t entry_count() const { return services_by_suffix_.size(); }
  const std::string& publication() const { return publication_; }

 private:
  std::unordered_map<std::string, std::vector<std::string>> services_by_suffix_;
  std::string publication_;
};

}  // namespace mailsentry
