#include "net/ares_asio_bridge.hpp"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <poll.h>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace mailsentry {
namespace {

void initialise_ares_library_once() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares library init failed: ") + ares_strerror(status));
  }
}

// Asio's reactor is edge-triggered: if c-ares left data unread (it reads a TCP
// stream piecewise) or the socket stays writable, no new edge would wake a
// fresh async_wait, so readiness is checked directly first.
bool ready_now(int fd, short events) {
  pollfd probe{fd, events, 0};
  return ::poll(&probe, 1, 0) > 0 && (probe.revents & (events | POLLERR | POLLHUP)) != 0;
}

std::vector<ares_addr_port_node> to_server_nodes(const std::vector<AresServer>& servers) {
  std::vector<ares_addr_port_node> nodes(servers.size());
  for (std::size_t i = 0; i < servers.size(); ++i) {
    ares_addr_port_node& node = nodes[i];
    std::memset(&node, 0, sizeof node);
    if (inet_pton(AF_INET, servers[i].ip.c_str(), &node.addr.addr4) == 1) {
      node.family = AF_INET;
    } else if (inet_pton(AF_INET6, servers[i].ip.c_str(), &node.addr.addr6) == 1) {
      node.family = AF_INET6;
    } else {
      throw std::invalid_argument("DNS server is not an IP address: " + servers[i].ip);
    }
    node.udp_port = servers[i].port;
    node.tcp_port = servers[i].port;
    node.next = i + 1 < servers.size() ? &nodes[i + 1] : nullptr;
  }
  return nodes;
}

}  // namespace

struct AresAsioChannel::SocketWatcher {
  SocketWatcher(asio::io_context& io, ares_socket_t socket_fd) : fd(socket_fd), descriptor(io) {}
  // c-ares owns the socket: give it back rather than let Asio close it.
  ~SocketWatcher() { release(); }
  void release() {
    released = true;
    if (descriptor.is_open()) descriptor.release();
  }

  ares_socket_t fd;
  asio::posix::stream_descriptor descriptor;
  bool want_read = false;
  bool want_write = false;
  bool read_pending = false;
  bool write_pending = false;
  bool released = false;
};

AresAsioChannel::AresAsioChannel(asio::io_context& io, const AresChannelSettings& settings)
    : io_(io), timer_(io) {
  initialise_ares_library_once();
  std::vector<ares_addr_port_node> server_nodes = to_server_nodes(settings.servers);

  ares_options options;
  std::memset(&options, 0, sizeof options);
  options.sock_state_cb = &AresAsioChannel::on_socket_state;
  options.sock_state_cb_data = this;
  options.timeout = static_cast<int>(settings.timeout.count());
  options.tries = settings.tries;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;

  ares_channel raw_channel = nullptr;
  const int status = ares_init_options(&raw_channel, &options, mask);
  if (status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares channel init failed: ") + ares_strerror(status));
  }
  channel_.reset(raw_channel);
  if (!server_nodes.empty()) {
    const int set_status = ares_set_servers_ports(channel_.get(), server_nodes.data());
    if (set_status != ARES_SUCCESS) {
      throw std::runtime_error(std::string("c-ares rejected the DNS servers: ") +
                               ares_strerror(set_status));
    }
  }
}

AresAsioChannel::~AresAsioChannel() {
  destroying_ = true;
  channel_.reset();  // runs the pending callbacks and closes c-ares' sockets
  release_all_watchers();
  timer_.cancel();
  alive_.reset();
}

void AresAsioChannel::query(const std::string& name, int type, AresQueryDone done) {
  if (!channel_) {
    done(ARES_EDESTRUCTION, nullptr, 0);
    return;
  }
  // c-ares holds the callback until it calls on_query_done, which takes it back.
  auto owned_done = std::make_unique<AresQueryDone>(std::move(done));
  ares_query(channel_.get(), name.c_str(), ns_c_in, type, &AresAsioChannel::on_query_done,
             owned_done.release());
  reschedule_timer();
}

void AresAsioChannel::cancel_all() {
  if (channel_) ares_cancel(channel_.get());
  reschedule_timer();
}

void AresAsioChannel::on_query_done(void* done, int status, int /*timeouts*/, unsigned char* answer,
                                    int length) {
  std::unique_ptr<AresQueryDone> owned_done(static_cast<AresQueryDone*>(done));
  try {
    (*owned_done)(status, answer, length);
  } catch (...) {
    // Never unwind through c-ares' C frames.
  }
}

