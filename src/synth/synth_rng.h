#pragma once
// The synthetic world's random numbers: splitmix64 with hand-written distributions, so a seed
// gives the same world on every compiler and standard library (std::*_distribution does not).
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vlmt {

class SynthRng {
 public:
  explicit SynthRng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  int between(int lo, int hi) { return lo + below(hi - lo + 1); }  // inclusive
  bool chance(double p) { return uniform() < p; }
  double normal() {  // Box-Muller
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[next() % i]);
  }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[next() % v.size()]; }

 private:
  std::uint64_t state_;
};

// A seed derived from the world seed and a tag (FNV-1a over the tag), so that each image, task
// and split has its own stream and adding one never shifts another.
inline std::uint64_t derive_seed(std::uint64_t seed, const std::string& tag) {
  std::uint64_t h = 1469598103934665603ULL ^ seed;
  for (unsigned char c : tag) h = (h ^ c) * 1099511628211ULL;
  return SynthRng(h).next();
}

}  // namespace vlmt
