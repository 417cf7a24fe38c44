#include "synth/synth_world.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <iomanip>
#include <set>
#include <sstream>

#include "catalog/task_catalog.h"
#include "core/error.h"
#include "core/log.h"
#include "data/feature_writer.h"
#include "data/vqa_ids.h"
#include "synth/synth_hard_pool.h"
#include "synth/synth_parallel.h"
#include "synth/synth_tasks.h"
#include "synth/synth_text.h"

namespace vlmt {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

const std::vector<SynthTaskPlan>& synth_task_plans() {
  // Training sizes: paper Table 8 (thousands). Annotations per image follow the real datasets
  // roughly (VQA ~5 questions per image, VG QA ~12, GuessWhat ~2 dialogs, SNLI-VE ~17, ...).
  using Q = SynthQuestions;
  using R = SynthReferring;
  const auto& vqa_answers = synth_vqa_answers();
  static const std::vector<SynthTaskPlan> plans = {
      {"vqa", "coco", 542, 5, true, synth_question_items(Q::kAttributes, 10, 0.15, vqa_answers)},
      {"vgqa", "vg", 1294, 12, true,
       synth_question_items(Q::kAttributesVgPhrasing, 1, 0.05, vqa_answers)},
      {"gqa", "gqa", 963, 12, true,
       synth_question_items(Q::kRelations, 1, 0.03, synth_gqa_answers())},
      {"retrieval_coco", "coco", 488, 5, false, synth_retrieval_items()},
      {"retrieval_flickr30k", "flickr30k", 140, 5, true, synth_retrieval_items()},
      {"refcoco", "coco", 96, 5, false, synth_referring_items(R::kShortWithLocation)},
      // RefCOCO and RefCOCO+ were collected on the same images with the same split.
      {"refcoco+", "coco", 96, 5, false, synth_referring_items(R::kAppearanceOnly), "refcoco"},
      {"refcocog", "coco", 66, 3, false, synth_referring_items(R::kLongWithNeighbour)},
      {"visual7w", "vg", 94, 5, false, synth_pointing_items()},
      {"guesswhat", "coco", 100, 2, false, synth_dialog_items()},
      {"nlvr2", "nlvr2", 86, 1, true, synth_pair_statement_items()},
      {"snli_ve", "flickr30k", 512, 17, false, synth_entailment_items()},
      {"pretrain", "cc", 3100, 1, true, synth_captions_corpus()},
  };
  return plans;
}

SynthSplitSizes synth_split_sizes(const SynthTaskPlan& plan, double scale, int min_held_out) {
  const int train = std::max(32, static_cast<int>(std::lround(plan.paper_train_k * 1000 * scale)));
  // At least min_held_out (default 128) items: one item then moves a val/test score by under one point,
  // so DSG and the tables read learning, not the luck of a few items.
  const int held_out = std::max(min_held_out, train / 10);
  return {train, held_out, plan.items.captions_corpus ? 0 : held_out};
}

namespace {

int images_for(int items, int per_image) { return (items + per_image - 1) / per_image; }

// A source's images: `base` (the owner's train+val images, which other datasets draw from) and
// `extra` (the owner's test images).
struct Pool {
  std::vector<std::string> base, extra;
  std::vector<std::string> all() const {
    auto v = base;
    v.insert(v.end(), extra.begin(), extra.end());
    return v;
  }
};

const SynthTaskPlan& owner_of(const std::string& source) {
  for (const auto& p : synth_task_plans())
    if (p.source == source && p.owns_pool) return p;
  throw Error(ExitCode::kFailure, cat("no owner for image source ", source));
}

std::vector<std::string> numbered(const std::string& prefix, long first, int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(prefix + std::to_string(first + i));
  return v;
}

// Pools like the real ones: VG reuses about half of COCO (same ids), GQA about half of VG, and
// the test images of each owner are its own.
std::map<std::string, Pool> build_pools(const SynthWorldOptions& o) {
  auto sizes = [&](const std::string& source) {
    const auto& plan = owner_of(source);
    const auto s = synth_split_sizes(plan, o.scale, o.min_held_out);
    return std::pair<int, int>{images_for(s.train, plan.per_image) + images_for(s.val, plan.per_image),
                               images_for(s.test, plan.per_image)};
  };
  std::map<std::string, Pool> pools;
  auto [coco_n, coco_test] = sizes("coco");
  pools["coco"] = {numbered("", 100000, coco_n), numbered("", 500000, coco_test)};
  auto [vg_n, vg_test] = sizes("vg");
  Pool vg;
  const int shared_vg = std::min(vg_n / 2, coco_n);
  for (int i = 0; i < shared_vg; ++i) vg.base.push_back(pools["coco"].base[i]);
  for (auto& id : numbered("", 2400000, vg_n - shared_vg)) vg.base.push_back(id);
  vg.extra = numbered("", 2900000, vg_test);
  pools["vg"] = vg;
  auto [gqa_n, gqa_test] = sizes("gqa");
  Pool gqa;
  const int shared_gqa = std::min(gqa_n / 2, vg_n);
  for (int i = 0; i < shared_gqa; ++i) gqa.base.push_back(vg.base[vg_n - 1 - i]);
  for (auto& id : numbered("n", 100000, gqa_n - shared_gqa)) gqa.base.push_back(id);
  gqa.extra = numbered("n", 900000, gqa_test);
  pools["gqa"] = gqa;
  auto [fl_n, fl_test] = sizes("flickr30k");
  pools["flickr30k"] = {numbered("", 1000000000L, fl_n), numbered("", 1100000000L, fl_test)};
  auto [nl_n, nl_test] = sizes("nlvr2");
  pools["nlvr2"] = {numbered("nlvr2-", 0, nl_n), numbered("nlvr2-test-", 0, nl_test)};
  auto [cc_n, cc_test] = sizes("cc");
  pools["cc"] = {numbered("cc-", 0, cc_n), numbered("cc-test-", 0, cc_test)};
  return pools;
}

// The images of each split of one dataset.
std::map<std::string, std::vector<std::string>> split_images(const SynthTaskPlan& plan,
                                                             const Pool& pool,
                                                             const SynthWorldOptions& o) {
  const auto s = synth_split_sizes(plan, o.scale, o.min_held_out);
  int n_train = images_for(s.train, plan.per_image), n_val = images_for(s.val, plan.per_image);
  int n_test = s.test ? images_for(s.test, plan.per_image) : 0;
  const std::string split_key = plan.split_like.empty() ? plan.key : plan.split_like;
  std::vector<std::string> order = pool.base;
  SynthRng rng(derive_seed(o.seed, "split/" + split_key));
  rng.shuffle(order);
  std::map<std::string, std::vector<std::string>> out;
  if (plan.owns_pool) {
    out["train"].assign(order.begin(), order.begin() + n_train);
    out["val"].assign(order.begin() + n_train, order.end());
    out["test"] = pool.extra;
    return out;
  }
  const int total = n_train + n_val + n_test, available = static_cast<int>(order.size());
  if (total > available) {  // more images wanted than the pool has: shrink each split
    const double f = static_cast<double>(available) / total;
    n_val = std::max(1, static_cast<int>(n_val * f));
    n_test = std::max(1, static_cast<int>(n_test * f));
    n_train = std::max(1, available - n_val - n_test);
  }
  out["train"].assign(order.begin(), order.begin() + n_train);
  out["val"].assign(order.begin() + n_train, order.begin() + n_train + n_val);
  out["test"].assign(order.begin() + n_train + n_val, order.begin() + n_train + n_val + n_test);
  return out;
}

std::ofstream open_out(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  if (!out) throw DataError(cat(path.string(), ": cannot open for writing"));
  return out;
}

void write_text_file(const fs::path& path, const std::string& text) {
  auto out = open_out(path);
  out << text;
  if (!out) throw DataError(cat(path.string(), ": write failed"));
}

// Items of one split, round-robin over its images; an image that cannot host an item after a
// few draws hands it to the next image.
// `split` is the file name (train, minval, dev, ...), used in item ids.
// The id of item i of a split file. A dataset whose evaluation server takes integer ids (VQA,
// data/vqa_ids.h) gets decimal ids as released: a block of a million per split, placed by a hash
// of the split's name; the others' ids name dataset, split and item.
std::string synth_item_id(const SynthTaskPlan& plan, const std::string& split, int i) {
  if (builtin_task(plan.key).submission != kVqaSubmissionFormat) return cat(plan.key, "-", split, "-", i);
  return std::to_string((derive_seed(0, "question ids/" + split) % 9000 + 1000) * 1000000 + i);
}

std::vector<ordered_json> make_split_items(const SynthTaskPlan& plan, const std::string& split,
                                           const std::vector<std::string>& images, int count,
                                           SynthSceneCache& scenes, std::uint64_t seed) {
  SynthRng rng(derive_seed(seed, "items/" + plan.key + "/" + split));
  std::vector<const SynthScene*> pool;
  for (const auto& id : images) pool.push_back(&scenes.get(id));
  const int n = static_cast<int>(images.size());
  std::vector<ordered_json> items;
  for (int i = 0; i < count; ++i) {
    SynthItemContext ctx{synth_item_id(plan, split, i), {}, &rng};
    SynthItem item;
    const int per_item = plan.items.scenes_per_item;
    for (int attempt = 0; attempt < 8 * n && !item; ++attempt) {
      const int k = per_item * i + attempt / 8;
      ctx.scenes.clear();
      for (int j = 0; j < per_item; ++j) ctx.scenes.push_back(pool[(k + j) % n]);
      item = plan.items.make(ctx);
    }
    if (!item)
      throw Error(ExitCode::kFailure, cat("synthetic ", plan.key, "/", split, ": no image can host item ", i));
    for (const auto& text : synth_item_texts(*item)) check_in_vocabulary(text);
    items.push_back(std::move(*item));
  }
  return items;
}

// Retrieval's offline hard-negative pool of the training images, in the layout the converter
// writes from the released hard_negative.pkl (data/annotations.h HardPoolRecord).
std::string hard_pool_lines(const std::vector<std::string>& images, SynthSceneCache& scenes) {
  std::vector<const SynthScene*> pool;
  for (const auto& id : images) pool.push_back(&scenes.get(id));
  const SynthHardPools pools(pool);
  std::vector<std::string> line(pool.size());
  synth_parallel_for(0, pool.size(), [&](std::size_t i) {
    line[i] = ordered_json{{"image_id", pool[i]->id}, {"pool", pools.of(i)}}.dump() + "\n";
  });
  std::string lines;
  for (const auto& l : line) lines += l;
  return lines;
}

// The regions of scenes[begin, end), computed on every core.
std::vector<SynthRegions> regions_of(const std::vector<const SynthScene*>& scenes, std::size_t begin,
                                     std::size_t end, const SynthFeatureSpace& space,
                                     const SynthWorldOptions& o, bool ground_truth) {
  std::vector<SynthRegions> out(end - begin);
  synth_parallel_for(begin, end, [&](std::size_t i) {
    out[i - begin] = ground_truth ? space.ground_truth(*scenes[i], o.seed)
                                  : space.detect(*scenes[i], o.seed, o.max_regions, o.min_regions);
  });
  return out;
}

// Regions are computed a block ahead on the other cores while this thread writes (the only one
// that calls HDF5): at scale 1 the features are 3.4M images and most of the world's time.
void write_features(const fs::path& dir, const std::string& source, const std::vector<std::string>& ids,
                    const SynthWorldOptions& o, const std::string& hash, SynthSceneCache& scenes,
                    const SynthFeatureSpace& space, bool ground_truth) {
  FeatureFileOptions fo;
  fo.feature_dim = o.feature_dim;
  fo.detector = ground_truth ? "synthetic-gt" : "synthetic";
  fo.settings_hash = hash;
  fo.float16 = o.float16;
  fo.num_classes = o.num_classes;
  FeatureFileWriter writer((dir / (source + (ground_truth ? "_gt.h5" : ".h5"))).string(), fo);
  std::vector<const SynthScene*> image_scenes;
  for (const auto& id : ids) image_scenes.push_back(&scenes.get(id));  // the cache is not thread-safe
  constexpr std::size_t kBlock = 4096;
  auto block_from = [&](std::size_t begin) {
    return std::async(std::launch::async, regions_of, std::cref(image_scenes), begin,
                      std::min(begin + kBlock, ids.size()), std::cref(space), std::cref(o), ground_truth);
  };
  auto next = block_from(0);
  for (std::size_t begin = 0; begin < ids.size(); begin += kBlock) {
    const auto block = next.get();
    if (begin + kBlock < ids.size()) next = block_from(begin + kBlock);
    for (std::size_t i = 0; i < block.size(); ++i) {
      const SynthScene& scene = *image_scenes[begin + i];
      writer.add_image(scene.id, scene.height, scene.width, block[i].features, block[i].boxes, block[i].cls_prob);
    }
  }
  writer.close();
}

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << std::hex << std::setw(16) << std::setfill('0') << v;
  return s.str();
}

}  // namespace