void AresAsioChannel::on_socket_state(void* self, ares_socket_t fd, int readable, int writable) {
  try {
    static_cast<AresAsioChannel*>(self)->update_watcher(fd, readable != 0, writable != 0);
  } catch (...) {
    // An fd Asio could not adopt: the query will time out instead.
  }
}

void AresAsioChannel::update_watcher(ares_socket_t fd, bool want_read, bool want_write) {
  auto found = watchers_.find(fd);
  if (!want_read && !want_write) {  // c-ares is about to close the socket
    if (found != watchers_.end()) {
      found->second->release();
      watchers_.erase(found);
    }
    return;
  }
  if (destroying_) return;
  if (found == watchers_.end()) {
    auto watcher = std::make_shared<SocketWatcher>(io_, fd);
    asio::error_code error;
    watcher->descriptor.assign(fd, error);
    if (error) return;
    found = watchers_.emplace(fd, std::move(watcher)).first;
  }
  const std::shared_ptr<SocketWatcher> watcher = found->second;
  watcher->want_read = want_read;
  watcher->want_write = want_write;
  if (want_read && !watcher->read_pending) wait_readable(watcher);
  if (want_write && !watcher->write_pending) wait_writable(watcher);
}

void AresAsioChannel::wait_readable(const std::shared_ptr<SocketWatcher>& watcher) {
  watcher->read_pending = true;
  std::weak_ptr<char> alive = alive_;
  auto on_event = [this, alive, watcher](const asio::error_code& error) {
    watcher->read_pending = false;
    if (alive.expired() || watcher->released || error == asio::error::operation_aborted) return;
    on_ready(watcher, /*readable=*/true);
  };
  if (ready_now(watcher->fd, POLLIN)) {
    asio::post(io_, [on_event] { on_event(asio::error_code()); });
  } else {
    watcher->descriptor.async_wait(asio::posix::stream_descriptor::wait_read, on_event);
  }
}

void AresAsioChannel::wait_writable(const std::shared_ptr<SocketWatcher>& watcher) {
  watcher->write_pending = true;
  std::weak_ptr<char> alive = alive_;
  auto on_event = [this, alive, watcher](const asio::error_code& error) {
    watcher->write_pending = false;
    if (alive.expired() || watcher->released || error == asio::error::operation_aborted) return;
    on_ready(watcher, /*readable=*/false);
  };
  if (ready_now(watcher->fd, POLLOUT)) {
    asio::post(io_, [on_event] { on_event(asio::error_code()); });
  } else {
    watcher->descriptor.async_wait(asio::posix::stream_descriptor::wait_write, on_event);
  }
}

void AresAsioChannel::on_ready(const std::shared_ptr<SocketWatcher>& watcher, bool readable) {
  if (!channel_) return;
  // An exception leaving a handler would end io_context::run() and with it the
  // thread; the timer still fires for whatever could not be re-armed here.
  try {
    // May call back into update_watcher (closing this very socket) and into
    // query callbacks that start new queries: `watcher` is kept alive by the copy.
    ares_process_fd(channel_.get(), readable ? watcher->fd : ARES_SOCKET_BAD,
                    readable ? ARES_SOCKET_BAD : watcher->fd);
    if (!watcher->released) {
      if (watcher->want_read && !watcher->read_pending) wait_readable(watcher);
      if (watcher->want_write && !watcher->write_pending) wait_writable(watcher);
    }
    reschedule_timer();
  } catch (...) {
  }
}

void AresAsioChannel::reschedule_timer() {
  if (!channel_ || destroying_) return;
  timeval storage{};
  const timeval* next = ares_timeout(channel_.get(), nullptr, &storage);
  if (next == nullptr) {  // nothing pending
    timer_.cancel();
    return;
  }
  timer_.expires_after(std::chrono::seconds(next->tv_sec) +
                       std::chrono::microseconds(next->tv_usec));
  std::weak_ptr<char> alive = alive_;
  timer_.async_wait([this, alive](const asio::error_code& error) {
    if (alive.expired() || error == asio::error::operation_aborted || !channel_) return;
    try {
      // No fd ready: c-ares only checks for timed-out queries and retransmits.
      ares_process_fd(channel_.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      reschedule_timer();
    } catch (...) {
    }
  });
}

void AresAsioChannel::release_all_watchers() {
  for (auto& entry : watchers_) entry.second->release();
  watchers_.clear();
}

}  // namespace mailsentry
