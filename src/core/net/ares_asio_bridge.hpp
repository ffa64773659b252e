// Drives a c-ares channel from an Asio io_context: c-ares reports the sockets it
// opens through its socket-state callback, each is watched with an
// asio::posix::stream_descriptor (released, never closed, when c-ares closes
// it), and a steady_timer follows ares_timeout() for retransmits and timeouts.
//
// Threading: every member must be used from the io_context's thread (or while
// the io_context is not running), and the io_context must be run by a single
// thread, because a c-ares channel is not thread-safe. The io_context must
// outlive this object.
#pragma once

#include <ares.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace mailsentry {

struct AresServer {
  std::string ip;  // an IPv4 or IPv6 literal
  std::uint16_t port = 53;
};

struct AresChannelSettings {
  std::vector<AresServer> servers;  // empty: the system resolver
  std::chrono::milliseconds timeout{2000};
  int tries = 2;
};

// Called exactly once per query with c-ares' status (ARES_EDESTRUCTION or
// ARES_ECANCELLED when the channel goes away) and the raw answer, which is only
// valid during the call (null when there is none).
using AresQueryDone = std::function<void(int status, const unsigned char* answer, int length)>;

class AresAsioChannel {
 public:
  // Throws std::runtime_error when c-ares fails, std::invalid_argument for a
  // server that is not an IP literal.
  AresAsioChannel(asio::io_context& io, const AresChannelSettings& settings);
  // Destroys the channel: pending queries complete with ARES_EDESTRUCTION.
  ~AresAsioChannel();
  AresAsioChannel(const AresAsioChannel&) = delete;
  AresAsioChannel& operator=(const AresAsioChannel&) = delete;

  // Sends a class IN query for name with the given RR type (ns_t_mx, ...).
  // done may run before query() returns when c-ares rejects the query at once.
  void query(const std::string& name, int type, AresQueryDone done);

  // Completes every pending query with ARES_ECANCELLED.
  void cancel_all();

 private:
  struct SocketWatcher;
  struct ChannelDestroyer {
    void operator()(ares_channel channel) const { ares_destroy(channel); }
  };
  using ChannelHandle = std::unique_ptr<std::remove_pointer_t<ares_channel>, ChannelDestroyer>;

  static void on_socket_state(void* self, ares_socket_t fd, int readable, int writable);
  static void on_query_done(void* done, int status, int timeouts, unsigned char* answer,
                            int length);

  void update_watcher(ares_socket_t fd, bool want_read, bool want_write);
  void wait_readable(const std::shared_ptr<SocketWatcher>& watcher);
  void wait_writable(const std::shared_ptr<SocketWatcher>& watcher);
  void on_ready(const std::shared_ptr<SocketWatcher>& watcher, bool readable);
  void reschedule_timer();
  void release_all_watchers();

  asio::io_context& io_;
  asio::steady_timer timer_;
  std::unordered_map<ares_socket_t, std::shared_ptr<SocketWatcher>> watchers_;
  // Handlers hold a weak_ptr to this: once it has expired, `this` is gone.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  bool destroying_ = false;
  // Last, so it is destroyed first, while the watchers and the timer exist.
  ChannelHandle channel_;
};

}  // namespace mailsentry
