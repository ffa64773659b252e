// The one-shot request base of the RDAP and WHOIS clients: it ends exactly
// once, closes its connection before calling back, and turns a deadline,
// cancel() and a refused or failed connect into the right failure.
#include "net/one_shot_request.hpp"

#include <gtest/gtest.h>

#include <asio/error.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mailsentry {
namespace {

struct Answer {
  std::string text;
  std::string error;
  RequestFailure failure = RequestFailure::none;
};

class FakeRequest : public OneShotRequest<Answer>,
                    public std::enable_shared_from_this<FakeRequest> {
 public:
  FakeRequest(asio::io_context& io, Done done) : OneShotRequest(io, std::move(done)) {}
  void start(std::chrono::milliseconds timeout) { start_deadline(shared_from_this(), timeout); }
  using OneShotRequest::connected;
  using OneShotRequest::fail;
  using OneShotRequest::finish;
  using OneShotRequest::finished;
  int closes = 0;

 private:
  void close_connection() override { ++closes; }
};

struct Recorder {
  std::vector<Answer> answers;
  std::vector<int> closes_seen;  // how often the connection was closed when `done` ran
};

std::shared_ptr<FakeRequest> make_request(asio::io_context& io, Recorder& recorder) {
  auto self = std::make_shared<FakeRequest*>(nullptr);  // no ownership cycle
  auto request = std::make_shared<FakeRequest>(io, [&recorder, self](Answer answer) {
    recorder.answers.push_back(std::move(answer));
    recorder.closes_seen.push_back((*self)->closes);
  });
  *self = request.get();
  return request;
}

TEST(OneShotRequest, FinishesOnceAndClosesBeforeCallingBack) {
  asio::io_context io;
  Recorder recorder;
  auto request = make_request(io, recorder);
  Answer first;
  first.text = "first";
  request->finish(first);
  request->fail("late", RequestFailure::broken);
  request->cancel();
  ASSERT_EQ(recorder.answers.size(), 1u);
  EXPECT_EQ(recorder.answers[0].text, "first");
  EXPECT_EQ(recorder.answers[0].failure, RequestFailure::none);
  EXPECT_EQ(recorder.closes_seen[0], 1);
  EXPECT_EQ(request->closes, 1);
  EXPECT_TRUE(request->finished());
}

TEST(OneShotRequest, CancelFailsAsCancelled) {
  asio::io_context io;
  Recorder recorder;
  auto request = make_request(io, recorder);
  request->cancel();
  ASSERT_EQ(recorder.answers.size(), 1u);
  EXPECT_EQ(recorder.answers[0].failure, RequestFailure::cancelled);
  EXPECT_EQ(recorder.answers[0].error, "cancelled");
}

TEST(OneShotRequest, DeadlineFailsAsUnreachable) {
  asio::io_context io;
  Recorder recorder;
  make_request(io, recorder)->start(std::chrono::milliseconds(5));
  io.run();  // the timer holds the only reference
  ASSERT_EQ(recorder.answers.size(), 1u);
  EXPECT_EQ(recorder.answers[0].failure, RequestFailure::unreachable);
  EXPECT_EQ(recorder.answers[0].error, "timeout after 5 ms");
}

TEST(OneShotRequest, FinishingStopsTheDeadline) {
  asio::io_context io;
  Recorder recorder;
  auto request = make_request(io, recorder);
  request->start(std::chrono::hours(1));
  request->finish(Answer{});
  const auto before = std::chrono::steady_clock::now();
  io.run();  // returns at once: the cancelled timer is the only work
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  EXPECT_EQ(recorder.answers.size(), 1u);
}

TEST(OneShotRequest, ConnectedTellsRefusalFromUnreachable) {
  asio::io_context io;
  Recorder recorder;
  auto fine = make_request(io, recorder);
  EXPECT_TRUE(fine->connected({}, ""));
  EXPECT_TRUE(recorder.answers.empty());

  auto refused = make_request(io, recorder);
  EXPECT_FALSE(refused->connected(asio::error::access_denied, "10.0.0.1 is a private address"));
  ASSERT_EQ(recorder.answers.size(), 1u);
  EXPECT_EQ(recorder.answers[0].failure, RequestFailure::refused);
  EXPECT_EQ(recorder.answers[0].error, "10.0.0.1 is a private address");

  auto unreachable = make_request(io, recorder);
  const std::error_code error = asio::error::connection_refused;
  EXPECT_FALSE(unreachable->connected(error, ""));
  ASSERT_EQ(recorder.answers.size(), 2u);
  EXPECT_EQ(recorder.answers[1].failure, RequestFailure::unreachable);
  EXPECT_EQ(recorder.answers[1].error, lowercase_first(error.message()));

  EXPECT_FALSE(unreachable->connected({}, ""));  // finished already: nothing more to do
}

TEST(OneShotRequest, ACallbackThatThrowsStaysInside) {
  asio::io_context io;
  auto request = std::make_shared<FakeRequest>(io, [](Answer) { throw std::runtime_error("x"); });
  EXPECT_NO_THROW(request->cancel());
  EXPECT_TRUE(request->finished());
}

TEST(OneShotRequest, LowercaseFirst) {
  EXPECT_EQ(lowercase_first("Connection refused"), "connection refused");
  EXPECT_EQ(lowercase_first("already lower"), "already lower");
  EXPECT_EQ(lowercase_first(""), "");
}

}  // namespace
}  // namespace mailsentry
