// The task-kind registry and the task catalogue: every dataset's kind resolves, declared datasets
// are found like built-in ones in their run's catalogue, and no code outside src/tasks/ decides by task
// kind or task name (the grep the task-kind issue asks for).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.h"
#include "distributed/local_communicator.h"
#include "tasks/evaluation_run.h"
#include "tasks/kind_util.h"
#include "tasks/random_batch.h"
#include "tasks/task_kind.h"
#include "model_fixtures.h"
#include "test_paths.h"

using namespace vlmt;
namespace fs = std::filesystem;

TEST(TaskKinds, EveryDatasetAndPretrainingHasARegisteredKind) {
  std::set<std::string> names;
  for (const TaskKind* kind : all_task_kinds()) EXPECT_TRUE(names.insert(kind->name()).second) << kind->name();
  EXPECT_EQ(names.size(), 8u);  // seven released head types and pretraining
  const TaskCatalog& catalog = TaskCatalog::builtin();
  for (const auto& spec : catalog.datasets()) {
    EXPECT_NO_THROW(kind_of(spec)) << spec.key;
    EXPECT_TRUE(kind_of(spec).is_dataset_kind()) << spec.key;
    EXPECT_FALSE(spec.column.empty()) << spec.key;
    EXPECT_EQ(metric_of(spec), spec.metric) << spec.key;  // written out for the built-in ones
  }
  EXPECT_NO_THROW(check_task_kinds(catalog));
  EXPECT_EQ(kind_of(catalog.by_key("pretrain")).name(), "pretraining");
  EXPECT_FALSE(kind_of(catalog.pretraining()).is_dataset_kind());
  EXPECT_THROW(task_kind("VL-nonsense"), ConfigError);
}

// Chance levels: the referring kind counts a region as a hit above IoU 0.5 and leaves out
// masked regions; a uniform choice averages each item's available choices; an answer prior is
// the best constant answer.
TEST(TaskKinds, ChanceLevelsUniformChoiceAndAnswerPrior) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Batch b;
  b.target = torch::tensor({0.7, 0.3, 0.9, 0.0}, torch::kFloat32).view({1, 4});
  ObjectiveResult r;
  r.logits = torch::tensor({0.1, 0.2, -10000.0, 0.4}, torch::kFloat32).view({1, 4});
  const auto& grounding = kind_of(builtin_task("refcoco"));
  EXPECT_FALSE(grounding.chance_is_answer_prior());
  const auto hits = grounding.choice_scores(b, r);
  EXPECT_EQ(hits[0][0].item<double>(), 1.0);
  EXPECT_EQ(hits[0][1].item<double>(), 0.0);
  EXPECT_TRUE(std::isnan(hits[0][2].item<double>()));  // masked: not a choice
  EXPECT_TRUE(kind_of(builtin_task("vqa")).chance_is_answer_prior());
  EXPECT_TRUE(kind_of(builtin_task("nlvr2")).chance_is_answer_prior());
  EXPECT_FALSE(kind_of(builtin_task("visual7w")).chance_is_answer_prior());

  LocalCommunicator comm;
  ChanceLevel uniform(false);
  uniform.add(torch::tensor({1.0, 0.0, nan, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0}, torch::kFloat64).view({3, 3}), {0, 1});
  EXPECT_NEAR(*uniform.percent(comm), 100.0 * (1.0 / 2 + 1.0 / 3) / 2, 1e-9);  // item 2 not judged
  ChanceLevel prior(true);
  prior.add(torch::tensor({1.0, 0.0, 1.0, 0.0, 0.0, 1.0}, torch::kFloat64).view({3, 2}), {0, 1, 2});
  EXPECT_NEAR(*prior.percent(comm), 100.0 * 2 / 3, 1e-9);
  EXPECT_FALSE(ChanceLevel(true).percent(comm).has_value());  // nothing judged
}

