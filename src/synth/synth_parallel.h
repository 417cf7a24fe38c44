#pragma once
// The synthetic world's only parallelism: every item of it is a pure function of (seed, index), so
// splitting the indices over the cores changes no byte of the world.
#include <algorithm>
#include <cstddef>
#include <future>
#include <thread>
#include <vector>

namespace vlmt {

// Calls fn(i) for every i in [begin, end), index i on core i mod cores; fn must not touch shared
// mutable state. Rethrows the first worker's exception.
template <class Fn>
void synth_parallel_for(std::size_t begin, std::size_t end, const Fn& fn) {
  const std::size_t workers = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::future<void>> parts;
  for (std::size_t w = 0; w < workers; ++w)
    parts.push_back(std::async(std::launch::async, [&, w] {
      for (std::size_t i = begin + w; i < end; i += workers) fn(i);
    }));
  for (auto& part : parts) part.get();
}

}  // namespace vlmt
