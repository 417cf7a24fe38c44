// bench_retrieval: the cost of retrieval evaluation's scoring (every caption against every image)
// two ways on the same random captions and images, and whether they agree:
//   full   the whole trunk on every (caption, image) pair (vlmt before the split, and the
//          released code)
//   reuse  each caption and each image encoded once up to the first co-attention, the joint
//          rest per pair (model/vilbert.h; what tasks/kind_retrieval.cpp does)
//
//   bench_retrieval [--preset tiny|base|FILE] [--captions 8] [--images 100] [--rows 512]
//                   [--text-len 30] [--regions 101] [--threads N]
//
// --rows is the pairs per forward pass (evaluation uses 4 × the task's batch size). Prints both
// times, pairs/s, the speed-up, the largest score difference and whether every caption ranks the
// images the same.
#include <cstdio>

#include "catalog/task_catalog.h"
#include "config/run_config.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/timing.h"
#include "model/multitask_model.h"
#include "model/pair_forward.h"
#include "tasks/random_batch.h"

namespace vlmt::dev::bench_retrieval {

using namespace vlmt;

namespace {

// The scores [captions, images] in passes of `group` captions × `chunk` images.
template <class Score>
torch::Tensor score_matrix(int64_t captions, int64_t images, int64_t rows, Score score) {
  const auto [chunk, group] = pair_passes(images, rows);
  auto out = torch::empty({captions, images});
  for (int64_t c0 = 0; c0 < captions; c0 += group) {
    const int64_t g = std::min(group, captions - c0);
    for (int64_t i0 = 0; i0 < images; i0 += chunk) {
      const int64_t w = std::min(chunk, images - i0);
      out.narrow(0, c0, g).narrow(1, i0, w).copy_(score(c0, g, i0, w).view({g, w}));
    }
  }
  return out;
}

}  // namespace

int run(int argc, char** argv) {
  return run_tool([&] {
    const CliArgs args = parse_cli(argc, argv, "bench_retrieval", "[--preset P] [--captions C] [--images M] ...",
                                   {cli_text("preset", "model preset (default tiny)"),
                                    cli_integer("captions", "captions (default 8)", 1, 1e6),
                                    cli_integer("images", "images (default 100)", 1, 1e6),
                                    cli_integer("rows", "pairs per forward pass (default 512)", 1, 1e7),
                                    cli_integer("text-len", "text length (default 30)", 2, 512),
                                    cli_integer("regions", "regions (default 101)", 1, 1000),
                                    cli_integer("threads", "intra-op threads (default: all cores)", 1, 1024)});
    if (args.has("threads")) torch::set_num_threads(static_cast<int>(args.integer("threads", 1)));
    const ModelConfig config = load_model_preset(args.get("preset", "tiny"));
    const int64_t captions = args.integer("captions", 8), images = args.integer("images", 100);
    const int64_t rows = args.integer("rows", 512);
    const int64_t L = args.integer("text-len", 30), R = args.integer("regions", 101);
    torch::manual_seed(1);
    MultiTaskModel model(config);
    model->eval();
    torch::NoGradGuard no_grad;
    // VQA batches: one row per item (a retrieval training batch has 4); only the task token differs.
    const Batch text = random_batch(config, builtin_task("vqa"), captions, L, R);
    const Batch regions = random_batch(config, builtin_task("vqa"), images, L, R);

    const auto rows_of = [](const torch::Tensor& t, int64_t start, int64_t n) { return t.narrow(0, start, n); };
    torch::Tensor full, reuse;
    const double full_s = seconds_of(torch::kCPU, [&] {
      full = score_matrix(captions, images, rows, [&](int64_t c0, int64_t g, int64_t i0, int64_t w) {
        Batch pairs = text;
        for (torch::Tensor* t : {&pairs.input_ids, &pairs.segment_ids, &pairs.text_mask})
          *t = rows_of(*t, c0, g).repeat_interleave(w, 0);
        pairs.features = rows_of(regions.features, i0, w).repeat({g, 1, 1});
        pairs.spatials = rows_of(regions.spatials, i0, w).repeat({g, 1, 1});
        pairs.image_mask = rows_of(regions.image_mask, i0, w).repeat({g, 1});
        return model->retrieval_logits(model->forward(pairs));
      });
    });
    const double reuse_s = seconds_of(torch::kCPU, [&] {
      const StreamEncoding t = model->encode_text(text), v = model->encode_image(regions);
      reuse = score_matrix(captions, images, rows, [&](int64_t c0, int64_t g, int64_t i0, int64_t w) {
        return model->retrieval_logits(forward_every_pair(*model, {rows_of(t.hidden, c0, g), rows_of(t.mask, c0, g)},
                                                          {rows_of(v.hidden, i0, w), rows_of(v.mask, i0, w)}));
      });
    });
    const double pairs = static_cast<double>(captions * images);
    const double max_diff = (full - reuse).abs().max().item<double>();
    const bool same_ranking = full.argsort(1, true).equal(reuse.argsort(1, true));
    std::printf("bench_retrieval: preset %s, %lld captions x %lld images, %lld pairs per pass, L=%lld, R=%lld, "
                "%d threads\n", args.get("preset", "tiny").c_str(), static_cast<long long>(captions),
                static_cast<long long>(images), static_cast<long long>(rows), static_cast<long long>(L),
                static_cast<long long>(R), torch::get_num_threads());
    std::printf("  layers               %s\n", describe_schedule(model->bert->encoder->schedule).c_str());
    std::printf("  full forward         %.3f s, %.1f pairs/s\n", full_s, pairs / full_s);
    std::printf("  encode once + joint  %.3f s, %.1f pairs/s\n", reuse_s, pairs / reuse_s);
    std::printf("  speed-up             %.2fx\n", full_s / reuse_s);
    std::printf("  max |score diff|     %.3g; rankings %s\n", max_diff, same_ranking ? "identical" : "DIFFER");
    return same_ranking ? 0 : 1;
  });
}

}  // namespace vlmt::dev::bench_retrieval
