// A deterministic set of realistic addresses for the benchmarks: people's
// names in the usual local-part shapes at popular, business, disposable and
// misspelled domains, plus role, test and random local parts.
#pragma once

#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace mailsentry::bench {

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(std::string(MAILSENTRY_SOURCE_DIR) + "/" + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line.substr(0, line.find('\t')));
  return lines;
}

inline std::vector<std::string> realistic_addresses(std::size_t count) {
  const auto names = read_lines("data/names.txt");
  const auto popular = read_lines("data/popular_domains_ranked.txt");
  const auto disposable = read_lines("data/disposable.txt");
  const std::vector<std::string> business = {
      "acme-widgets.com", "northwind.io", "contoso.co.uk", "fabrikam.de",  "initech.net",
      "globex.com",       "umbrella.fr",  "hooli.com",     "stark.dev",    "wayne-ent.com",
      "example-corp.org", "bücher.de",    "mail.acme.com", "dept.uni.edu", "shop.co.za"};
  const std::vector<std::string> misspelled = {"gmial.com", "hotmial.com", "yahoo.cmo",
                                               "gmail.co",  "outlok.com",  "acme.con"};
  const std::vector<std::string> odd_locals = {"info", "sales",           "noreply",      "support",
                                               "test", "qwertyuiop",      "asdkjfh38274", "admin",
                                               "xq7z", "a1b2c3d4e5f6a7b8"};
  std::mt19937 rng(20261130);
  auto pick = [&rng](const auto& v) -> const std::string& {
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
  };
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const int shape = std::uniform_int_distribution<int>(0, 99)(rng);
    std::string local;
    if (shape < 35)
      local = pick(names) + "." + pick(names);
    else if (shape < 55)
      local = pick(names).substr(0, 1) + pick(names);
    else if (shape < 70)
      local = pick(names) + std::to_string(1950 + shape);
    else if (shape < 80)
      local = pick(names) + "_" + pick(names);
    else if (shape < 85)
      local = pick(names) + "+news";
    else
      local = pick(odd_locals);
    const int where = std::uniform_int_distribution<int>(0, 99)(rng);
    const std::string& domain = where < 50   ? pick(popular)
                                : where < 88 ? pick(business)
                                : where < 95 ? pick(disposable)
                                             : pick(misspelled);
    out.push_back(local + "@" + domain);
  }
  return out;
}

}  // namespace mailsentry::bench
