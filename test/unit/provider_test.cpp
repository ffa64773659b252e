#include "checks/provider.hpp"

#include <gtest/gtest.h>

namespace mailsentry {
namespace {

const Lists& lists() {
  static const Lists kLists = Lists::builtin();
  return kLists;
}

ParsedAddress address(std::string local, std::string domain) {
  ParsedAddress parsed;
  parsed.valid = true;
  parsed.local = std::move(local);
  parsed.domain = std::move(domain);
  parsed.domain_unicode = parsed.domain;
  return parsed;
}

ProviderResult provider(std::string local, std::string domain, bool disposable = false) {
  return classify_provider(address(std::move(local), std::move(domain)), lists(), disposable);
}

TEST(Provider, FreeProvidersAndNames) {
  EXPECT_TRUE(provider("john.smith", "gmail.com").is_free);
  EXPECT_EQ(provider("john.smith", "gmail.com").provider_name, "Gmail");
  EXPECT_EQ(provider("john.smith", "googlemail.com").provider_name, "Gmail");
  EXPECT_EQ(provider("jsmith", "hotmail.co.uk").provider_name, "Outlook.com");
  EXPECT_EQ(provider("jsmith", "me.com").provider_name, "iCloud Mail");
  EXPECT_EQ(provider("jsmith", "proton.me").provider_name, "Proton Mail");
  // On the free list only: free, without a name.
  EXPECT_TRUE(provider("jsmith", "comcast.net").is_free);
  EXPECT_TRUE(provider("jsmith", "juno.com").is_free);
  EXPECT_EQ(provider("jsmith", "juno.com").provider_name, "");
  // On providers.tsv only (Tuta is not in the shared free list).
  EXPECT_TRUE(provider("jsmith", "tuta.io").is_free);
  // Exact domain only: a subdomain is somebody's own domain.
  EXPECT_FALSE(provider("jsmith", "corp.gmail.com").is_free);
}

TEST(Provider, BusinessDomains) {
  EXPECT_TRUE(provider("jane", "acme-widgets.com").is_business);
  EXPECT_FALSE(provider("jane", "gmail.com").is_business);
  EXPECT_FALSE(provider("jane", "acme-widgets.com", /*disposable=*/true).is_business);
  ParsedAddress invalid = address("jane", "acme-widgets.com");
  invalid.valid = false;
  EXPECT_FALSE(classify_provider(invalid, lists(), false).is_business);
  ParsedAddress literal = address("jane", "[192.0.2.1]");
  literal.address_literal = true;
  EXPECT_FALSE(classify_provider(literal, lists(), false).is_business);
  EXPECT_FALSE(classify_provider(literal, lists(), false).is_free);
}

TEST(Provider, PlusAliasOnAnyDomain) {
  EXPECT_EQ(provider("john+news", "gmail.com").plus_alias, "news");
  EXPECT_EQ(provider("john+a+b", "acme.com").plus_alias, "a+b");  // after the first '+'
  EXPECT_EQ(provider("John+Shop", "acme.com").plus_alias, "Shop");
  EXPECT_EQ(provider("john", "acme.com").plus_alias, "");
  EXPECT_EQ(provider("john+", "acme.com").plus_alias, "");
}

TEST(Provider, GmailRules) {
  EXPECT_EQ(provider("john.smith", "gmail.com").format_violation, "");
  EXPECT_EQ(provider("John.Smith+shopping", "gmail.com").format_violation, "");
  EXPECT_EQ(provider("j.o.h.n.s.m", "gmail.com").format_violation, "");  // 6 letters, dots free
  EXPECT_NE(provider("john_smith", "gmail.com").format_violation, "");
  EXPECT_NE(provider("john-smith", "gmail.com").format_violation, "");
  EXPECT_NE(provider("jo.hn", "gmail.com").format_violation, "");  // 4 letters
  EXPECT_NE(provider("abcde", "googlemail.com").format_violation, "");
  EXPECT_NE(provider(std::string(31, 'a'), "gmail.com").format_violation, "");
  EXPECT_EQ(provider(std::string(30, 'a'), "gmail.com").format_violation, "");
  EXPECT_NE(provider("john..smith", "gmail.com").format_violation, "");
  EXPECT_NE(provider(".johnsmith", "gmail.com").format_violation, "");
  // Other providers' rules do not apply to a business domain.
  EXPECT_EQ(provider("j_s", "acme.com").format_violation, "");
}

TEST(Provider, OutlookRules) {
  EXPECT_EQ(provider("john_smith-1.x", "outlook.com").format_violation, "");
  EXPECT_EQ(provider("john+tag", "hotmail.com").format_violation, "");
  EXPECT_NE(provider("1john", "hotmail.com").format_violation, "");
  EXPECT_NE(provider("_john", "live.com").format_violation, "");
  EXPECT_NE(provider("john!smith", "outlook.com").format_violation, "");
}

TEST(Provider, YahooRules) {
  EXPECT_EQ(provider("john.smith", "yahoo.com").format_violation, "");
  EXPECT_EQ(provider("john_smith99", "yahoo.co.uk").format_violation, "");
  EXPECT_EQ(provider("jsmith-shopping", "yahoo.com").format_violation, "");  // disposable address
  EXPECT_NE(provider("j.o.hn", "yahoo.com").format_violation, "");           // two periods
  EXPECT_NE(provider("abc", "yahoo.com").format_violation, "");              // 3 characters
  EXPECT_NE(provider("9john", "ymail.com").format_violation, "");
  EXPECT_NE(provider("john+tag", "yahoo.com").format_violation, "");
  // Yahoo! JAPAN is another company; its rules are not Yahoo Mail's.
  EXPECT_EQ(provider("abc", "yahoo.co.jp").format_violation, "");
}

TEST(Provider, QuotedOrNonAsciiLocalOnRuleProviders) {
  ParsedAddress quoted = address("\"john smith\"", "gmail.com");
  quoted.quoted_local = true;
  EXPECT_NE(classify_provider(quoted, lists(), false).format_violation, "");
  ParsedAddress utf8 = address("jöhnsmith", "outlook.com");
  utf8.utf8_local = true;
  EXPECT_NE(classify_provider(utf8, lists(), false).format_violation, "");
}

TEST(Provider, ExcessiveDots) {
  EXPECT_TRUE(provider("j.o.h.n", "gmail.com").excessive_dots);
  EXPECT_FALSE(provider("j.oh.n", "gmail.com").excessive_dots);
  EXPECT_FALSE(provider("j.oh.n+a.b.c", "gmail.com").excessive_dots);  // tag not counted
  EXPECT_FALSE(provider("a.b.c.d", "acme.com").excessive_dots);        // free providers only
}

TEST(Provider, UserOverridesOfTheProviderList) {
  Lists copy = Lists::builtin();
  copy.providers.add("mail.acme.com", "Acme Mail");
  auto result = classify_provider(address("jane", "mail.acme.com"), copy, false);
  EXPECT_TRUE(result.is_free);
  EXPECT_EQ(result.provider_name, "Acme Mail");
  copy.free_providers.remove("gmail.com");
  copy.providers.remove("gmail.com");
  EXPECT_FALSE(classify_provider(address("jane", "gmail.com"), copy, false).is_free);
}

}  // namespace
}  // namespace mailsentry
