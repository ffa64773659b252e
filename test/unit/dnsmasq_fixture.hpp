// Test DNS servers on loopback, for tests that need real DNS traffic:
//  - DnsmasqServer runs /usr/sbin/dnsmasq in the foreground with records from
//    its command line only (no /etc/hosts, no resolv.conf, no upstream unless a
//    test names one), waits until it answers, and kills it when destroyed.
//  - StubDnsServer answers every query in a fixed way (an rcode, silence, or a
//    broken answer), for failures dnsmasq cannot be made to produce.
// Both only ever bind to 127.0.0.0/8 or ::1.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mailsentry::test_support {

// A socket address for a loopback literal ("127.0.0.1" or "::1") and port.
struct LoopbackEndpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;

  static LoopbackEndpoint make(const std::string& ip, std::uint16_t port) {
    LoopbackEndpoint endpoint;
    if (ip.find(':') != std::string::npos) {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage);
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(port);
      inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr);
      endpoint.length = sizeof(sockaddr_in6);
      endpoint.family = AF_INET6;
    } else {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.storage);
      v4->sin_family = AF_INET;
      v4->sin_port = htons(port);
      inet_pton(AF_INET, ip.c_str(), &v4->sin_addr);
      endpoint.length = sizeof(sockaddr_in);
      endpoint.family = AF_INET;
    }
    return endpoint;
  }
  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Closes a file descriptor on scope exit.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd() { reset(); }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

inline std::uint16_t bound_port(int fd) {
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) return 0;
  return bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

// A port that is free for both UDP and TCP on ip right now (0 if none found).
inline std::uint16_t pick_free_port(const std::string& ip) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const LoopbackEndpoint any_port = LoopbackEndpoint::make(ip, 0);
    ScopedFd udp(socket(any_port.family, SOCK_DGRAM, 0));
    if (udp.get() < 0 || bind(udp.get(), any_port.address(), any_port.length) != 0) return 0;
    const std::uint16_t port = bound_port(udp.get());
    const LoopbackEndpoint same_port = LoopbackEndpoint::make(ip, port);
    ScopedFd tcp(socket(same_port.family, SOCK_STREAM, 0));
    if (tcp.get() >= 0 && bind(tcp.get(), same_port.address(), same_port.length) == 0) return port;
  }
  return 0;
}

// Builds a recursive query for name/type with the given id.
inline std::vector<unsigned char> build_dns_query(std::uint16_t id, std::string_view name,
                                                  std::uint16_t type) {
  std::vector<unsigned char> query = {static_cast<unsigned char>(id >> 8),
                                      static_cast<unsigned char>(id & 0xFF),
                                      0x01,
                                      0x00,
                                      0,
                                      1,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0,
                                      0};
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    query.push_back(static_cast<unsigned char>(dot - start));
    query.insert(query.end(), name.begin() + start, name.begin() + dot);
    start = dot + 1;
  }
  query.push_back(0);
  query.insert(query.end(), {static_cast<unsigned char>(type >> 8),
                             static_cast<unsigned char>(type & 0xFF), 0, 1});
  return query;
}

// True once a DNS server at ip:port answers a query (with any rcode).
inline bool dns_server_answers(const std::string& ip, std::uint16_t port,
                               std::chrono::milliseconds wait) {
  const LoopbackEndpoint server = LoopbackEndpoint::make(ip, port);
  ScopedFd fd(socket(server.family, SOCK_DGRAM, 0));
  if (fd.get() < 0) return false;
  const std::uint16_t id = 0x5a5a;
  const auto query = build_dns_query(id, "readiness.probe.invalid", 1);
  if (sendto(fd.get(), query.data(), query.size(), 0, server.address(), server.length) < 0) {
    return false;
  }
  pollfd readable{fd.get(), POLLIN, 0};
  if (poll(&readable, 1, static_cast<int>(wait.count())) <= 0) return false;
  unsigned char reply[512];
  const ssize_t received = recv(fd.get(), reply, sizeof reply, 0);
  return received >= 12 && reply[0] == (id >> 8) && reply[1] == (id & 0xFF);
}

