// bench_loader: what one rank's input pipeline delivers. Builds the training batches of a run file
// exactly as mt_train / pretrain do (each task's train dataset, sampler of rank 0 of --ranks,
// collation and prefetching TaskLoaders, one batch of every task per iteration, round robin)
// and prints, for each number of loader threads and for a cold and a warm page cache:
// samples/s, feature MB/s read from the files, bytes read per sample and the process's RSS.
//
//   bench_loader RUN.toml [--set k=v ...] [--threads 1,2] [--iterations 20] [--ranks 8]
//                [--intra-op 1] [--json FILE]
//
// Cold: the feature files' pages are dropped from the page cache (posix_fadvise DONTNEED) and
// the rank's feature cache starts empty; warm: the same run again, everything cached that fits.
// docs/PERFORMANCE.md "Input pipeline" has the figures at the release's feature shapes.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/run_config.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "core/resident_memory.h"
#include "data/loader.h"
#include "tasks/task_data.h"
#include "train/trainer_parts.h"

namespace vlmt::dev::bench_loader {

using namespace vlmt;

namespace {

void drop_from_page_cache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw DataError(cat("bench_loader: cannot open ", path, " to drop its pages"));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

std::vector<int> parse_threads(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const long n = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || n < 1 || n > 64)
      throw ConfigError(cat("bench_loader: --threads must be a comma-separated list of 1..64, got '", text, "'"));
    out.push_back(static_cast<int>(n));
  }
  return out;
}

struct Measurement {
  int threads;
  bool cold;
  int64_t samples = 0, bytes = 0;
  double seconds = 0, rss = 0, hwm = 0;
};

// One timed run: fresh datasets (their stores open empty), `iterations` rounds of one batch per
// task after one untimed round (the workers' start).
Measurement run_once(const RunConfig& cfg, int ranks, int threads, bool cold, int iterations) {
  struct Stream {
    std::shared_ptr<const TaskDataset> data;
    std::unique_ptr<TaskLoader> loader;
  };
  std::vector<Stream> streams;
  std::set<const FeatureStore*> stores;
  std::vector<DistributedSampler> samplers;
  for (const auto& [spec, hyper] : training_tasks(cfg)) {
    std::shared_ptr<const TaskDataset> data = make_task_dataset(*spec, "train", cfg.data, hyper, cfg.model, cfg.train);
    for (const auto* s : {data->context().features.get(), data->context().gt_features.get()})
      if (s) stores.insert(s);
    const int64_t rank_batch = std::max<int64_t>(1, hyper.batch_size / ranks);
    samplers.emplace_back(data->size(), rank_batch, 0, ranks, static_cast<uint64_t>(cfg.train.seed), true,
                          cfg.train.drop_last);
    if (samplers.back().batches_per_epoch() == 0)
      throw DataError(cat("bench_loader: ", spec->key, " has ", data->size(), " train items, fewer than one batch"));
    streams.push_back({data, nullptr});
  }
  if (cold)
    for (const auto* s : stores) drop_from_page_cache(s->path());
  for (size_t k = 0; k < streams.size(); ++k)
    streams[k].loader = std::make_unique<TaskLoader>(streams[k].data, samplers[k], static_cast<uint64_t>(cfg.train.seed),
                                                     cfg.data.prefetch_batches, false, threads);
  for (auto& s : streams) s.loader->next();
  Measurement m{threads, cold};
  int64_t bytes_before = 0;
  for (const auto* s : stores) bytes_before += s->bytes_read();
  const auto start = std::chrono::steady_clock::now();
  for (int it = 0; it < iterations; ++it)
    for (auto& s : streams) m.samples += s.loader->next().size;
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto* s : stores) m.bytes += s->bytes_read();
  m.bytes -= bytes_before;
  const ResidentMemory rss = resident_memory();
  m.rss = rss.now_bytes / 1048576.0;
  m.hwm = rss.peak_bytes / 1048576.0;
  return m;
}

}  // namespace

int run(int argc, char** argv) {
  return run_tool([&] {
    const CliArgs args = parse_cli(
        argc, argv, "bench_loader", "RUN.toml [--set k=v] [--threads 1,2] [--iterations N] [--ranks R] ...",
        {cli_positional("run", "run file whose tasks, batch sizes and data root are benchmarked", 1, 1), cli_set(),
         cli_text("threads", "loader threads per task to measure, comma-separated (default 1,2)"),
         cli_integer("iterations", "timed iterations, one batch of every task each (default 20)", 1, 1e6),
         cli_integer("ranks", "ranks the global batches are split over (default 8, a GPU node)", 1, 4096),
         cli_integer("intra-op", "LibTorch intra-op threads (default 1: each loader thread is one core)", 1, 1024),
         cli_text("json", "also write one JSON object per measurement to this file")});
    torch::set_num_threads(static_cast<int>(args.integer("intra-op", 1)));
    const RunConfig cfg = load_run_config(locate_config(args.positional.at(0)), args.overrides);
    const int ranks = static_cast<int>(args.integer("ranks", 8));
    const int iterations = static_cast<int>(args.integer("iterations", 20));
    std::ofstream json;
    if (args.has("json")) {
      json.open(args.get("json"));
      if (!json) throw DataError(cat("bench_loader: cannot write ", args.get("json")));
    }
    log::info(cat("bench_loader: ", training_tasks(cfg).size(), " tasks, batches of rank 0 of ", ranks, ", prefetch ",
                  cfg.data.prefetch_batches, ", feature cache ", cfg.data.feature_cache_mb, " MiB, intra-op threads ",
                  torch::get_num_threads()));
    std::printf("%8s %5s %10s %9s %12s %9s %9s\n", "threads", "cache", "samples/s", "MB/s", "KB/sample", "RSS MiB",
                "peak MiB");
    for (const int threads : parse_threads(args.get("threads", "1,2"))) {
      for (const bool cold : {true, false}) {
        const Measurement m = run_once(cfg, ranks, threads, cold, iterations);
        const double per_s = m.samples / m.seconds, mb_s = m.bytes / m.seconds / 1e6;
        std::printf("%8d %5s %10.1f %9.1f %12.1f %9.0f %9.0f\n", m.threads, cold ? "cold" : "warm", per_s, mb_s,
                    m.bytes / 1e3 / std::max<int64_t>(1, m.samples), m.rss, m.hwm);
        std::fflush(stdout);
        if (json.is_open())
          json << nlohmann::json{{"threads", m.threads}, {"page_cache", cold ? "cold" : "warm"},
                                 {"samples", m.samples}, {"seconds", m.seconds}, {"samples_per_s", per_s},
                                 {"bytes_read", m.bytes}, {"mb_per_s", mb_s}, {"rss_mib", m.rss},
                                 {"peak_rss_mib", m.hwm}, {"ranks", ranks}, {"iterations", iterations}}
                      .dump()
               << "\n";
      }
    }
    return 0;
  });
}

}  // namespace vlmt::dev::bench_loader
