// GoogleTest fixture that runs test/servers/rdap_whois_responder.py on
// loopback for the duration of one test. A responder that does not come up
// fails the test (never skips it).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef MAILSENTRY_SOURCE_DIR
#error "MAILSENTRY_SOURCE_DIR must name the source tree (for the responder script)"
#endif

namespace mailsentry::testing {

class RdapWhoisResponderTest : public ::testing::Test {
 protected:
  // What the responder serves; see the script's docstring for the format.
  virtual nlohmann::json fixtures() const = 0;

  void SetUp() override {
    char pattern[] = "/tmp/mailsentry-rdap-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr) << "mkdtemp failed";
    work_dir_ = pattern;
    std::ofstream(path("fixtures.json")) << fixtures().dump();
    std::string script =
        std::string(MAILSENTRY_SOURCE_DIR) + "/test/servers/rdap_whois_responder.py";
    std::vector<std::string> arguments = {"python3",    script,
                                          "--fixtures", path("fixtures.json"),
                                          "--log",      path("requests.jsonl"),
                                          "--ready",    path("ready.json"),
                                          "--workdir",  work_dir_};
    pid_ = fork();
    ASSERT_GE(pid_, 0) << "fork failed";
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // no orphaned responder if the test binary dies
      std::vector<char*> argv;
      for (std::string& argument : arguments) argv.push_back(argument.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    ASSERT_NO_FATAL_FAILURE(wait_until_ready());
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (!work_dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(work_dir_, ignored);
    }
  }

  std::string path(const std::string& name) const { return work_dir_ + "/" + name; }

  // Requests the responder has logged so far, in arrival order.
  std::vector<nlohmann::json> requests() const {
    std::vector<nlohmann::json> entries;
    std::ifstream log(path("requests.jsonl"));
    std::string line;
    while (std::getline(log, line)) {
      if (!line.empty()) entries.push_back(nlohmann::json::parse(line));
    }
    return entries;
  }

  std::uint16_t http_port = 0, https_port = 0, whois_port = 0, silent_port = 0;
  std::uint16_t closed_port = 0;  // bound, not listening: connections are refused

 private:
  void wait_until_ready() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!std::filesystem::exists(path("ready.json"))) {
      int status = 0;
      ASSERT_EQ(waitpid(pid_, &status, WNOHANG), 0) << "the RDAP/WHOIS responder exited early";
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the responder did not start";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::ifstream ready(path("ready.json"));
    nlohmann::json ports = nlohmann::json::parse(ready);
    http_port = ports.at("http").get<std::uint16_t>();
    https_port = ports.at("https").get<std::uint16_t>();
    whois_port = ports.at("whois").get<std::uint16_t>();
    silent_port = ports.at("silent").get<std::uint16_t>();
    closed_port = ports.at("closed").get<std::uint16_t>();
    ASSERT_FALSE(accepts_connections(closed_port)) << "127.0.0.1:" << closed_port << " accepts";
    for (std::uint16_t port : {http_port, https_port, whois_port, silent_port}) {
      ASSERT_TRUE(accepts_connections(port)) << "nothing listens on 127.0.0.1:" << port;
    }
  }

  static bool accepts_connections(std::uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    return connected;
  }

  std::string work_dir_;
  pid_t pid_ = -1;
};

}  // namespace mailsentry::testing
