// Tests of the domain age check: parsers, bootstrap, HTTP framing, and
// end-to-end lookups against a local RDAP/WHOIS responder on loopback.
#include "net/domain_age.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "net/https_get.hpp"
#include "net/rdap_bootstrap.hpp"
#include "net/registration_date.hpp"
#include "net/whois_client.hpp"
#include "rdap_whois_fixture.hpp"

namespace mailsentry {
namespace {

using std::chrono::milliseconds;

// Days since 1970-01-01 of the dates used below (checked with Python's datetime).
constexpr int k1997_09_15 = 10119;
constexpr int k2019_03_04 = 17959;
constexpr int k2001_01_01 = 11323;
constexpr int k2005_06_20 = 12954;
constexpr int k2000_01_01 = 10957;
constexpr int k2003_03_17 = 12128;
constexpr int k2002_04_18 = 11795;
constexpr int k2004_05_10 = 12548;
constexpr int k2007_03_22 = 13594;
constexpr int k1999_01_04 = 10595;
constexpr int k1996_06_07 = 9654;
constexpr int k2000_12_31 = 11322;
constexpr int k2012_02_29 = 15399;

// ---- Dates ---------------------------------------------------------------

TEST(DaysSinceEpoch, KnownDates) {
  EXPECT_EQ(days_since_epoch(1970, 1, 1), 0);
  EXPECT_EQ(days_since_epoch(2000, 1, 1), k2000_01_01);
  EXPECT_EQ(days_since_epoch(2012, 2, 29), k2012_02_29);
  EXPECT_EQ(days_since_epoch(2001, 2, 29), std::nullopt);
  EXPECT_EQ(days_since_epoch(1900, 2, 29), std::nullopt);  // before 1970 anyway
  EXPECT_EQ(days_since_epoch(2001, 13, 1), std::nullopt);
  EXPECT_EQ(days_since_epoch(2001, 4, 31), std::nullopt);
}

TEST(IsoDate, TimesAndOffsets) {
  EXPECT_EQ(parse_iso_date_days("2019-03-04"), k2019_03_04);
  EXPECT_EQ(parse_iso_date_days("2019-03-04T12:00:00Z"), k2019_03_04);
  EXPECT_EQ(parse_iso_date_days("2019-03-04T23:59:59.123456Z"), k2019_03_04);
  // 00:30 at +02:00 is the previous day in UTC.
  EXPECT_EQ(parse_iso_date_days("2001-01-01T00:30:00+02:00"), k2000_12_31);
  EXPECT_EQ(parse_iso_date_days("2000-12-31T23:30:00-01:00"), k2001_01_01);
  EXPECT_EQ(parse_iso_date_days("2019-13-04"), std::nullopt);
  EXPECT_EQ(parse_iso_date_days("19-03-04"), std::nullopt);
  EXPECT_EQ(parse_iso_date_days("2019-03-045"), std::nullopt);
  EXPECT_EQ(parse_iso_date_days(""), std::nullopt);
}

// ---- RDAP ------------------------------------------------------------------

TEST(RdapRegistration, VerisignShape) {
  const char* json = R"({
    "objectClassName": "domain", "handle": "2138514_DOMAIN_COM-VRSN", "ldhName": "GOOGLE.COM",
    "events": [
      {"eventAction": "registration", "eventDate": "1997-09-15T04:00:00Z"},
      {"eventAction": "expiration", "eventDate": "2028-09-14T04:00:00Z"},
      {"eventAction": "last update of RDAP database", "eventDate": "2024-01-01T00:00:00Z"}
    ]})";
  EXPECT_EQ(rdap_registration_days(json), k1997_09_15);
}

TEST(RdapRegistration, OtherShapes) {
  // Offsets, unusual case, several registrations (the earliest wins), extra members.
  EXPECT_EQ(
      rdap_registration_days(
          R"({"events":[{"eventAction":"Registration","eventDate":"2001-01-01T00:30:00+02:00"}]})"),
      k2000_12_31);
  EXPECT_EQ(rdap_registration_days(R"({"events":[
      {"eventAction":"registration","eventDate":"2005-06-20T10:00:00Z","eventActor":"x"},
      {"eventAction":"registration","eventDate":"2003-03-17"}]})"),
            k2003_03_17);
  EXPECT_EQ(rdap_registration_days(R"({"entities":[{"events":[{"eventAction":"registration",
      "eventDate":"1990-01-01"}]}],"events":[{"eventAction":"registration","eventDate":"2004-05-10T00:00:00.000Z"}]})"),
            k2004_05_10);
}

TEST(RdapRegistration, MissingOrBad) {
  EXPECT_EQ(rdap_registration_days(R"({"objectClassName":"domain"})"), std::nullopt);
  EXPECT_EQ(rdap_registration_days(R"({"events":[]})"), std::nullopt);
  EXPECT_EQ(rdap_registration_days(R"({"events":{"eventAction":"registration"}})"), std::nullopt);
  EXPECT_EQ(rdap_registration_days(
                R"({"events":[{"eventAction":"expiration","eventDate":"2030-01-01T00:00:00Z"}]})"),
            std::nullopt);
  EXPECT_EQ(rdap_registration_days(
                R"({"events":[{"eventAction":"registration","eventDate":"yesterday"}]})"),
            std::nullopt);
  EXPECT_EQ(rdap_registration_days(R"({"events":[{"eventAction":"registration","eventDate":42}]})"),
            std::nullopt);
  EXPECT_EQ(rdap_registration_days("<html>502 Bad Gateway</html>"), std::nullopt);
  EXPECT_EQ(rdap_registration_days(R"({"events":[{"eventAction":"registration")"), std::nullopt);
  EXPECT_EQ(rdap_registration_days(""), std::nullopt);
  EXPECT_EQ(rdap_registration_days("[1,2,3]"), std::nullopt);
  EXPECT_EQ(rdap_registration_days(std::string(100000, '[') + std::string(100000, ']')),
            std::nullopt);
}

// ---- WHOIS -----------------------------------------------------------------

TEST(WhoisCreation, VerisignIcannFormat) {
  EXPECT_EQ(whois_creation_days("   Domain Name: EXAMPLE.COM\r\n"
                                "   Registry Domain ID: 2336799_DOMAIN_COM-VRSN\r\n"
                                "   Updated Date: 2023-08-14T07:01:38Z\r\n"
                                "   Creation Date: 2019-03-04T12:00:00Z\r\n"
                                "   Registry Expiry Date: 2024-08-13T04:00:00Z\r\n"),
            k2019_03_04);
}

