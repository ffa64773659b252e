// Parsing and lookup of IANA's RDAP bootstrap file for domain names.
#include "net/rdap_bootstrap.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace mailsentry {
namespace {

std::string lower_ascii(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  while (!result.empty() && result.back() == '.') result.pop_back();
  return result;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

void set_error(std::string* error, std::string message) {
  if (error) *error = std::move(message);
}

}  // namespace

std::optional<RdapBootstrap> RdapBootstrap::parse(std::string_view json, std::string* error) {
  nlohmann::json document =
      nlohmann::json::parse(json.begin(), json.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    set_error(error, "RDAP bootstrap file is not valid JSON");
    return std::nullopt;
  }
  auto services = document.is_object() ? document.find("services") : document.end();
  if (!document.is_object() || services == document.end() || !services->is_array()) {
    set_error(error, "RDAP bootstrap file has no \"services\" array");
    return std::nullopt;
  }
  RdapBootstrap bootstrap;
  auto publication = document.find("publication");
  if (publication != document.end() && publication->is_string()) {
    bootstrap.publication_ = publication->get<std::string>();
  }
  for (const nlohmann::json& service : *services) {
    // Each service is [[labels...], [urls...]] (RFC 9224 section 3); skip odd ones.
    if (!service.is_array() || service.size() < 2 || !service[0].is_array() ||
        !service[1].is_array()) {
      continue;
    }
    std::vector<std::string> urls;
    for (const nlohmann::json& url : service[1]) {
      if (!url.is_string()) continue;
      const std::string& text = url.get_ref<const std::string&>();
      if (starts_with(text, "https://") || starts_with(text, "http://")) urls.push_back(text);
    }
    // RFC 9224: prefer https when a service offers both schemes.
    std::stable_partition(urls.begin(), urls.end(),
                          [](const std::string& url) { return starts_with(url, "https://"); });
    if (urls.empty()) continue;
    for (const nlohmann::json& label : service[0]) {
      if (!label.is_string()) continue;
      std::string suffix = lower_ascii(label.get_ref<const std::string&>());
      if (!suffix.empty()) bootstrap.services_by_suffix_.emplace(std::move(suffix), urls);
    }
  }
  if (bootstrap.services_by_suffix_.empty()) {
    set_error(error, "RDAP bootstrap file lists no usable service");
    return std::nullopt;
  }
  return bootstrap;
}

std::optional<RdapBootstrap> RdapBootstrap::load_file(const std::string& path, std::string* error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    set_error(error, "cannot read RDAP bootstrap file " + path);
    return std::nullopt;
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  std::string parse_error;
  std::optional<RdapBootstrap> bootstrap = parse(contents.str(), &parse_error);
  if (!bootstrap) set_error(error, parse_error + " (" + path + ")");
  return bootstrap;
}

std::vector<std::string> RdapBootstrap::base_urls_for(std::string_view domain) const {
  std::string name = lower_ascii(domain);
  std::string_view rest = name;
  while (!rest.empty()) {
    auto found = services_by_suffix_.find(std::string(rest));
    if (found != services_by_suffix_.end()) return found->second;
    std::size_t dot = rest.find('.');
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return {};
}

std::string RdapBootstrap::domain_query_url(std::string_view base_url, std::string_view domain) {
  std::string url(base_url);
  if (url.empty() || url.back() != '/') url += '/';
  url += "domain/";
  url += lower_ascii(domain);
  return url;
}

}  // namespace mailsentry