inline std::string read_whole_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class DnsmasqServer {
 public:
  // listen_ip must be a loopback literal; extra_args are dnsmasq options such
  // as "--mx-host=...". --local-ttl defaults to 300 unless extra_args set it.
  explicit DnsmasqServer(std::vector<std::string> extra_args, std::string listen_ip = "127.0.0.1")
      : extra_args_(std::move(extra_args)), ip_(std::move(listen_ip)) {}
  ~DnsmasqServer() { stop(); }
  DnsmasqServer(const DnsmasqServer&) = delete;
  DnsmasqServer& operator=(const DnsmasqServer&) = delete;

  // Starts dnsmasq and waits until it answers; on failure says why in *error.
  bool start(std::string* error) {
    char directory_template[] = "/tmp/mailsentry-dnsmasq-XXXXXX";
    if (mkdtemp(directory_template) == nullptr) return fail(error, "mkdtemp failed");
    directory_ = directory_template;
    log_path_ = directory_ + "/queries.log";
    const std::string stderr_path = directory_ + "/stderr";
    for (int attempt = 0; attempt < 3; ++attempt) {  // another process may grab the port
      port_ = pick_free_port(ip_);
      if (port_ == 0) return fail(error, "no free port on " + ip_);
      if (!spawn(stderr_path)) return fail(error, "fork failed");
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          break;  // exited: retried below, reported after the last attempt
        }
        if (dns_server_answers(ip_, port_, std::chrono::milliseconds(100))) return true;
      }
      stop_process();
    }
    return fail(error, "dnsmasq did not start: " + read_whole_file(stderr_path));
  }

  void stop() {
    stop_process();
    if (!directory_.empty()) {
      std::remove(log_path_.c_str());
      std::remove((directory_ + "/stderr").c_str());
      rmdir(directory_.c_str());
      directory_.clear();
    }
  }

  const std::string& ip() const { return ip_; }
  std::uint16_t port() const { return port_; }

  // How many queries of type ("MX", "A", "AAAA") for name dnsmasq has logged.
  int query_count(std::string_view type, std::string_view name) const {
    const std::string needle = "query[" + std::string(type) + "] " + std::string(name) + " from";
    const std::string log = read_whole_file(log_path_);
    int count = 0;
    for (std::size_t at = log.find(needle); at != std::string::npos;
         at = log.find(needle, at + needle.size())) {
      ++count;
    }
    return count;
  }

  // Waits (dnsmasq writes its log asynchronously) until query_count reaches at
  // least expected, returning the final count.
  int wait_for_query_count(std::string_view type, std::string_view name, int expected,
                           std::chrono::milliseconds wait = std::chrono::seconds(2)) const {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    int count = query_count(type, name);
    while (count < expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      count = query_count(type, name);
    }
    return count;
  }

 private:
  static bool fail(std::string* error, std::string why) {
    if (error != nullptr) *error = std::move(why);
    return false;
  }

  bool has_option(std::string_view prefix) const {
    for (const std::string& arg : extra_args_) {
      if (arg.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }

  bool spawn(const std::string& stderr_path) {
    std::vector<std::string> args = {
        "/usr/sbin/dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--bind-interfaces",
        "--listen-address=" + ip_,
        "--port=" + std::to_string(port_),
        "--pid-file=",
        "--log-queries",
        "--log-facility=" + log_path_,
        "--cache-size=0",
    };
    if (geteuid() == 0) args.push_back("--user=root");
    if (!has_option("--local-ttl")) args.push_back("--local-ttl=300");
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    // Everything the child needs is prepared before fork(): after it, only
    // async-signal-safe calls.
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
      if (getppid() != parent) _exit(127);
      const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (err >= 0) {
        dup2(err, STDERR_FILENO);
        dup2(err, STDOUT_FILENO);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    return true;
  }

  void stop_process() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; ++i) {  // up to 2 s, then no more politeness
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::vector<std::string> extra_args_;
  std::string ip_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string directory_;
  std::string log_path_;
};

// A UDP "DNS server" on loopback that treats every query the same way.
class StubDnsServer {
 public:
  enum class Behaviour {
    reply_rcode,      // header-only answer with the given rcode (2 = SERVFAIL ...)
    stay_silent,      // never answer: the client times out
    truncated_answer  // rcode 0 and one answer announced but not present
  };

  StubDnsServer(Behaviour behaviour, int rcode = 0, std::string ip = "127.0.0.1")
      : behaviour_(behaviour), rcode_(rcode), ip_(std::move(ip)) {}
  ~StubDnsServer() { stop(); }
  StubDnsServer(const StubDnsServer&) = delete;
  StubDnsServer& operator=(const StubDnsServer&) = delete;

  bool start(std::string* error) {
    const LoopbackEndpoint any_port = LoopbackEndpoint::make(ip_, 0);
    socket_.reset(socket(any_port.family, SOCK_DGRAM, 0));
    if (socket_.get() < 0 || bind(socket_.get(), any_port.address(), any_port.length) != 0) {
      if (error != nullptr) *error = std::string("stub bind failed: ") + std::strerror(errno);
      return false;
    }
    port_ = bound_port(socket_.get());
    running_ = true;
    thread_ = std::thread([this] { serve(); });
    return true;
  }

  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
    socket_.reset();
  }

  const std::string& ip() const { return ip_; }
  std::uint16_t port() const { return port_; }
  int queries_received() const { return queries_received_.load(); }

 private:
  void serve() {
    while (running_) {
      pollfd readable{socket_.get(), POLLIN, 0};
      if (poll(&readable, 1, 20) <= 0) continue;
      unsigned char query[512];
      sockaddr_storage client{};
      socklen_t client_length = sizeof client;
      const ssize_t received = recvfrom(socket_.get(), query, sizeof query, 0,
                                        reinterpret_cast<sockaddr*>(&client), &client_length);
      if (received < 12) continue;
      ++queries_received_;
      if (behaviour_ == Behaviour::stay_silent) continue;
      // The reply echoes the id and the question, and nothing after it.
      std::size_t question_end = 12;
      while (question_end < static_cast<std::size_t>(received) && query[question_end] != 0) {
        question_end += 1 + query[question_end];
      }
      question_end += 1 + 4;  // root label, type, class
      if (question_end > static_cast<std::size_t>(received)) continue;
      std::vector<unsigned char> reply(query, query + question_end);
      reply[2] = 0x81;                                                // QR, RD
      reply[3] = static_cast<unsigned char>(0x80 | (rcode_ & 0x0F));  // RA, rcode
      reply[6] = 0;
      reply[7] = behaviour_ == Behaviour::truncated_answer ? 1 : 0;  // ANCOUNT
      reply[8] = reply[9] = reply[10] = reply[11] = 0;
      sendto(socket_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&client),
             client_length);
    }
  }

  Behaviour behaviour_;
  int rcode_;
  std::string ip_;
  ScopedFd socket_;
  std::uint16_t port_ = 0;
  std::atomic<bool> running_{false};
  std::atomic<int> queries_received_{0};
  std::thread thread_;
};

}  // namespace mailsentry::test_support