TEST(WhoisCreation, RipeStyleCreated) {
  EXPECT_EQ(whois_creation_days("domain:      example.se\nstate:       active\n"
                                "created:     2001-01-01\nmodified:    2020-01-01\n"),
            k2001_01_01);
}

TEST(WhoisCreation, AfnicFr) {
  EXPECT_EQ(whois_creation_days("domain:                        example.fr\n"
                                "status:                        ACTIVE\n"
                                "created:                       2005-06-20T00:00:00Z\n"
                                "last-update:                   2020-01-01T00:00:00Z\n"),
            k2005_06_20);
}

TEST(WhoisCreation, NominetUk) {
  EXPECT_EQ(whois_creation_days("    Domain name:\n        example.co.uk\n\n"
                                "    Relevant dates:\n        Registered on: 01-Jan-2000\n"
                                "        Expiry date:  01-Jan-2030\n"),
            k2000_01_01);
  // Nominet's answer for names older than its records: no usable date.
  EXPECT_EQ(whois_creation_days("        Registered on: before Aug-1996\n"), std::nullopt);
}

TEST(WhoisCreation, CnnicCn) {
  EXPECT_EQ(whois_creation_days("Domain Name: example.cn\nROID: 20030312s10001s00000000-cn\n"
                                "Registration Time: 2003-03-17 12:20:05\n"
                                "Expiration Time: 2030-03-17 12:48:36\n"),
            k2003_03_17);
}

TEST(WhoisCreation, JavaDateUs) {
  EXPECT_EQ(whois_creation_days(
                "Domain Name:                                 example.us\n"
                "Domain Registration Date:                    Thu Apr 18 19:35:41 GMT 2002\n"),
            k2002_04_18);
}

TEST(WhoisCreation, DottedPaddingKey) {
  EXPECT_EQ(
      whois_creation_days("domain ............: example.xx\ncreated ..........: 2004-05-10\n"),
      k2004_05_10);
}

TEST(WhoisCreation, JprsJp) {
  EXPECT_EQ(whois_creation_days("a. [ドメイン名]                 EXAMPLE.JP\n"
                                "[登録年月日]                   2001/01/01\n"
                                "[有効期限]                     2030/01/31\n"),
            k2001_01_01);
}

TEST(WhoisCreation, KisaKr) {
  EXPECT_EQ(whois_creation_days("Domain Name                 : example.kr\n"
                                "Registered Date             : 2007. 03. 22.\n"),
            k2007_03_22);
}

TEST(WhoisCreation, CzNicDayFirst) {
  EXPECT_EQ(whois_creation_days("domain:       example.cz\nregistered:   04.01.1999 01:00:00\n"),
            k1999_01_04);
}

TEST(WhoisCreation, RegistroBrCompact) {
  EXPECT_EQ(whois_creation_days("domain:      example.com.br\ncreated:     19960607 #8451\n"),
            k1996_06_07);
}

TEST(WhoisCreation, DottedYearFirst) {
  EXPECT_EQ(whois_creation_days("DOMAIN NAME:           example.pl\n"
                                "created:               2001.01.01 13:00:00\n"),
            k2001_01_01);
}

TEST(WhoisCreation, AmbiguousAndGarbage) {
  EXPECT_EQ(whois_creation_days("Creation date: 10/05/2005\n"), std::nullopt);  // d/m or m/d?
  EXPECT_EQ(whois_creation_days("Registry Expiry Date: 2030-01-01T00:00:00Z\n"), std::nullopt);
  EXPECT_EQ(whois_creation_days("No match for \"NOPE.COM\".\r\n"), std::nullopt);
  EXPECT_EQ(whois_creation_days("Creation Date: soon\n"), std::nullopt);
  EXPECT_EQ(whois_creation_days(std::string("\0\xff\xfe:\n[]]\n::::", 12)), std::nullopt);
  EXPECT_EQ(whois_creation_days(""), std::nullopt);
  // The first line that parses wins; an unparseable one is skipped.
  EXPECT_EQ(whois_creation_days("Creation Date: unknown\nCreated On: 2000-01-01\n"), k2000_01_01);
}

TEST(WhoisReferral, IanaAnswer) {
  EXPECT_EQ(whois_referral("% IANA WHOIS server\n\ndomain:       DE\n\n"
                           "organisation: DENIC eG\nrefer:        whois.denic.de\n"),
            "whois.denic.de");
  EXPECT_EQ(whois_referral("domain: XX\nwhois:        whois.nic.xx\n"), "whois.nic.xx");
  EXPECT_EQ(whois_referral("domain: XX\nstatus: ACTIVE\n"), "");
}

TEST(WhoisServerSpec, Parsing) {
  auto server = parse_whois_server("Whois.Example:4343");
  ASSERT_TRUE(server);
  EXPECT_EQ(server->host, "whois.example");
  EXPECT_EQ(server->port, 4343);
  EXPECT_EQ(parse_whois_server("whois.example")->port, 43);
  EXPECT_EQ(parse_whois_server("[::1]:4343")->host, "::1");
  EXPECT_EQ(parse_whois_server("::1")->port, 43);
  EXPECT_FALSE(parse_whois_server("host:0"));
  EXPECT_FALSE(parse_whois_server("host:99999"));
  EXPECT_FALSE(parse_whois_server("host:"));
  EXPECT_FALSE(parse_whois_server(""));
}

// ---- Bootstrap -------------------------------------------------------------

TEST(RdapBootstrapFile, ShippedCopyParses) {
  std::string error;
  auto bootstrap =
      RdapBootstrap::load_file(std::string(MAILSENTRY_SOURCE_DIR) + "/data/rdap_dns.json", &error);
  ASSERT_TRUE(bootstrap) << error;
  EXPECT_GT(bootstrap->entry_count(), 1000u);
  EXPECT_EQ(bootstrap->base_urls_for("google.com"),
            std::vector<std::string>{"https://rdap.verisign.com/com/v1/"});
  EXPECT_EQ(bootstrap->base_urls_for("Example.NET."),
            std::vector<std::string>{"https://rdap.verisign.com/net/v1/"});
  EXPECT_EQ(bootstrap->base_urls_for("wikipedia.org"),
            std::vector<std::string>{"https://rdap.publicinterestregistry.org/rdap/"});
  EXPECT_EQ(bootstrap->base_urls_for("bbc.co.uk"),
            std::vector<std::string>{"https://rdap.nominet.uk/uk/"});
  EXPECT_TRUE(bootstrap->base_urls_for("example.invalid-tld").empty());
}