// task_utils.py scores NLVR2 and SNLI-VE by compute_score_with_logits (the target at the
// argmax: an SNLI-VE row labelled "-" has a zero target and scores 0, still counted) and the
// pointing kinds by comparing the argmaxes (soft targets: the answer has the highest).
TEST(TaskKinds, ScoresAsTheReleasedTaskUtils) {
  const auto logits = torch::tensor({2.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 1.0}).view({3, 3});
  const auto target = torch::tensor({1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0}).view({3, 3});
  const auto verified = kind_util::target_at_argmax(torch::zeros({}), logits, target);
  EXPECT_TRUE(torch::equal(verified.item_scores, torch::tensor({1.0, 0.0, 0.0}, torch::kFloat64)));
  EXPECT_EQ(verified.score_sum, 1.0);
  EXPECT_EQ(verified.count, 3);
  const auto soft = torch::tensor({0.6, 1.0, 0.0, 1.0, 0.5, 0.0}).view({2, 3});
  const auto pointed = kind_util::argmax_against_target_argmax(torch::zeros({}), torch::tensor({0.0, 1.0, 0.0, 0.0, 2.0, 0.0}).view({2, 3}), soft);
  EXPECT_TRUE(torch::equal(pointed.item_scores, torch::tensor({1.0, 0.0}, torch::kFloat64)));
}

TEST(TaskKinds, HeadsAreTheReleasedModules) {
  EXPECT_EQ(head_prefix(builtin_task("vqa")), "vil_prediction.");
  EXPECT_EQ(head_prefix(builtin_task("gqa")), "vil_prediction_gqa.");
  EXPECT_EQ(head_prefix(builtin_task("retrieval_flickr30k")), "vil_logit.");
  EXPECT_EQ(head_prefix(builtin_task("refcocog")), "vision_logit.");
  EXPECT_EQ(head_prefix(builtin_task("guesswhat")), "vision_logit.");
  EXPECT_EQ(head_prefix(builtin_task("nlvr2")), "vil_binary_prediction.");
  EXPECT_EQ(head_prefix(builtin_task("snli_ve")), "vil_tri_prediction.");
}

