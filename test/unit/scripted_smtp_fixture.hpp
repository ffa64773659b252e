// Starts test/servers/scripted_smtp.py on a loopback address for one test and
// reads back its JSON-lines transcript of events.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef MAILSENTRY_SOURCE_DIR
#error "MAILSENTRY_SOURCE_DIR must name the source tree"
#endif

namespace mailsentry::scripted_smtp {

struct ServerEvent {
  double t = 0;     // server's monotonic clock, seconds
  int conn = 0;     // connection id, from 1
  std::string dir;  // "open" | "C" | "S" | "tls" | "close"
  std::string text;
};

// One MAIL FROM and the RCPT TO addresses that followed it on its connection.
struct Transaction {
  int conn = 0;
  std::string mail;  // the MAIL FROM line
  std::vector<std::string> recipients;
};

// "RCPT TO:<a@b>" -> "a@b".
inline std::string rcpt_address(const std::string& line) {
  const std::size_t open = line.find('<');
  const std::size_t close = line.rfind('>');
  if (open == std::string::npos || close == std::string::npos || close < open) return {};
  return line.substr(open + 1, close - open - 1);
}

namespace detail {

// The server's flat event objects ({"t": 1.5, "dir": "C", ...}) as strings.
inline bool parse_flat_object(const std::string& line, std::map<std::string, std::string>& out) {
  const nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
  if (!event.is_object()) return false;
  for (const auto& [key, value] : event.items())
    out[key] = value.is_string() ? value.get<std::string>() : value.dump();
  return true;
}

}  // namespace detail

class ScriptedSmtpServer {
 public:
  ScriptedSmtpServer() = default;
  ~ScriptedSmtpServer() { stop(); }
  ScriptedSmtpServer(const ScriptedSmtpServer&) = delete;
  ScriptedSmtpServer& operator=(const ScriptedSmtpServer&) = delete;

  // Starts the server on host (127.x.y.z) and port (0: any free one) and waits
  // until it listens. Returns "" on success, otherwise what went wrong.
  std::string start(const std::string& host, const std::string& scenario_json,
                    std::uint16_t port = 0) {
    char pattern[] = "/tmp/scripted_smtp_XXXXXX";
    if (!mkdtemp(pattern)) return "mkdtemp failed";
    directory_ = pattern;
    host_ = host;
    const std::string scenario_path = directory_ + "/scenario.json";
    transcript_path_ = directory_ + "/transcript.jsonl";
    const std::string port_path = directory_ + "/port";
    const std::string log_path = directory_ + "/stderr.log";
    std::ofstream(scenario_path) << scenario_json;

    const std::string script =
        std::string(MAILSENTRY_SOURCE_DIR) + "/test/servers/scripted_smtp.py";
    std::vector<std::string> args = {"python3",      script,
                                     "--host",       host,
                                     "--port",       std::to_string(port),
                                     "--scenario",   scenario_path,
                                     "--transcript", transcript_path_,
                                     "--port-file",  port_path};
    // The system interpreter starts much faster than version-manager shims.
    const char* python = getenv("MAILSENTRY_PYTHON");
    if (!python || !*python)
      python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    args[0] = python;
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    pid_ = fork();
    if (pid_ < 0) return "fork failed";
    if (pid_ == 0) {
      const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (log >= 0) {
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
      }
      execvp(argv[0], argv.data());
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream port_file(port_path);
      int listening = 0;
      if (port_file >> listening && listening > 0) {
        port_ = static_cast<std::uint16_t>(listening);
        return {};
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        std::ifstream log(log_path);
        std::stringstream text;
        text << log.rdbuf();
        return "scripted_smtp.py exited before listening: " + text.str();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    return "scripted_smtp.py did not start listening within 15 s";
  }

  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          kill(pid_, SIGKILL);
          waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      pid_ = -1;
    }
    if (!directory_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(directory_, ignored);
      directory_.clear();
    }
  }

  std::uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }

