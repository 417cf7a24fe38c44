#pragma once
// Retrieval's offline hard-negative pools for the synthetic world: each training image's most
// similar other training images (the released hard_negative.pkl holds 99 per image).
#include <cstdint>
#include <string>
#include <vector>

#include "synth/synth_scene.h"

namespace vlmt {

inline constexpr std::size_t kSynthHardPoolSize = 99;

// The attribute tokens of every image of a pool as bit masks, so that a pool of N images costs
// N² bit operations and O(N) memory per query instead of N² set builds and an N log N sort
// (scale 1: 98K COCO retrieval images).
class SynthHardPools {
 public:
  explicit SynthHardPools(const std::vector<const SynthScene*>& pool);
  // The kSynthHardPoolSize images most similar to pool[i] by the Jaccard index of their token sets
  // ({colour·shape} ∪ {shape} of their objects), ties broken by pool order; images with pool[i]'s
  // id are left out.
  std::vector<std::string> of(std::size_t i) const;

 private:
  std::vector<const SynthScene*> pool_;
  std::vector<std::uint64_t> pairs_;  // bit colour·8 + shape per (colour, shape) present
  std::vector<std::uint8_t> shapes_;  // bit shape per shape present
  std::vector<std::uint8_t> sizes_;   // tokens in the set
};

}  // namespace vlmt
