#include "synth/synth_hard_pool.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

namespace {

// Without -mpopcnt the builtin is a library call; this is a few instructions inline.
int popcount(std::uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<int>((x * 0x0101010101010101ULL) >> 56);
}

// A candidate's similarity depends on (shared tokens, its tokens) only: key = shared · kSpan + its.
constexpr int kSpan = 64 + 8 + 1;  // token counts 0..72
constexpr int kKeys = kSpan * kSpan;
constexpr std::uint16_t kLeftOut = kKeys;

}  // namespace

SynthHardPools::SynthHardPools(const std::vector<const SynthScene*>& pool) : pool_(pool) {
  const std::size_t colours = synth_colours().size(), shapes = synth_shapes().size();
  if (colours * shapes > 64 || shapes > 8)
    throw Error(ExitCode::kFailure, cat("synthetic hard pools: ", colours, " colours × ", shapes,
                                        " shapes do not fit the 64 + 8 token bits"));
  for (const SynthScene* s : pool_) {
    std::uint64_t pairs = 0;
    std::uint8_t shape_bits = 0;
    for (const auto& o : s->objects) {
      pairs |= std::uint64_t{1} << (o.colour * shapes + o.shape);
      shape_bits |= static_cast<std::uint8_t>(1u << o.shape);
    }
    pairs_.push_back(pairs);
    shapes_.push_back(shape_bits);
    sizes_.push_back(static_cast<std::uint8_t>(popcount(pairs) + popcount(shape_bits)));
  }
}

std::vector<std::string> SynthHardPools::of(std::size_t i) const {
  const std::size_t n = pool_.size();
  const int mine = sizes_[i];
  const std::uint64_t my_pairs = pairs_[i];
  const std::uint8_t my_shapes = shapes_[i];
  // Pass 1: every candidate's key and how many candidates have each key. An image with pool[i]'s
  // id has pool[i]'s scene, hence the key of an identical token set: only those compare ids.
  const int identical = mine * kSpan + mine;
  std::vector<std::uint16_t> keys(n);
  std::vector<std::uint32_t> count(kKeys + 1, 0);
  for (std::size_t k = 0; k < n; ++k) {
    const int shared = popcount(pairs_[k] & my_pairs) + popcount(shapes_[k] & my_shapes);
    int key = shared * kSpan + sizes_[k];
    if (key == identical && pool_[k]->id == pool_[i]->id) key = kLeftOut;
    keys[k] = static_cast<std::uint16_t>(key);
    ++count[key];
  }
  // Negated Jaccard index, computed as a double exactly as the all-pairs ranking did, so equal
  // fractions (1/2, 2/4) tie and fall back to pool order.
  auto rank = [&](int key) {
    const int shared = key / kSpan, theirs = key % kSpan, either = mine + theirs - shared;
    return either == 0 ? 0.0 : -static_cast<double>(shared) / either;
  };
  std::vector<std::pair<double, int>> present;  // (rank, key), best first
  for (int key = 0; key < kKeys; ++key)
    if (count[key]) present.push_back({rank(key), key});
  std::sort(present.begin(), present.end());
  // Keys ranked above the last one needed are taken whole (kAll); those of its rank (kTies) in
  // pool order until the pool is full.
  enum Take : std::uint8_t { kNone, kAll, kTies };
  std::vector<std::uint8_t> take(kKeys + 1, kNone);
  std::size_t taken_whole = 0, ties_left = 0;
  for (std::size_t p = 0, q = 0; p < present.size(); p = q) {
    std::size_t group = 0;
    for (q = p; q < present.size() && present[q].first == present[p].first; ++q) group += count[present[q].second];
    const bool last = taken_whole + group >= kSynthHardPoolSize;
    for (std::size_t r = p; r < q; ++r) take[present[r].second] = last ? kTies : kAll;
    if (last) {
      ties_left = kSynthHardPoolSize - taken_whole;
      break;
    }
    taken_whole += group;
  }
  // Pass 2: take them, then order by rank and pool index.
  std::vector<std::pair<double, std::size_t>> taken;
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint8_t t = take[keys[k]];
    if (t == kAll || (t == kTies && ties_left > 0 && ties_left--)) taken.push_back({rank(keys[k]), k});
  }
  std::sort(taken.begin(), taken.end());
  std::vector<std::string> out;
  for (const auto& [r, k] : taken) out.push_back(pool_[k]->id);
  return out;
}

}  // namespace vlmt