TEST(TaskCatalog, DeclaredDatasetIsFoundLikeABuiltinOneInItsCatalogueOnly) {
  TaskSpec spec;
  spec.key = "myvqa";
  spec.name = "MyVQA";
  spec.id = 3;
  spec.kind_name = "VL-classifier";
  spec.image_source = "coco";
  spec.released.batch_size = 8;
  spec.released.lr = 1e-5;
  TaskCatalog catalog;
  const TaskSpec& added = catalog.declare(spec, "test.toml");
  EXPECT_EQ(&catalog.by_key("MyVQA"), &added);
  EXPECT_EQ(&catalog.by_id(3), &added);
  EXPECT_EQ(metric_of(added), "vqa_accuracy");  // the kind's
  EXPECT_FALSE(added.builtin());
  EXPECT_EQ(added.declared_in, "test.toml");
  EXPECT_EQ(catalog.datasets().size(), 13u);
  EXPECT_EQ(catalog.keys_in_group(1), (std::vector<std::string>{"vqa", "gqa", "vgqa", "myvqa"}));
  // A value: the built-in catalogue and other copies made before are unchanged.
  EXPECT_EQ(TaskCatalog::builtin().datasets().size(), 12u);
  EXPECT_EQ(TaskCatalog::builtin().find("myvqa"), nullptr);
  EXPECT_THROW(TaskCatalog().by_key("myvqa"), ConfigError);
  const TaskCatalog copy = catalog;
  EXPECT_EQ(&copy.by_key("myvqa"), &added);  // copies share the (immutable) specs

  EXPECT_THROW(catalog.declare(spec, "again"), ConfigError);  // key taken
  TaskSpec taken = spec;
  taken.key = "othervqa";
  taken.name = "Other";
  taken.id = 1;  // VQA's row
  EXPECT_THROW(catalog.declare(taken, "test"), ConfigError);
  taken.id = 20;  // outside the task-token table
  EXPECT_THROW(catalog.declare(taken, "test"), ConfigError);
  taken.id = 5;
  taken.key = "pretrain";
  EXPECT_THROW(catalog.declare(taken, "test"), ConfigError);
  taken.key = "../up";
  EXPECT_THROW(catalog.declare(taken, "test"), ConfigError);
  EXPECT_EQ(catalog.datasets().size(), 13u);

  // Kinds are the kind registry's to check, each bad one named with the file that declared it.
  TaskSpec not_dataset = taken;
  not_dataset.key = "pretrainlike";
  not_dataset.kind_name = "pretraining";
  TaskSpec unknown = taken;
  unknown.key = "nokind";
  unknown.name = "NoKind";
  unknown.id = 6;
  unknown.kind_name = "VL-nonsense";
  TaskCatalog bad;
  bad.declare(not_dataset, "a.toml");
  bad.declare(unknown, "b.toml");
  try {
    check_task_kinds(bad);
    ADD_FAILURE() << "check_task_kinds accepted a pretraining-kind dataset and an unknown kind";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("a.toml: tasks.pretrainlike.kind: \"pretraining\" is not a dataset kind"), std::string::npos)
        << what;
    EXPECT_NE(what.find("b.toml: tasks.nokind.kind: "), std::string::npos) << what;
    EXPECT_NE(what.find("VL-nonsense"), std::string::npos) << what;
    EXPECT_EQ(static_cast<int>(e.code()), 2);
  }
  EXPECT_THROW(kind_of(unknown), ConfigError);

  // A declared dataset gets its kind's batches and objective like the built-in ones.
  const ModelConfig c = vlmt::testing::tiny_config();
  torch::manual_seed(0);
  MultiTaskModel model(c);
  Batch b = random_batch(c, added, 2);
  EXPECT_EQ(b.task_id, 3);
  EXPECT_EQ(b.task_group, TaskGroup::kVocabVQA);
  EXPECT_TRUE(std::isfinite(kind_of(added).compute(*model, b).loss.item<double>()));
}

// Source files under `dir` (recursively) whose text matches `pattern`, as "file:line: text".
std::vector<std::string> grep_sources(const fs::path& dir, const std::regex& pattern,
                                      const std::set<std::string>& allowed_dirs) {
  std::vector<std::string> hits;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const auto ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".h")) continue;
    const std::string rel = fs::relative(entry.path(), dir).string();
    bool allowed = false;
    for (const auto& a : allowed_dirs) allowed |= rel.rfind(a, 0) == 0;
    if (allowed) continue;
    std::ifstream in(entry.path());
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
      if (std::regex_search(line, pattern)) hits.push_back(rel + ":" + std::to_string(n) + ": " + line);
  }
  return hits;
}

TEST(TaskKinds, NoDecisionByTaskNameOrKindOutsideTheRegistry) {
  std::string keys;
  for (const auto& spec : TaskCatalog::builtin().datasets())
    if (spec.builtin()) keys += (keys.empty() ? "" : "|") + std::regex_replace(spec.key, std::regex("\\+"), "\\+");
  for (const TaskKind* kind : all_task_kinds()) keys += "|" + kind->name();  // no regex metacharacters
  // `x == "vqa"`, `"nlvr2" != x`, `kind_name == "V-logit"`, and the old task-type enum (a switch
  // over strings does not compile, so comparisons are the only way to decide by name).
  const std::regex compare("(==|!=)\\s*\"(" + keys + ")\"|\"(" + keys + ")\"\\s*(==|!=)|TaskType::");
  const fs::path src = fs::path(VLMT_SOURCE_DIR) / "src";
  // src/tasks/ is the registry. (Stage names such as "pretrain" are not task names.)
  const auto hits = grep_sources(src, compare, {"tasks/"});
  std::string listing;
  for (const auto& h : hits) listing += h + "\n";
  EXPECT_TRUE(hits.empty()) << "decisions by task name or kind outside src/tasks/:\n" << listing;
}
