// Retrieval's synthetic hard-negative pools: the bit-mask ranking picks exactly the images a
// direct ranking by the Jaccard index of the token sets picks, in the same order.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "synth/synth_hard_pool.h"

namespace vlmt {
namespace {

// The definition, written out: tokens "colour shape" and "shape" as strings, every other image
// ranked by |A ∩ B| / |A ∪ B| descending, then by pool position.
std::vector<std::string> ranked_directly(std::size_t i, const std::vector<const SynthScene*>& pool) {
  auto tokens = [](const SynthScene& s) {
    std::set<std::string> t;
    for (const auto& o : s.objects)
      t.insert(synth_colours()[o.colour] + " " + synth_shapes()[o.shape]), t.insert(synth_shapes()[o.shape]);
    return t;
  };
  const auto mine = tokens(*pool[i]);
  std::vector<std::pair<double, std::size_t>> ranked;
  for (std::size_t k = 0; k < pool.size(); ++k) {
    if (pool[k]->id == pool[i]->id) continue;
    const auto theirs = tokens(*pool[k]);
    std::vector<std::string> both;
    std::set_intersection(mine.begin(), mine.end(), theirs.begin(), theirs.end(), std::back_inserter(both));
    const double either = static_cast<double>(mine.size() + theirs.size() - both.size());
    ranked.push_back({-static_cast<double>(both.size()) / either, k});
  }
  std::sort(ranked.begin(), ranked.end());
  ranked.resize(std::min(ranked.size(), kSynthHardPoolSize));
  std::vector<std::string> out;
  for (const auto& [similarity, k] : ranked) out.push_back(pool[k]->id);
  return out;
}

std::vector<SynthScene> scenes(int n, std::uint64_t seed) {
  std::vector<SynthScene> v;
  for (int i = 0; i < n; ++i) v.push_back(make_scene("img" + std::to_string(i), seed));
  return v;
}

std::vector<const SynthScene*> pointers(const std::vector<SynthScene>& v) {
  std::vector<const SynthScene*> p;
  for (const auto& s : v) p.push_back(&s);
  return p;
}

TEST(SynthHardPool, EqualsTheDirectRankingWithItsTies) {
  // 700 images: many candidates tie at the 99th place, so the pool-order tie break is exercised.
  const auto v = scenes(700, 3);
  const auto pool = pointers(v);
  const SynthHardPools pools(pool);
  for (std::size_t i = 0; i < pool.size(); ++i) {
    const auto got = pools.of(i);
    ASSERT_EQ(got.size(), kSynthHardPoolSize);
    ASSERT_EQ(got, ranked_directly(i, pool)) << "image " << i;
  }
}

TEST(SynthHardPool, SmallPoolsHoldEveryOtherImageAndARepeatedIdIsLeftOut) {
  auto v = scenes(40, 5);
  v.push_back(v[3]);  // the same image twice: neither copy is its own negative
  const auto pool = pointers(v);
  const SynthHardPools pools(pool);
  for (std::size_t i = 0; i < pool.size(); ++i) {
    const auto got = pools.of(i);
    EXPECT_EQ(got.size(), (i == 3 || i == 40) ? 39u : 40u) << "image " << i;
    EXPECT_EQ(got, ranked_directly(i, pool)) << "image " << i;
  }
}

}  // namespace
}  // namespace vlmt