TEST(RdapBootstrapFile, LongestMatchAndHttpsFirst) {
  auto bootstrap = RdapBootstrap::parse(R"({"version":"1.0","services":[
      [["uk"],["https://uk.example/"]],
      [["co.uk"],["http://plain.example/couk/","https://tls.example/couk/"]],
      [["broken"]],
      [["ftp"],["ftp://nope.example/"]]]})");
  ASSERT_TRUE(bootstrap);
  EXPECT_EQ(bootstrap->base_urls_for("shop.example.co.uk"),
            (std::vector<std::string>{"https://tls.example/couk/", "http://plain.example/couk/"}));
  EXPECT_EQ(bootstrap->base_urls_for("example.org.uk"),
            std::vector<std::string>{"https://uk.example/"});
  EXPECT_TRUE(bootstrap->base_urls_for("x.ftp").empty());
}

TEST(RdapBootstrapFile, QueryUrl) {
  EXPECT_EQ(RdapBootstrap::domain_query_url("https://rdap.verisign.com/com/v1/", "Google.COM"),
            "https://rdap.verisign.com/com/v1/domain/google.com");
  EXPECT_EQ(RdapBootstrap::domain_query_url("https://rdap.example/rdap", "a.example"),
            "https://rdap.example/rdap/domain/a.example");
}

TEST(RdapBootstrapFile, Rejects) {
  std::string error;
  EXPECT_FALSE(RdapBootstrap::parse("not json", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(RdapBootstrap::parse(R"({"services":{}})", &error));
  EXPECT_FALSE(RdapBootstrap::parse(R"({"services":[]})", &error));
  EXPECT_FALSE(RdapBootstrap::load_file("/nonexistent/dns.json", &error));
  EXPECT_NE(error.find("/nonexistent/dns.json"), std::string::npos);
}

// ---- HTTP framing and URLs -------------------------------------------------

TEST(HttpResponseParsing, ContentLengthAndChunked) {
  HttpResponse response;
  EXPECT_EQ(
      parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, 100, response),
      HttpParseState::incomplete);
  EXPECT_EQ(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 100,
                                response),
            HttpParseState::complete);
  EXPECT_EQ(response.body, "hello");
  response = {};
  EXPECT_EQ(parse_http_response("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
                                false, 100, response),
            HttpParseState::complete);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "abc0123456789");
  response = {};
  EXPECT_EQ(parse_http_response("HTTP/1.0 200 OK\r\n\r\nuntil close", false, 100, response),
            HttpParseState::incomplete);
  EXPECT_EQ(parse_http_response("HTTP/1.0 200 OK\r\n\r\nuntil close", true, 100, response),
            HttpParseState::complete);
  EXPECT_EQ(response.body, "until close");
  EXPECT_EQ(parse_http_response("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                                "Content-Length: 2\r\n\r\nok",
                                false, 100, response),
            HttpParseState::complete);
  EXPECT_EQ(response.status, 200);
}

TEST(HttpResponseParsing, LimitsAndGarbage) {
  HttpResponse response;
  EXPECT_EQ(
      parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", false, 100, response),
      HttpParseState::too_large);
  EXPECT_EQ(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n",
                                false, 100, response),
            HttpParseState::too_large);
  EXPECT_EQ(parse_http_response("SSH-2.0-OpenSSH\r\n\r\n", false, 100, response),
            HttpParseState::malformed);
  EXPECT_EQ(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                                false, 100, response),
            HttpParseState::malformed);
  EXPECT_EQ(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                                false, 100, response),
            HttpParseState::malformed);
}

TEST(HttpUrlParsing, Forms) {
  auto url = parse_http_url("https://RDAP.Example:8443/rdap/domain/a.example?x=1#frag");
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "rdap.example");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->target, "/rdap/domain/a.example?x=1");
  EXPECT_EQ(url->host_header(), "rdap.example:8443");
  auto plain = parse_http_url("http://[::1]/x");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host, "::1");
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->host_header(), "[::1]");
  EXPECT_FALSE(parse_http_url("ftp://x/"));
  EXPECT_FALSE(parse_http_url("https://user@host/"));
  EXPECT_FALSE(parse_http_url("https://host:70000/"));
  EXPECT_FALSE(parse_http_url("https://host/a b"));
  // Hosts: names and IPv6 literals only (they reach the Host header and SNI).
  EXPECT_FALSE(parse_http_url("https://ho\r\nX-Injected: 1/"));
  EXPECT_FALSE(parse_http_url("https://ho st/"));
  EXPECT_FALSE(parse_http_url("https://host%2f/"));
  EXPECT_FALSE(parse_http_url("https://[::1\n]/"));
  EXPECT_FALSE(parse_http_url("https://" + std::string(254, 'a') + "/"));
  EXPECT_TRUE(parse_http_url("https://rdap_1.nic-x.example./"));
  EXPECT_TRUE(parse_http_url("https://[2001:db8::1]:8443/"));
}

// ---- End to end against the local responder --------------------------------

nlohmann::json rdap_status(int status) {
  return {{"status", status}, {"body", {{"errorCode", status}, {"title", "try later"}}}};
}

nlohmann::json rdap_domain(const std::string& registered) {
  return {{"status", 200},
          {"body",
           {{"objectClassName", "domain"},
            {"events",
             nlohmann::json::array(
                 {{{"eventAction", "registration"}, {"eventDate", registered}},
                  {{"eventAction", "expiration"}, {"eventDate", "2031-01-01T00:00:00Z"}}})}}}};
}

class DomainAgeEndToEnd : public testing::RdapWhoisResponderTest {
 protected:
  nlohmann::json fixtures() const override {
    return {{"rdap",
             {{"alpha.tls", rdap_domain("2019-03-04T12:00:00Z")},
              {"beta.tls", rdap_domain("2001-01-01T00:00:00Z")},
              {"gamma.tls", rdap_domain("2000-01-01T00:00:00Z")},
              {"delta.tls", rdap_domain("2005-06-20T00:00:00Z")},
              {"noevents.tls", {{"status", 200}, {"body", {{"objectClassName", "domain"}}}}},
              {"big.tls", {{"oversize", 2 * 1024 * 1024}}},
              {"plain.plain",
               {{"chunked", true}, {"body", rdap_domain("2003-03-17T00:00:00Z")["body"]}}},
              {"other.plain", rdap_domain("2004-05-10T00:00:00Z")},
              {"busy1.plain", rdap_status(503)},
              {"busy2.plain", rdap_status(503)},
              {"busy3.plain", rdap_status(503)},
              {"busy4.plain", rdap_status(503)},
              {"limited.plain", rdap_status(429)}}},
            {"whois",
             {{"old.nordap", "Domain Name: OLD.NORDAP\r\nCreation Date: 2002-04-18T00:00:00Z\r\n"},
              {"viaref", "domain:  VIAREF\nrefer:   whois-ref.test\n"},
              {"shop.viaref", "created: 2004-05-10\n"},
              // For RDAP failures: WHOIS knows these domains.
              {"alpha.closed", "Creation Date: 2001-01-01T00:00:00Z\n"},
              {"beta.closed", "Creation Date: 2000-01-01T00:00:00Z\n"},
              {"slow.silent", "Creation Date: 2005-06-20T00:00:00Z\n"},
              {"busy1.plain", "Creation Date: 2003-03-17T00:00:00Z\n"},
              {"limited.plain", "Creation Date: 2002-04-18T00:00:00Z\n"},
              {"noevents.tls", "Creation Date: 2007-03-22T00:00:00Z\n"},
              {"unknown.tls", "Creation Date: 1999-01-04T00:00:00Z\n"},
              {"silent", "domain:  SILENT\nrefer:   whois-ref.test\n"},
              {"ref.silent", "created: 1996-06-07\n"}}}};
  }