  std::vector<ServerEvent> events() const {
    std::vector<ServerEvent> events;
    std::ifstream file(transcript_path_);
    std::string line;
    while (std::getline(file, line)) {
      if (file.eof()) break;  // a line still being written
      std::map<std::string, std::string> fields;
      if (!detail::parse_flat_object(line, fields)) continue;
      ServerEvent event;
      event.t = std::stod(fields["t"]);
      event.conn = std::stoi(fields["conn"]);
      event.dir = fields["dir"];
      event.text = fields["text"];
      events.push_back(std::move(event));
    }
    return events;
  }

  // Lines the client sent, optionally only those starting with `prefix`.
  std::vector<ServerEvent> client_lines(const std::string& prefix = "") const {
    std::vector<ServerEvent> lines;
    for (ServerEvent& event : events()) {
      if (event.dir == "C" && event.text.compare(0, prefix.size(), prefix) == 0)
        lines.push_back(std::move(event));
    }
    return lines;
  }

  // Polls the transcript until `predicate` holds for some event (or 3 s pass).
  template <typename Predicate>
  bool wait_for_event(Predicate predicate) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      for (const ServerEvent& event : events()) {
        if (predicate(event)) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  std::vector<ServerEvent> connections() const {
    std::vector<ServerEvent> opens;
    for (ServerEvent& event : events()) {
      if (event.dir == "open") opens.push_back(std::move(event));
    }
    return opens;
  }

  // Each MAIL FROM with the recipients that followed it (until the next
  // MAIL, RSET or QUIT on the same connection), in the order of the MAILs.
  std::vector<Transaction> transactions() const {
    std::vector<Transaction> all;
    std::map<int, std::size_t> current;  // connection -> index in `all`
    for (const ServerEvent& event : events()) {
      if (event.dir != "C") continue;
      const std::string verb = event.text.substr(0, 4);
      if (verb == "MAIL") {
        current[event.conn] = all.size();
        all.push_back(Transaction{event.conn, event.text, {}});
      } else if (verb == "RCPT") {
        const auto found = current.find(event.conn);
        if (found != current.end())
          all[found->second].recipients.push_back(rcpt_address(event.text));
      } else {
        current.erase(event.conn);
      }
    }
    return all;
  }

  // Commands that arrived while an earlier command on the same connection
  // was still unanswered: pipelining as the server saw it.
  int overlapping_commands() const {
    std::map<int, std::pair<int, int>> counts;  // connection -> (commands, replies)
    int overlapping = 0;
    for (const ServerEvent& event : events()) {
      auto& [commands, replies] = counts[event.conn];
      if (event.dir == "C") {
        if (commands > replies) ++overlapping;
        ++commands;
      } else if (event.dir == "S" && commands > 0 &&
                 (event.text.size() < 4 || event.text[3] == ' ')) {
        ++replies;  // the last line of a reply (the banner comes before any command)
      }
    }
    return overlapping;
  }

  // The reply code to each RCPT TO, per connection, in the order sent
  // (commands and replies paired in order, pipelined or not).
  std::map<int, std::vector<int>> rcpt_reply_codes() const {
    std::map<int, std::vector<int>> codes;
    std::map<int, std::deque<std::string>> unanswered;  // connection -> commands
    for (const ServerEvent& event : events()) {
      if (event.dir == "C") {
        unanswered[event.conn].push_back(event.text);
      } else if (event.dir == "S" && (event.text.size() < 4 || event.text[3] == ' ')) {
        std::deque<std::string>& commands = unanswered[event.conn];
        if (commands.empty()) continue;  // the banner
        const std::string command = commands.front();
        commands.pop_front();
        if (command.compare(0, 4, "RCPT") == 0)
          codes[event.conn].push_back(std::atoi(event.text.substr(0, 3).c_str()));
      }
    }
    return codes;
  }

  // Most connections open at the same moment, from "open"/"close" events.
  int max_concurrent_connections() const {
    int open = 0;
    int most = 0;
    for (const ServerEvent& event : events()) {  // the file is in time order
      if (event.dir == "open") most = std::max(most, ++open);
      if (event.dir == "close") --open;
    }
    return most;
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string host_;
  std::string directory_;
  std::string transcript_path_;
};

}  // namespace mailsentry::scripted_smtp
