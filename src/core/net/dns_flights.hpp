// Identical DNS lookups share one query while it is in flight: the first
// opens a flight, later ones join it as waiters, and whoever ends the query
// completes the flight, which hands each waiter its own copy of the answer.
// io_context thread only.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mailsentry {

// Runs `done` later on the io_context thread; whatever it throws stays here
// rather than killing the thread that runs the io_context.
template <typename Answer>
void deliver(asio::io_context& io, std::function<void(Answer)> done, Answer answer) {
  if (!done) return;
  asio::post(io, [done = std::move(done), answer = std::move(answer)]() mutable {
    try {
      done(std::move(answer));
    } catch (...) {
    }
  });
}

template <typename Answer>
class DnsFlights {
 public:
  using Done = std::function<void(Answer)>;

  // `alive` expires when the owner of this table goes; completions that run
  // later (as the c-ares channel dies) then leave the table alone.
  DnsFlights(asio::io_context& io, std::weak_ptr<char> alive) : io_(io), alive_(std::move(alive)) {}

  // Adds `done` to the flight of `key` if one is open (and takes it).
  bool join(const std::string& key, Done& done) {
    const auto found = flights_.find(key);
    if (found == flights_.end()) return false;
    found->second->waiters.push_back(std::move(done));
    return true;
  }

  // Opens the flight of `key` with `done` as its first waiter and sends its
  // query with `send(complete)`. `complete` closes the flight, so that later
  // lookups ask again (or find the cache filled), and delivers the answer to
  // every waiter; it must run once. Should `send` throw, the flight is
  // closed rather than left to swallow later lookups.
  template <typename Send>
  void open(const std::string& key, Done done, Send send) {
    auto flight = std::make_shared<Flight>();
    flight->waiters.push_back(std::move(done));
    flights_[key] = flight;
    Done complete = [&io = io_, this, alive = alive_, key, flight](Answer answer) {
      if (!alive.expired()) close(key, flight);
      std::vector<Done> waiters = std::move(flight->waiters);
      flight->waiters.clear();
      for (std::size_t i = 0; i + 1 < waiters.size(); ++i) {
        deliver(io, std::move(waiters[i]), Answer(answer));
      }
      if (!waiters.empty()) deliver(io, std::move(waiters.back()), std::move(answer));
    };
    try {
      send(std::move(complete));
    } catch (...) {
      close(key, flight);
      throw;
    }
  }

  // Lookups from now on never join a flight opened before; those flights
  // still complete their waiters.
  void clear() { flights_.clear(); }

 private:
  struct Flight {
    std::vector<Done> waiters;
  };

  // Forgets the flight of `key` if it is still this one.
  void close(const std::string& key, const std::shared_ptr<Flight>& flight) {
    const auto found = flights_.find(key);
    if (found != flights_.end() && found->second == flight) flights_.erase(found);
  }

  asio::io_context& io_;
  std::weak_ptr<char> alive_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace mailsentry