  void SetUp() override {
    RdapWhoisResponderTest::SetUp();
    if (HasFatalFailure()) return;
    nlohmann::json bootstrap = {
        {"version", "1.0"},
        {"services",
         {{{"tls"}, {"https://rdap-tls.test:" + std::to_string(https_port) + "/rdap/"}},
          {{"plain"}, {"http://rdap-plain.test:" + std::to_string(http_port) + "/rdap"}},
          {{"silent"}, {"http://rdap-silent.test:" + std::to_string(silent_port) + "/"}},
          {{"closed"}, {"http://rdap-closed.test:" + std::to_string(closed_port) + "/"}}}}};
    std::ofstream(path("bootstrap.json")) << bootstrap.dump();
    options.bootstrap_file = path("bootstrap.json");
    options.address_policy.allow_private_networks = true;
    options.verify_tls = false;
    options.timeout = milliseconds(2000);
    options.min_interval_per_registry = milliseconds(0);
    options.whois_referral_server = "";
  }

  // Every *.test name is this machine; anything else does not resolve.
  HostResolver resolver() {
    return [this](const std::string& host, std::function<void(AddressAnswer)> done) {
      resolved_hosts.push_back(host);
      AddressAnswer answer;
      if (host.size() > 5 && host.substr(host.size() - 5) == ".test") {
        answer.status = DnsStatus::ok;
        answer.addresses = {asio::ip::make_address("127.0.0.1")};
      } else {
        answer.status = DnsStatus::no_such_domain;
        answer.error = "NXDOMAIN";
      }
      done(answer);
    };
  }

  // Runs the loop until `count` answers arrived (or 10 s passed).
  void run_until_answers(std::size_t count) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    io.restart();
    while (answers.size() < count && std::chrono::steady_clock::now() < deadline) {
      io.run_for(milliseconds(10));
    }
  }

  std::function<void(DomainAgeResult)> collect() {
    return [this](DomainAgeResult result) { answers.push_back(std::move(result)); };
  }

  DomainAgeResult lookup_one(DomainAgeLookup& lookup, const std::string& domain) {
    std::size_t before = answers.size();
    lookup.lookup(domain, collect());
    run_until_answers(before + 1);
    EXPECT_EQ(answers.size(), before + 1) << "no answer for " << domain;
    return answers.size() > before ? answers.back() : DomainAgeResult{};
  }

  std::vector<nlohmann::json> requests_for(const std::string& service) const {
    std::vector<nlohmann::json> matching;
    for (const auto& entry : requests()) {
      if (entry["service"] == service) matching.push_back(entry);
    }
    return matching;
  }

  asio::io_context io;
  DomainAgeOptions options;
  std::vector<DomainAgeResult> answers;
  std::vector<std::string> resolved_hosts;
};

TEST_F(DomainAgeEndToEnd, RdapOverHttps) {
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "Alpha.TLS");
  EXPECT_EQ(result.created_days, k2019_03_04) << result.warning;
  EXPECT_EQ(result.source, "rdap");
  EXPECT_TRUE(result.warning.empty()) << result.warning;
  auto logged = requests_for("https");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0]["path"], "/rdap/domain/alpha.tls");
  EXPECT_EQ(logged[0]["host"], "rdap-tls.test:" + std::to_string(https_port));
}

TEST_F(DomainAgeEndToEnd, RdapOverPlainHttpWithChunkedBody) {
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "plain.plain");
  EXPECT_EQ(result.created_days, k2003_03_17) << result.warning;
  auto logged = requests_for("http");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0]["path"], "/rdap/domain/plain.plain");  // one slash added to the base
}

TEST_F(DomainAgeEndToEnd, VerifiedTlsRejectsSelfSignedCertificate) {
  options.verify_tls = true;
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "alpha.tls");
  EXPECT_FALSE(result.created_days);
  EXPECT_NE(result.warning.find("TLS handshake"), std::string::npos) << result.warning;
  EXPECT_TRUE(requests_for("https").empty());
}

TEST_F(DomainAgeEndToEnd, RdapAnswersWithoutDate) {
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult missing = lookup_one(lookup, "noevents.tls");
  EXPECT_FALSE(missing.created_days);
  EXPECT_NE(missing.warning.find("no registration date"), std::string::npos) << missing.warning;
  DomainAgeResult unknown = lookup_one(lookup, "unknown.tls");
  EXPECT_FALSE(unknown.created_days);
  EXPECT_NE(unknown.warning.find("does not know"), std::string::npos) << unknown.warning;
}

TEST_F(DomainAgeEndToEnd, OversizeResponseGivesNoDate) {
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "big.tls");
  EXPECT_FALSE(result.created_days);
  EXPECT_NE(result.warning.find("exceeds"), std::string::npos) << result.warning;
}

TEST_F(DomainAgeEndToEnd, WhoisFallbackForTldWithoutRdap) {
  options.whois_server = "whois.test:" + std::to_string(whois_port);
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "old.nordap");
  EXPECT_EQ(result.created_days, k2002_04_18) << result.warning;
  EXPECT_EQ(result.source, "whois");
  auto logged = requests_for("whois");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0]["query"], "old.nordap");
  EXPECT_TRUE(requests_for("https").empty());
}

