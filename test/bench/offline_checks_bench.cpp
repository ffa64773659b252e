// ns/address of each network-free check and of all of them together, over
// 100k realistic addresses. Run: make bench (see BENCHMARKS.md).
#include <benchmark/benchmark.h>

#include "checks/disposable.hpp"
#include "checks/public_suffix.hpp"
#include "realistic_addresses.hpp"
#include "verdict/verification.hpp"

namespace mailsentry::bench {
namespace {

constexpr std::size_t kAddresses = 100000;

const std::vector<std::string>& addresses() {
  static const auto all = realistic_addresses(kAddresses);
  return all;
}

const std::vector<ParsedAddress>& parsed() {
  static const auto all = [] {
    std::vector<ParsedAddress> out;
    for (const auto& a : addresses()) out.push_back(parse_address(a));
    return out;
  }();
  return all;
}

const Lists& lists() {
  static const Lists all = Lists::builtin();
  return all;
}

// Runs `check` over every address per iteration; reports time per address.
template <typename Check>
void over_all(benchmark::State& state, Check&& check) {
  const std::size_t n = addresses().size();
  for (auto _ : state)
    for (std::size_t i = 0; i < n; ++i) check(i);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["ns_per_address"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Syntax(benchmark::State& state) {
  over_all(state, [](std::size_t i) { benchmark::DoNotOptimize(parse_address(addresses()[i])); });
}
void BM_SyntaxValidOnly(benchmark::State& state) {
  over_all(state,
           [](std::size_t i) { benchmark::DoNotOptimize(is_valid_address(addresses()[i])); });
}
void BM_PublicSuffix(benchmark::State& state) {
  over_all(state, [](std::size_t i) {
    benchmark::DoNotOptimize(public_suffix_known(parsed()[i].domain));
  });
}
void BM_Typo(benchmark::State& state) {
  over_all(state,
           [](std::size_t i) { benchmark::DoNotOptimize(suggest_typo(addresses()[i], lists())); });
}
void BM_Disposable(benchmark::State& state) {
  over_all(state, [](std::size_t i) {
    benchmark::DoNotOptimize(is_disposable_domain(parsed()[i].domain, lists()));
  });
}
void BM_Role(benchmark::State& state) {
  over_all(state, [](std::size_t i) {
    benchmark::DoNotOptimize(classify_role(parsed()[i].local, lists()));
  });
}
void BM_Provider(benchmark::State& state) {
  over_all(state, [](std::size_t i) {
    benchmark::DoNotOptimize(classify_provider(parsed()[i], lists(), false));
  });
}
void BM_Gibberish(benchmark::State& state) {
  over_all(state,
           [](std::size_t i) { benchmark::DoNotOptimize(assess_gibberish(parsed()[i].local)); });
}
void BM_Trap(benchmark::State& state) {
  over_all(state,
           [](std::size_t i) { benchmark::DoNotOptimize(assess_trap(parsed()[i], lists())); });
}
void BM_Abuse(benchmark::State& state) {
  const GibberishResult natural;
  over_all(state, [&natural](std::size_t i) {
    benchmark::DoNotOptimize(assess_abuse(parsed()[i], lists(), natural));
  });
}
void BM_AllChecksAndScore(benchmark::State& state) {
  const Weights weights;
  over_all(state, [&weights](std::size_t i) {
    Verification v = check_offline(addresses()[i], lists());
    assess(v, weights);
    benchmark::DoNotOptimize(v.assessment.score);
  });
}

// Each benchmark iteration covers all 100k addresses.
BENCHMARK(BM_Syntax)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SyntaxValidOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PublicSuffix)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Typo)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Disposable)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Role)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Provider)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gibberish)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Trap)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Abuse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AllChecksAndScore)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mailsentry::bench
