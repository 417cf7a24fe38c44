#pragma once
// A complete small data root (docs/DATA.md) built inside a test: vocabulary, one feature file per
// image source (+ ground-truth files), one train.jsonl per task and a pretraining corpus.
#include <nlohmann/json.hpp>

#include <map>

#include "config/run_config.h"
#include "test_data_fixtures.h"

namespace vlmt::fixture {

constexpr int64_t kDim = 8, kClasses = 7;

struct TestRoot {
  std::filesystem::path dir;
  std::map<std::string, std::vector<TestImage>> sources;  // source name → images
  const TestImage& image(const std::string& source, const std::string& id) const {
    for (const auto& im : sources.at(source))
      if (im.id == id) return im;
    throw std::runtime_error("no test image " + id);
  }
  DataConfig data_config() const {
    DataConfig d;
    d.root = dir.string();
    d.feature_cache_mb = 8;
    return d;
  }
  static ModelConfig model_config() {
    ModelConfig m;
    m.v_feature_size = kDim;
    m.v_target_size = kClasses;
    m.num_vqa_answers = 10;
    m.num_gqa_answers = 6;
    return m;
  }
};

inline std::vector<double> box_json(const torch::Tensor& b) {
  return {b[0].item<double>(), b[1].item<double>(), b[2].item<double>(), b[3].item<double>()};
}

inline TestRoot make_test_root(const std::string& name) {
  using nlohmann::json;
  TestRoot root;
  root.dir = fresh_dir(name);
  write_lines(root.dir / "vocab.txt", test_vocab_tokens());
  uint64_t seed = 100;
  auto source = [&](const std::string& src, const std::vector<std::string>& ids, int64_t regions, int64_t classes) {
    auto& images = root.sources[src];
    for (const auto& id : ids) images.push_back(random_image(id, regions, kDim, classes, seed++));
    std::filesystem::create_directories(root.dir / "features");
    write_feature_file((root.dir / "features" / (src + ".h5")).string(), images, src == "vg");
  };
  source("coco", {"1", "2", "3", "4", "5", "6"}, 5, 0);
  source("coco_gt", {"1", "2", "3", "4", "5", "6"}, 3, 0);
  source("vg", {"v1", "v2", "v3"}, 5, 0);
  source("vg_gt", {"v1", "v2", "v3"}, 4, 0);
  source("gqa", {"g1", "g2"}, 4, 0);
  source("flickr30k", {"f1", "f2", "f3", "f4", "f5"}, 5, 0);
  source("nlvr2", {"n1", "n2", "n3", "n4"}, 5, 0);
  source("cc", {"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"}, 6, kClasses);

  auto ann = [&](const std::string& task, const std::vector<json>& lines) {
    std::vector<std::string> text;
    for (const auto& j : lines) text.push_back(j.dump());
    write_lines(root.dir / "annotations" / task / "train.jsonl", text);
  };
  auto answers = [&](const std::string& task, const std::vector<std::string>& list) {
    write_lines(root.dir / "annotations" / task / "answers.json", {json{{"answers", list}}.dump()});
  };
  answers("vqa", {"yes", "no", "two", "red"});
  ann("vqa", {{{"question_id", "q1"}, {"image_id", "1"}, {"question", "What color is the dog?"},
               {"answers", {"red", "red"}}, {"labels", {3, 0}}, {"scores", {1.0, 0.3}}},
              {{"question_id", "q2"}, {"image_id", "2"}, {"question", "Is there a cat?"},
               {"labels", {1}}, {"scores", {0.6}}},
              {{"question_id", "q3"}, {"image_id", "3"}, {"question", "two dogs?"}}});
  answers("vgqa", {"yes", "no"});
  ann("vgqa", {{{"question_id", "vq1"}, {"image_id", "v1"}, {"question", "what is on the left?"},
                {"labels", {0}}, {"scores", {1.0}}}});
  answers("gqa", {"yes", "no", "left"});
  ann("gqa", {{{"question_id", "gq1"}, {"image_id", "g2"}, {"question", "is the man on the left?"},
               {"labels", {2}}, {"scores", {1.0}}}});
  // Image 1's hard-negative pool: images 4, 5, 6 (7 has no caption in the split: ignored).
  write_lines(root.dir / "annotations" / "retrieval_coco" / "train_hard_pool.jsonl",
              {json{{"image_id", "1"}, {"pool", {"4", "5", "6", "7"}}}.dump()});
  ann("retrieval_coco", {{{"caption_id", "rc1"}, {"image_id", "1"}, {"caption", "a dog on the left"}},
                         {{"caption_id", "rc2"}, {"image_id", "2"}, {"caption", "a red cat"}},
                         {{"caption_id", "rc3"}, {"image_id", "3"}, {"caption", "two men"}},
                         {{"caption_id", "rc4"}, {"image_id", "4"}, {"caption", "a blue photo"}},
                         {{"caption_id", "rc5"}, {"image_id", "5"}, {"caption", "one dog"}},
                         {{"caption_id", "rc6"}, {"image_id", "6"}, {"caption", "the cat"}}});
  ann("retrieval_flickr30k", {{{"caption_id", "rf1"}, {"image_id", "f1"}, {"caption", "a man"}},
                              {{"caption_id", "rf2"}, {"image_id", "f2"}, {"caption", "a dog"}}});
  for (const char* task : {"refcoco", "refcoco+", "refcocog"}) {
    ann(task, {{{"ref_id", "r1"}, {"image_id", "1"}, {"expression", "the dog on the left"},
                {"box", box_json(root.image("coco", "1").boxes[2])}},
               {{"ref_id", "r2"}, {"image_id", "2"}, {"expression", "red cat"}, {"box", {0, 0, 1, 1}}}});
  }
  auto candidates = [&](const std::string& src, const std::string& id) {
    json c = json::array();
    const auto& b = root.image(src, id).boxes;
    for (int64_t k = b.size(0) - 1; k >= 0; --k) c.push_back(box_json(b[k]));  // reversed order
    return c;
  };
  ann("visual7w", {{{"id", "p1"}, {"image_id", "v2"}, {"text", "which is the dog?"},
                    {"candidates", candidates("vg_gt", "v2")}, {"answer", 1}}});
  ann("guesswhat", {{{"id", "gw1"}, {"image_id", "3"}, {"text", "is it a dog? yes is it on the left? no"},
                     {"candidates", candidates("coco_gt", "3")}, {"answer", 2}}});
  ann("nlvr2", {{{"pair_id", "nv1"}, {"image_ids", {"n1", "n2"}}, {"sentence", "there are two dogs"}, {"label", true}},
                {{"pair_id", "nv2"}, {"image_ids", {"n3", "n4"}}, {"sentence", "one cat"}, {"label", false}}});
  ann("snli_ve", {{{"pair_id", "s1"}, {"image_id", "f3"}, {"hypothesis", "a man sitting"}, {"label", "neutral"}},
                  {{"pair_id", "s2"}, {"image_id", "f4"}, {"hypothesis", "a dog"}, {"label", "contradiction"}}});
  std::vector<json> captions;
  const std::vector<std::string> words{"a red dog", "the blue cat", "two men sitting", "a photo of a man",
                                       "one dog on the left", "a cat on the right", "the red man", "a blue dog"};
  for (int i = 0; i < 8; ++i)
    for (int k = 0; k < 3; ++k)
      captions.push_back({{"image_id", "c" + std::to_string(i + 1)}, {"caption", words[(i + k) % 8]}});
  ann("pretrain", captions);
  return root;
}

inline TaskHyper small_hyper(int max_text = 12, int max_regions = 8) {
  TaskHyper h;
  h.batch_size = 2;
  h.max_text = max_text;
  h.max_regions = max_regions;
  return h;
}

}  // namespace vlmt::fixture