TEST_F(DomainAgeEndToEnd, WhoisReferralWhenNoServerConfigured) {
  options.whois_referral_server = "127.0.0.1:" + std::to_string(whois_port);
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "shop.viaref");
  EXPECT_EQ(result.created_days, k2004_05_10) << result.warning;
  auto logged = requests_for("whois");
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0]["query"], "viaref");  // the TLD, asked of the referral server
  EXPECT_EQ(logged[1]["query"], "shop.viaref");
  EXPECT_NE(std::find(resolved_hosts.begin(), resolved_hosts.end(), "whois-ref.test"),
            resolved_hosts.end());
}

TEST_F(DomainAgeEndToEnd, NoWhoisConfiguredWarns) {
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "old.nordap");
  EXPECT_FALSE(result.created_days);
  EXPECT_NE(result.warning.find("no RDAP service for .nordap"), std::string::npos)
      << result.warning;
  EXPECT_TRUE(requests().empty());
}

TEST_F(DomainAgeEndToEnd, RateLimitedPerRegistry) {
  options.min_interval_per_registry = milliseconds(300);
  DomainAgeLookup lookup(io, resolver(), options);
  lookup.lookup("alpha.tls", collect());
  lookup.lookup("beta.tls", collect());
  lookup.lookup("gamma.tls", collect());
  run_until_answers(3);
  ASSERT_EQ(answers.size(), 3u);
  for (const auto& answer : answers) EXPECT_TRUE(answer.created_days) << answer.warning;
  auto logged = requests_for("https");
  ASSERT_EQ(logged.size(), 3u);
  for (std::size_t i = 1; i < logged.size(); ++i) {
    double gap = logged[i]["t"].get<double>() - logged[i - 1]["t"].get<double>();
    // Arrival after the TLS handshake: allow for its jitter on a loaded machine.
    EXPECT_GE(gap, 0.25) << "requests " << i - 1 << " and " << i;
  }
}

TEST_F(DomainAgeEndToEnd, CachesAnswersAndFailures) {
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult fetched = lookup_one(lookup, "delta.tls");
  EXPECT_EQ(fetched.created_days, k2005_06_20);
  EXPECT_EQ(fetched.source, "rdap");
  DomainAgeResult cached = lookup_one(lookup, "DELTA.tls.");
  EXPECT_EQ(cached.created_days, k2005_06_20);
  EXPECT_EQ(cached.source, "cached");
  EXPECT_FALSE(lookup_one(lookup, "unknown.tls").created_days);
  EXPECT_FALSE(lookup_one(lookup, "unknown.tls").created_days);
  EXPECT_EQ(requests_for("https").size(), 2u);  // one per domain
}

TEST_F(DomainAgeEndToEnd, ConcurrentLookupsShareOneRequest) {
  DomainAgeLookup lookup(io, resolver(), options);
  lookup.lookup("alpha.tls", collect());
  lookup.lookup("alpha.tls", collect());
  run_until_answers(2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].created_days, k2019_03_04);
  EXPECT_EQ(answers[1].created_days, k2019_03_04);
  EXPECT_EQ(requests_for("https").size(), 1u);
}

TEST_F(DomainAgeEndToEnd, RememberedDateAsksNoRegistry) {
  DomainAgeLookup lookup(io, resolver(), options);
  constexpr int kRestored = 12345;  // the registry would say 2019-03-04
  lookup.remember("Alpha.TLS.", kRestored, std::chrono::hours(1));
  DomainAgeResult result = lookup_one(lookup, "alpha.tls");
  EXPECT_EQ(result.created_days, kRestored) << result.warning;
  EXPECT_EQ(result.source, "restored");
  EXPECT_TRUE(requests().empty());
  EXPECT_TRUE(resolved_hosts.empty());
  // A domain not remembered still asks: the responder does see requests.
  EXPECT_EQ(lookup_one(lookup, "beta.tls").created_days, k2001_01_01);
  EXPECT_EQ(requests_for("https").size(), 1u);
}

TEST_F(DomainAgeEndToEnd, RememberedDateExpiresOrIsIgnored) {
  options.cache_ttl = std::chrono::hours(0);  // caching off: nothing is remembered
  {
    DomainAgeLookup lookup(io, resolver(), options);
    lookup.remember("alpha.tls", 12345, std::chrono::hours(1));
    EXPECT_EQ(lookup_one(lookup, "alpha.tls").created_days, k2019_03_04);
  }
  options.cache_ttl = std::chrono::hours(24);
  DomainAgeLookup lookup(io, resolver(), options);
  lookup.remember("beta.tls", 12345, milliseconds(0));
  lookup.remember("gamma.tls", 12345, milliseconds(-1000));
  lookup.remember("not a domain", 12345, std::chrono::hours(1));
  lookup.remember("delta.tls", 12345, milliseconds(300));
  EXPECT_EQ(lookup_one(lookup, "beta.tls").created_days, k2001_01_01);
  EXPECT_EQ(lookup_one(lookup, "gamma.tls").created_days, k2000_01_01);
  EXPECT_EQ(lookup_one(lookup, "delta.tls").created_days, 12345);
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_EQ(lookup_one(lookup, "delta.tls").created_days, k2005_06_20);
  EXPECT_EQ(requests_for("https").size(), 4u);  // alpha, beta, gamma, delta once expired
}