namespace {

// The test items under every test split name the task has as released (TaskSpec::test_splits)
// and the one its paper protocol names: RefCOCO's testA holds the items of the first half of the
// test images, testB the rest, test both (as the released refer tool reads it); any other name
// (VQA's test-dev, GQA's test-dev, every task's "test") all of them.
void write_test_protocols(const fs::path& dir, const TaskSpec& spec, const std::vector<ordered_json>& items,
                          const std::vector<std::string>& test_images) {
  std::set<std::string> names(spec.test_splits.begin(), spec.test_splits.end());
  if (spec.paper_split().rfind("test", 0) == 0) names.insert(spec.paper_split());
  names.insert("test");  // every task's whole test set, by the generic name too
  const std::set<std::string> first_half(test_images.begin(), test_images.begin() + test_images.size() / 2);
  for (const auto& name : names) {
    std::string lines;
    for (const auto& item : items) {
      const bool in_a = first_half.count(item.value("image_id", std::string())) > 0;
      if ((name == "testA" && !in_a) || (name == "testB" && in_a)) continue;
      lines += item.dump() + "\n";
    }
    write_text_file(dir / (name + ".jsonl"), lines);
  }
}

}  // namespace

SynthWorldSummary write_synth_world(const SynthWorldOptions& o) {
  if (o.out_dir.empty()) throw ConfigError("synth_world: --out is required");
  if (!(o.scale > 0) || o.scale > 1) throw ConfigError(cat("synth_world: --scale must be in (0, 1], got ", o.scale));
  const fs::path root(o.out_dir);
  // Features depend on the seed, dimension and classes only (not on the scale).
  SynthWorldSummary summary;
  // (The default region counts keep the hash of worlds written before --regions existed.)
  const std::string regions =
      o.min_regions == 0 && o.max_regions == 36 ? "" : cat("/regions", o.min_regions, "-", o.max_regions);
  summary.settings_hash =
      hex(derive_seed(o.seed, cat("features/v1/", o.feature_dim, "/", o.num_classes, "/",
                                  SynthScene{}.width, "x", SynthScene{}.height, regions)));
  SynthFeatureSpace space(o.seed, o.feature_dim, o.num_classes);
  SynthSceneCache scenes(o.seed);
  if (o.min_held_out < 1 || o.min_held_out > 1000000)
    throw ConfigError(cat("synth_world: --held-out must be in [1, 1000000], got ", o.min_held_out));
  if (o.min_regions < 0 || o.max_regions < 1 || o.max_regions > 1000 || o.min_regions > o.max_regions)
    throw ConfigError(cat("synth_world: --regions must be LO-HI with 0 <= LO <= HI <= 1000, HI >= 1, got ",
                          o.min_regions, "-", o.max_regions));
  const auto pools = build_pools(o);

  // vocab.txt
  std::string vocab;
  for (const auto& w : synth_vocabulary()) vocab += w + "\n";
  write_text_file(root / "vocab.txt", vocab);

  // Annotations.
  ordered_json world_tasks = ordered_json::object();
  for (const auto& plan : synth_task_plans()) {
    const auto sizes = synth_split_sizes(plan, o.scale, o.min_held_out);
    const auto images = split_images(plan, pools.at(plan.source), o);
    const std::string val_name = plan.items.captions_corpus ? "val" : builtin_task(plan.key).released.val_split;
    const std::vector<std::pair<std::string, std::pair<std::string, int>>> splits = {
        {"train", {"train", sizes.train}}, {"val", {val_name, sizes.val}}, {"test", {"test", sizes.test}}};
    for (const auto& [split, file_and_count] : splits) {
      const auto& [file, count] = file_and_count;
      if (count == 0) continue;
      const auto items = make_split_items(plan, file, images.at(split), count, scenes, o.seed);
      if (split == "test" && !plan.items.captions_corpus) {
        write_test_protocols(root / "annotations" / plan.key, builtin_task(plan.key), items, images.at(split));
      } else {
        std::string lines;
        for (const auto& item : items) lines += item.dump() + "\n";
        write_text_file(root / "annotations" / plan.key / (file + ".jsonl"), lines);
      }
      if (plan.items.hard_negatives && split == "train")
        write_text_file(root / "annotations" / plan.key / "train_hard_pool.jsonl",
                        hard_pool_lines(images.at(split), scenes));
      summary.items[plan.key][file] = count;
      world_tasks[plan.key][file] = {{"items", count}, {"images", images.at(split).size()}};
    }
    if (plan.items.answers)
      write_text_file(root / "annotations" / plan.key / "answers.json",
                      ordered_json{{"answers", *plan.items.answers}}.dump() + "\n");
  }

  // Features: every image of every pool, ground truth for the pools pointing tasks use.
  std::set<std::string> ground_truth_sources;
  for (const auto& plan : synth_task_plans())
    if (plan.items.ground_truth_regions) ground_truth_sources.insert(plan.source);
  fs::create_directories(root / "features");
  for (const auto& [source, pool] : pools) {
    const auto ids = pool.all();
    write_features(root / "features", source, ids, o, summary.settings_hash, scenes, space, false);
    if (ground_truth_sources.count(source))
      write_features(root / "features", source, ids, o, summary.settings_hash, scenes, space, true);
    summary.images[source] = static_cast<int>(ids.size());
  }

  ordered_json world = {{"generator", "vlmt synth_world"},
                        {"format_version", 1},
                        {"seed", o.seed},
                        {"scale", o.scale},
                        {"min_held_out", o.min_held_out},
                        {"feature_dim", o.feature_dim},
                        {"classes", o.num_classes},
                        {"float16", o.float16},
                        {"regions", {o.min_regions, o.max_regions}},
                        {"image_width", SynthScene{}.width},
                        {"image_height", SynthScene{}.height},
                        {"vocab_size", synth_vocabulary().size()},
                        {"num_vqa_answers", synth_vqa_answers().size()},
                        {"num_gqa_answers", synth_gqa_answers().size()},
                        {"settings_hash", summary.settings_hash},
                        {"images", summary.images},
                        {"tasks", world_tasks}};
  write_text_file(root / "world.json", world.dump(2) + "\n");
  return summary;
}

}  // namespace vlmt
