#include "verdict/settings_checks.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailsentry {
namespace {

TEST(SettingsChecks, HeloNameTakesHostNamesAndAddressLiterals) {
  EXPECT_EQ(helo_name_problem("mx1.example.com"), "");
  EXPECT_EQ(helo_name_problem("localhost"), "");
  EXPECT_EQ(helo_name_problem("[192.0.2.1]"), "");
  EXPECT_EQ(helo_name_problem(""), "The name is empty.");
  EXPECT_EQ(helo_name_problem(std::string(256, 'a')),
            "The name is 256 bytes long; at most 255 are allowed.");
  EXPECT_EQ(helo_name_problem("mx_1.example.com"),
            "A host name has only letters, digits, hyphens and dots (byte 3 is not one).");
  EXPECT_EQ(helo_name_problem("-mx.example.com"),
            "Each label of a host name has 1 to 63 characters and neither starts nor ends with a "
            "hyphen.");
  EXPECT_EQ(helo_name_problem("mx..example.com"),
            "Each label of a host name has 1 to 63 characters and neither starts nor ends with a "
            "hyphen.");
  EXPECT_EQ(helo_name_problem("[192.0.2.1"), "Not an address literal: no closing bracket.");
  EXPECT_NE(helo_name_problem("[300.0.2.1]"), "");
}

TEST(SettingsChecks, MailFromIsABareAddressOrEmpty) {
  EXPECT_EQ(mail_from_problem(""), "");
  EXPECT_EQ(mail_from_problem("probe@example.com"), "");
  EXPECT_EQ(mail_from_problem("<probe@example.com>"),
            "The address has a space or an angle bracket.");
  EXPECT_EQ(mail_from_problem("probe @example.com"),
            "The address has a space or an angle bracket.");
  EXPECT_EQ(mail_from_problem("not-an-address").rfind("Not an email address: ", 0), 0u);
}

TEST(SettingsChecks, DnsServersAreIpAddressesWithOptionalPorts) {
  EXPECT_EQ(dns_servers_problem(""), "");
  EXPECT_EQ(dns_servers_problem("127.0.0.53:5353, [::1]:53"), "");
  EXPECT_NE(dns_servers_problem("dns.example.com"), "");
}

TEST(SettingsChecks, SourceAddressesAreIpAddresses) {
  EXPECT_EQ(source_addresses_problem(""), "");
  EXPECT_EQ(source_addresses_problem("192.0.2.7, 2001:db8::5"), "");
  EXPECT_EQ(source_addresses_problem("192.0.2.7, mail.example.com"),
            "\"mail.example.com\" is not an IP address");
}

TEST(SettingsChecks, SmtpTimeoutsAreOneToSixMilliseconds) {
  EXPECT_EQ(smtp_timeouts_problem("1500,2500,3500"), "");
  EXPECT_EQ(smtp_timeouts_problem("10"), "");
  EXPECT_EQ(smtp_timeouts_problem("5"), "\"5\" is not a timeout in milliseconds (10-600000)");
  EXPECT_EQ(smtp_timeouts_problem("100, 2s"),
            "\"2s\" is not a timeout in milliseconds (10-600000)");
  EXPECT_EQ(smtp_timeouts_problem(""), "give 1 to 6 timeouts, e.g. '1500,2500,3500'");
  EXPECT_EQ(smtp_timeouts_problem("10,10,10,10,10,10,10"),
            "give 1 to 6 timeouts, e.g. '1500,2500,3500'");
}

}  // namespace
}  // namespace mailsentry