TEST_F(DomainAgeEndToEnd, TimeoutAgainstSilentServer) {
  options.timeout = milliseconds(300);
  DomainAgeLookup lookup(io, resolver(), options);
  auto started = std::chrono::steady_clock::now();
  DomainAgeResult result = lookup_one(lookup, "anything.silent");
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(result.created_days);
  EXPECT_EQ(result.warning, "RDAP rdap-silent.test: timeout after 300 ms");
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST_F(DomainAgeEndToEnd, PrivateAddressRefusedByDefault) {
  options.address_policy.allow_private_networks = false;
  options.whois_server = "127.0.0.1:" + std::to_string(whois_port);
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult rdap = lookup_one(lookup, "alpha.tls");
  EXPECT_FALSE(rdap.created_days);
  EXPECT_NE(rdap.warning.find("refused to connect to 127.0.0.1"), std::string::npos)
      << rdap.warning;
  DomainAgeResult whois = lookup_one(lookup, "old.nordap");
  EXPECT_FALSE(whois.created_days);
  EXPECT_NE(whois.warning.find("refused"), std::string::npos) << whois.warning;
  EXPECT_TRUE(requests().empty());
}

TEST_F(DomainAgeEndToEnd, UnresolvableRegistryAndBadDomain) {
  nlohmann::json bootstrap = {{"services", {{{"tls"}, {"https://rdap.nowhere.invalid/"}}}}};
  std::ofstream(path("other.json")) << bootstrap.dump();
  options.bootstrap_file = path("other.json");
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult unresolved = lookup_one(lookup, "alpha.tls");
  EXPECT_EQ(unresolved.warning, "RDAP rdap.nowhere.invalid: cannot resolve (NXDOMAIN)");
  DomainAgeResult bad = lookup_one(lookup, "no dots here");
  EXPECT_NE(bad.warning.find("not a registrable domain"), std::string::npos) << bad.warning;
}

TEST_F(DomainAgeEndToEnd, SetOptionsReloadsBootstrap) {
  options.bootstrap_file = path("missing.json");
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult before = lookup_one(lookup, "alpha.tls");
  EXPECT_NE(before.warning.find("cannot read RDAP bootstrap file"), std::string::npos)
      << before.warning;
  options.bootstrap_file = path("bootstrap.json");
  lookup.set_options(options);  // also forgets the cached failure
  EXPECT_EQ(lookup_one(lookup, "alpha.tls").created_days, k2019_03_04);
}

TEST_F(DomainAgeEndToEnd, DestroyedWithWorkInFlight) {
  int calls = 0;
  DomainAgeResult last;
  {
    DomainAgeLookup lookup(io, resolver(), options);
    lookup.lookup("anything.silent", [&](DomainAgeResult result) {
      ++calls;
      last = std::move(result);
    });
    io.restart();
    io.run_for(milliseconds(100));  // connected, waiting for an answer that never comes
    EXPECT_EQ(calls, 0);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_NE(last.warning.find("shut down"), std::string::npos) << last.warning;
  io.restart();
  io.run_for(milliseconds(200));  // cancelled operations drain without calling again
  EXPECT_EQ(calls, 1);
}

TEST_F(DomainAgeEndToEnd, CallbackExceptionsDoNotEscape) {
  DomainAgeLookup lookup(io, resolver(), options);
  lookup.lookup("alpha.tls", [](DomainAgeResult) { throw std::runtime_error("caller bug"); });
  io.restart();
  EXPECT_NO_THROW(io.run_for(milliseconds(500)));
  EXPECT_EQ(lookup_one(lookup, "alpha.tls").created_days, k2019_03_04);
}

// ---- RDAP failures fall back to WHOIS ---------------------------------------

// The stats of one registry server; a failed expectation when it has none.
RegistryStats stats_of(const DomainAgeLookup& lookup, const std::string& protocol,
                       const std::string& name) {
  for (const RegistryStats& stats : lookup.registry_stats()) {
    if (stats.protocol == protocol && stats.name == name) return stats;
  }
  ADD_FAILURE() << "no stats for " << protocol << " " << name;
  return {};
}

milliseconds elapsed_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
}

TEST_F(DomainAgeEndToEnd, RdapRefusedFallsBackToWhois) {
  options.whois_server = "whois.test:" + std::to_string(whois_port);
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "alpha.closed");
  EXPECT_EQ(result.created_days, k2001_01_01) << result.warning;
  EXPECT_EQ(result.source, "whois");
  // It says which source answered, and why RDAP did not.
  EXPECT_EQ(result.warning.rfind("from WHOIS whois.test (RDAP rdap-closed.test: ", 0), 0u)
      << result.warning;
  auto logged = requests_for("whois");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0]["query"], "alpha.closed");
  // The refusal opened the breaker: the next domain goes straight to WHOIS.
  DomainAgeResult next = lookup_one(lookup, "beta.closed");
  EXPECT_EQ(next.created_days, k2000_01_01) << next.warning;
  EXPECT_EQ(next.source, "whois");
  RegistryStats rdap = stats_of(lookup, "rdap", "rdap-closed.test");
  EXPECT_EQ(rdap.lookups, 1u);
  EXPECT_EQ(rdap.failures, 1u);
  EXPECT_EQ(rdap.skipped, 1u);
  EXPECT_EQ(rdap.breaker_openings, 1u);
  EXPECT_TRUE(rdap.breaker_open);
  RegistryStats whois = stats_of(lookup, "whois", "whois.test");
  EXPECT_EQ(whois.lookups, 2u);
  EXPECT_EQ(whois.failures, 0u);
  EXPECT_FALSE(whois.breaker_open);
}

TEST_F(DomainAgeEndToEnd, RdapTimeoutFallsBackToWhois) {
  options.timeout = milliseconds(300);
  options.whois_server = "whois.test:" + std::to_string(whois_port);
  DomainAgeLookup lookup(io, resolver(), options);
  auto started = std::chrono::steady_clock::now();
  DomainAgeResult result = lookup_one(lookup, "slow.silent");
  EXPECT_EQ(result.created_days, k2005_06_20) << result.warning;
  EXPECT_EQ(result.source, "whois");
  EXPECT_GE(elapsed_since(started), milliseconds(300));  // RDAP was given its chance
  EXPECT_LT(elapsed_since(started), milliseconds(2000));
  ASSERT_EQ(requests_for("whois").size(), 1u);
}

TEST_F(DomainAgeEndToEnd, RdapServerErrorsFallBackToWhois) {
  options.whois_server = "whois.test:" + std::to_string(whois_port);
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult unavailable = lookup_one(lookup, "busy1.plain");  // HTTP 503
  EXPECT_EQ(unavailable.created_days, k2003_03_17) << unavailable.warning;
  EXPECT_EQ(unavailable.source, "whois");
  DomainAgeResult limited = lookup_one(lookup, "limited.plain");  // HTTP 429
  EXPECT_EQ(limited.created_days, k2002_04_18) << limited.warning;
  EXPECT_EQ(limited.source, "whois");
  EXPECT_EQ(requests_for("http").size(), 2u);  // RDAP was asked both times
  EXPECT_EQ(requests_for("whois").size(), 2u);
  RegistryStats rdap = stats_of(lookup, "rdap", "rdap-plain.test");
  EXPECT_EQ(rdap.failures, 2u);
  EXPECT_FALSE(rdap.breaker_open);  // two server errors are not yet three
  EXPECT_EQ(rdap.breaker_openings, 0u);
}

TEST_F(DomainAgeEndToEnd, RdapNotFoundDoesNotFallBack) {
  options.whois_server = "whois.test:" + std::to_string(whois_port);
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "unknown.tls");  // WHOIS would have a date
  EXPECT_FALSE(result.created_days);
  EXPECT_EQ(result.warning, "RDAP: the registry does not know unknown.tls");
  EXPECT_TRUE(requests_for("whois").empty());
}

TEST_F(DomainAgeEndToEnd, RdapAnswerWithoutDateFallsBackToWhois) {
  options.whois_server = "whois.test:" + std::to_string(whois_port);
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "noevents.tls");
  EXPECT_EQ(result.created_days, k2007_03_22) << result.warning;
  EXPECT_EQ(result.source, "whois");
  // The server answered: no strike against it.
  EXPECT_EQ(stats_of(lookup, "rdap", "rdap-tls.test").failures, 0u);
}

TEST_F(DomainAgeEndToEnd, BothFailingWarningNamesBoth) {
  options.timeout = milliseconds(300);
  options.whois_server = "whois-closed.test:" + std::to_string(closed_port);
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "slow.silent");
  EXPECT_FALSE(result.created_days);
  EXPECT_EQ(result.source, "");
  EXPECT_EQ(result.warning,
            "RDAP rdap-silent.test: timeout after 300 ms; WHOIS whois-closed.test: connection "
            "refused");
}

TEST_F(DomainAgeEndToEnd, RdapFailureAsksIanaReferralWithoutWhoisServer) {
  options.timeout = milliseconds(300);
  options.whois_referral_server = "127.0.0.1:" + std::to_string(whois_port);
  DomainAgeLookup lookup(io, resolver(), options);
  DomainAgeResult result = lookup_one(lookup, "ref.silent");
  EXPECT_EQ(result.created_days, k1996_06_07) << result.warning;
  EXPECT_EQ(result.source, "whois");
  auto logged = requests_for("whois");
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0]["query"], "silent");  // the TLD, asked of the referral server
  EXPECT_EQ(logged[1]["query"], "ref.silent");
}

// ---- Circuit breaker per registry server ------------------------------------

TEST_F(DomainAgeEndToEnd, DeadRegistryCostsOneTimeoutNotOnePerDomain) {
  options.timeout = milliseconds(400);
  // Paced: without the breaker the tenth request would start at 900 ms and
  // give up at 1300 ms.
  options.min_interval_per_registry = milliseconds(100);
  DomainAgeLookup lookup(io, resolver(), options);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) lookup.lookup("d" + std::to_string(i) + ".silent", collect());
  run_until_answers(10);
  milliseconds took = elapsed_since(started);
  ASSERT_EQ(answers.size(), 10u);
  EXPECT_LT(took, 2 * options.timeout);
  int timed_out = 0, skipped = 0;
  for (const DomainAgeResult& answer : answers) {
    EXPECT_FALSE(answer.created_days);
    if (answer.warning == "RDAP rdap-silent.test: timeout after 400 ms") ++timed_out;
    if (answer.warning == "RDAP rdap-silent.test: skipped, breaker open (timeout after 400 ms)") {
      ++skipped;
    }
  }
  EXPECT_EQ(timed_out, 1);
  EXPECT_EQ(skipped, 9);
  RegistryStats rdap = stats_of(lookup, "rdap", "rdap-silent.test");
  EXPECT_EQ(rdap.breaker_openings, 1u);
  EXPECT_TRUE(rdap.breaker_open);
  EXPECT_GT(rdap.open_until, std::chrono::system_clock::now());
  EXPECT_EQ(rdap.failures, 1u);
  EXPECT_EQ(rdap.skipped, 9u);  // in flight when it opened, or still waiting for a slot
  // While open, a new domain costs no connection and no wait.
  started = std::chrono::steady_clock::now();
  DomainAgeResult late = lookup_one(lookup, "late.silent");
  EXPECT_LT(elapsed_since(started), milliseconds(100));
  EXPECT_NE(late.warning.find("skipped, breaker open"), std::string::npos) << late.warning;
  EXPECT_EQ(stats_of(lookup, "rdap", "rdap-silent.test").breaker_openings, 1u);
}

TEST_F(DomainAgeEndToEnd, BreakerOpensAfterThreeServerErrorsAndHalfOpensAfterCooldown) {
  options.registry_breaker_cooldown = milliseconds(300);
  DomainAgeLookup lookup(io, resolver(), options);
  EXPECT_EQ(lookup_one(lookup, "busy1.plain").warning, "RDAP rdap-plain.test: HTTP 503");
  lookup_one(lookup, "busy2.plain");
  EXPECT_FALSE(stats_of(lookup, "rdap", "rdap-plain.test").breaker_open);
  lookup_one(lookup, "busy3.plain");
  RegistryStats opened = stats_of(lookup, "rdap", "rdap-plain.test");
  EXPECT_TRUE(opened.breaker_open);
  EXPECT_EQ(opened.breaker_openings, 1u);
  EXPECT_EQ(lookup_one(lookup, "skipped.plain").warning,
            "RDAP rdap-plain.test: skipped, breaker open (HTTP 503)");
  EXPECT_EQ(requests_for("http").size(), 3u);

  // After the cooldown one request tests the server; another 503 reopens at once.
  std::this_thread::sleep_for(milliseconds(350));
  EXPECT_FALSE(stats_of(lookup, "rdap", "rdap-plain.test").breaker_open);
  EXPECT_EQ(lookup_one(lookup, "busy4.plain").warning, "RDAP rdap-plain.test: HTTP 503");
  EXPECT_EQ(requests_for("http").size(), 4u);
  RegistryStats reopened = stats_of(lookup, "rdap", "rdap-plain.test");
  EXPECT_TRUE(reopened.breaker_open);
  EXPECT_EQ(reopened.breaker_openings, 2u);

  // An answer closes it.
  std::this_thread::sleep_for(milliseconds(350));
  EXPECT_EQ(lookup_one(lookup, "plain.plain").created_days, k2003_03_17);
  RegistryStats closed = stats_of(lookup, "rdap", "rdap-plain.test");
  EXPECT_FALSE(closed.breaker_open);
  EXPECT_EQ(closed.breaker_openings, 2u);
  // The skipped domain's failure was cached only for the cooldown: it is asked now.
  EXPECT_EQ(lookup_one(lookup, "skipped.plain").warning,
            "RDAP: the registry does not know skipped.plain");
  EXPECT_EQ(requests_for("http").size(), 6u);
}

TEST_F(DomainAgeEndToEnd, HalfOpenBreakerLetsExactlyOneLookupThrough) {
  options.registry_breaker_cooldown = milliseconds(300);
  DomainAgeLookup lookup(io, resolver(), options);
  for (const char* busy : {"busy1.plain", "busy2.plain", "busy3.plain"}) lookup_one(lookup, busy);
  ASSERT_TRUE(stats_of(lookup, "rdap", "rdap-plain.test").breaker_open);
  std::this_thread::sleep_for(milliseconds(350));
  answers.clear();
  lookup.lookup("plain.plain", collect());  // the probe
  lookup.lookup("other.plain", collect());  // fails fast while the probe is out
  EXPECT_TRUE(stats_of(lookup, "rdap", "rdap-plain.test").breaker_open);
  run_until_answers(2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(requests_for("http").size(), 4u);
  int dated = 0, skipped = 0;
  for (const DomainAgeResult& answer : answers) {
    if (answer.created_days == k2003_03_17) ++dated;
    if (answer.warning.find("skipped, breaker open") != std::string::npos) ++skipped;
  }
  EXPECT_EQ(dated, 1);
  EXPECT_EQ(skipped, 1);
  EXPECT_FALSE(stats_of(lookup, "rdap", "rdap-plain.test").breaker_open);  // the probe answered
}

TEST_F(DomainAgeEndToEnd, QueuedLookupsFailFastWhenBreakerOpens) {
  options.timeout = milliseconds(300);
  options.min_interval_per_registry = milliseconds(3000);
  DomainAgeLookup lookup(io, resolver(), options);
  auto started = std::chrono::steady_clock::now();
  lookup.lookup("q1.silent", collect());
  lookup.lookup("q2.silent", collect());
  lookup.lookup("q3.silent", collect());
  EXPECT_EQ(lookup.state("Q1.silent."), LookupState::in_flight);
  EXPECT_EQ(lookup.state("q2.silent"), LookupState::queued);
  EXPECT_EQ(lookup.state("q3.silent"), LookupState::queued);
  EXPECT_EQ(lookup.state("q4.silent"), LookupState::none);
  EXPECT_EQ(lookup.state("not a domain"), LookupState::none);
  run_until_answers(3);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_LT(elapsed_since(started), milliseconds(1000));  // not at 3 s and 6 s
  int timed_out = 0, skipped = 0;
  for (const DomainAgeResult& answer : answers) {
    if (answer.warning == "RDAP rdap-silent.test: timeout after 300 ms") ++timed_out;
    if (answer.warning == "RDAP rdap-silent.test: skipped, breaker open (timeout after 300 ms)") {
      ++skipped;
    }
  }
  EXPECT_EQ(timed_out, 1);
  EXPECT_EQ(skipped, 2);
  EXPECT_EQ(lookup.state("q1.silent"), LookupState::cached);  // failures are cached
  EXPECT_EQ(lookup.state("q3.silent"), LookupState::cached);
}

TEST_F(DomainAgeEndToEnd, StateFollowsLookupFromQueuedToCached) {
  options.min_interval_per_registry = milliseconds(300);
  DomainAgeLookup lookup(io, resolver(), options);
  EXPECT_EQ(lookup.state("alpha.tls"), LookupState::none);
  lookup.lookup("alpha.tls", collect());
  lookup.lookup("beta.tls", collect());
  EXPECT_EQ(lookup.state("alpha.tls"), LookupState::in_flight);
  EXPECT_EQ(lookup.state("beta.tls"), LookupState::queued);
  run_until_answers(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(lookup.state("alpha.tls"), LookupState::cached);
  // beta's slot comes 300 ms after alpha's start; it then goes on the wire.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (lookup.state("beta.tls") == LookupState::queued &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_for(milliseconds(5));
  }
  EXPECT_NE(lookup.state("beta.tls"), LookupState::queued);
  run_until_answers(2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].created_days, k2001_01_01);
  EXPECT_EQ(lookup.state("beta.tls"), LookupState::cached);
  lookup.remember("restored.tls", 12345, std::chrono::hours(1));
  EXPECT_EQ(lookup.state("restored.tls"), LookupState::cached);
}

TEST_F(DomainAgeEndToEnd, WhoisServerHasItsOwnBreaker) {
  options.whois_server = "whois-closed.test:" + std::to_string(closed_port);
  DomainAgeLookup lookup(io, resolver(), options);
  EXPECT_EQ(lookup_one(lookup, "one.nordap").warning,
            "WHOIS whois-closed.test: connection refused");
  EXPECT_EQ(lookup_one(lookup, "two.nordap").warning,
            "WHOIS whois-closed.test: skipped, breaker open (connection refused)");
  RegistryStats whois = stats_of(lookup, "whois", "whois-closed.test");
  EXPECT_EQ(whois.lookups, 1u);
  EXPECT_EQ(whois.skipped, 1u);
  EXPECT_EQ(whois.breaker_openings, 1u);
  EXPECT_TRUE(whois.breaker_open);
}

TEST_F(DomainAgeEndToEnd, SetOptionsClosesBreakersButKeepsTheCount) {
  DomainAgeLookup lookup(io, resolver(), options);
  lookup_one(lookup, "alpha.closed");
  ASSERT_TRUE(stats_of(lookup, "rdap", "rdap-closed.test").breaker_open);
  lookup.set_options(options);
  RegistryStats reset = stats_of(lookup, "rdap", "rdap-closed.test");
  EXPECT_FALSE(reset.breaker_open);
  EXPECT_EQ(reset.breaker_openings, 1u);  // monotonic: the worker logs by comparing counts
  EXPECT_EQ(lookup_one(lookup, "beta.closed").warning, "RDAP rdap-closed.test: connection refused");
  RegistryStats again = stats_of(lookup, "rdap", "rdap-closed.test");
  EXPECT_EQ(again.lookups, 2u);
  EXPECT_EQ(again.breaker_openings, 2u);
}

TEST_F(DomainAgeEndToEnd, RegistryStatsReadableFromAnotherThread) {
  options.timeout = milliseconds(300);
  DomainAgeLookup lookup(io, resolver(), options);
  std::atomic<bool> seen_open{false};
  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    while (!stop && !seen_open) {
      for (const RegistryStats& stats : lookup.registry_stats()) {
        if (stats.name == "rdap-silent.test" && stats.breaker_openings == 1 && stats.breaker_open) {
          seen_open = true;
        }
      }
      std::this_thread::sleep_for(milliseconds(1));
    }
  });
  lookup_one(lookup, "x.silent");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!seen_open && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  stop = true;
  watcher.join();
  EXPECT_TRUE(seen_open);
}

TEST(DomainAgeOptions, DefaultsAreSane) {
  DomainAgeOptions defaults;
  EXPECT_EQ(defaults.timeout, milliseconds(3000));
  EXPECT_EQ(defaults.min_interval_per_registry, milliseconds(500));
  EXPECT_EQ(defaults.registry_breaker_cooldown, milliseconds(60000));
  // A dead registry is retried (one probe) well before failed domains are.
  EXPECT_LT(defaults.registry_breaker_cooldown, defaults.failure_cache_ttl);
}

}  // namespace
}  // namespace mailsentry
