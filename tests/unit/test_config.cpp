#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/run_config.h"
#include "config/toml_reader.h"
#include "core/error.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using namespace vlmt;

namespace {
std::string configs_dir() { return std::string(VLMT_SOURCE_DIR) + "/configs"; }

std::string write_temp(const std::string& name, const std::string& text) {
  auto path = fs::temp_directory_path() / "vlmt_test_config" / name;
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
  return path.string();
}
}  // namespace

TEST(Config, DefaultsAreTheBasePreset) {
  RunConfig cfg = load_run_config("", {}, configs_dir());
  EXPECT_EQ(cfg.model.hidden_size, 768);
  EXPECT_EQ(cfg.model.v_hidden_size, 1024);
  EXPECT_EQ(cfg.tasks.of("vqa").batch_size, 128);
  EXPECT_DOUBLE_EQ(cfg.tasks.of("refcoco").lr, 2e-5);
  EXPECT_EQ(cfg.tasks.of("visual7w").max_regions, 200);
}

// The pretrain stage takes train_concap.py's AdamW; the multi-task stages train_tasks.py's. A
// value given in the file wins over the stage's default.
TEST(Config, OptimiserDefaultsFollowTheStage) {
  const RunConfig mt = load_run_config("", {}, configs_dir());
  EXPECT_EQ(mt.train.adam_beta2, 0.999);
  EXPECT_EQ(mt.train.adam_eps, 1e-6);
  EXPECT_FALSE(mt.train.adam_bias_correction);
  const RunConfig pre = load_run_config("", {"train.stage=\"pretrain\""}, configs_dir());
  EXPECT_EQ(pre.train.adam_beta2, 0.98);
  EXPECT_EQ(pre.train.adam_eps, 1e-8);
  EXPECT_TRUE(pre.train.adam_bias_correction);
  const RunConfig set = load_run_config("", {"train.stage=\"pretrain\"", "train.adam_eps=1e-6"}, configs_dir());
  EXPECT_EQ(set.train.adam_eps, 1e-6);
  EXPECT_EQ(mt.train.dsg_reset_after_epochs, (std::vector<int64_t>{6, 8}));
  EXPECT_EQ(mt.train.region_masking, "released");
  EXPECT_TRUE(mt.train.referring_gt_regions);
  EXPECT_FALSE(mt.data.clean_val_split);
  EXPECT_THROW(load_run_config("", {"train.region_masking=\"both\""}, configs_dir()), ConfigError);
  EXPECT_THROW(load_run_config("", {"train.dsg_reset_after_epochs=[0]"}, configs_dir()), ConfigError);
}

TEST(Config, GradientAccumulationIsAtLeastOne) {
  EXPECT_EQ(load_run_config("", {}, configs_dir()).train.gradient_accumulation, 1);
  EXPECT_EQ(load_run_config("", {"train.gradient_accumulation=4"}, configs_dir()).train.gradient_accumulation, 4);
  try {
    load_run_config("", {"train.gradient_accumulation=0"}, configs_dir());
    ADD_FAILURE() << "k = 0 accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("gradient_accumulation"), std::string::npos) << e.what();
  }
}

TEST(Config, FeatureCacheInBytesAndLoaderThreads) {
  const RunConfig d = load_run_config("", {}, configs_dir());
  EXPECT_EQ(d.data.feature_cache_mb, 512);
  EXPECT_EQ(d.data.loader_threads, 1);
  const RunConfig set = load_run_config("", {"data.feature_cache_mb=0", "data.loader_threads=4"}, configs_dir());
  EXPECT_EQ(set.data.feature_cache_mb, 0);
  EXPECT_EQ(set.data.loader_threads, 4);
  EXPECT_THROW(load_run_config("", {"data.feature_cache_mb=-1"}, configs_dir()), ConfigError);
  EXPECT_THROW(load_run_config("", {"data.loader_threads=0"}, configs_dir()), ConfigError);
  // A config stored by an older checkpoint carries the retired per-file image count: it loads,
  // and the key does not travel on into the resolved table (nor into new checkpoints).
  toml::table old = d.resolved;
  old["data"].as_table()->insert_or_assign("feature_cache_images", 2048);
  old["data"].as_table()->erase("feature_cache_mb");
  const RunConfig from_old = run_config_from_table(old, "an old checkpoint");
  EXPECT_EQ(from_old.data.feature_cache_mb, 512);
  EXPECT_FALSE(from_old.resolved["data"]["feature_cache_images"]);
  EXPECT_EQ(from_old.resolved["data"]["feature_cache_mb"].value<int64_t>(), 512);
}

TEST(Config, PresetAndOverrides) {
  auto path = write_temp("run.toml", "[model]\npreset = \"tiny\"\n[train]\nseed = 7\n[tasks]\nactive = [\"vqa\", \"nlvr2\"]\n");
  RunConfig cfg = load_run_config(path, {"train.seed=11", "model.hidden_dropout=0.0", "tasks.vqa.batch_size=16"},
                                  configs_dir());
  EXPECT_EQ(cfg.model.hidden_size, 64);
  EXPECT_EQ(cfg.train.seed, 11);
  EXPECT_DOUBLE_EQ(cfg.model.hidden_dropout, 0.0);
  EXPECT_EQ(cfg.tasks.of("vqa").batch_size, 16);
  ASSERT_EQ(cfg.tasks.active.size(), 2u);
  // The resolved table round-trips into the same typed config.
  RunConfig again = run_config_from_table(cfg.resolved, "resolved");
  EXPECT_EQ(again.model.hidden_size, 64);
  EXPECT_EQ(again.train.seed, 11);
  EXPECT_EQ(again.tasks.of("vqa").batch_size, 16);
}

// A task's feature files can be named (the released data ships one LMDB per dataset); the
// defaults are the task's own, a path is refused, and the setting survives the resolved table.
TEST(Config, TaskFeatureFiles) {
  RunConfig cfg = load_run_config("", {"tasks.refcoco.features=refcoco", "tasks.guesswhat.gt_features=guesswhat_gt"},
                                  configs_dir());
  EXPECT_EQ(cfg.tasks.of("refcoco").features, "refcoco");
  EXPECT_EQ(cfg.tasks.of("refcoco").gt_features, "");
  EXPECT_EQ(cfg.tasks.of("guesswhat").gt_features, "guesswhat_gt");
  EXPECT_EQ(cfg.tasks.of("vqa").features, "");
  RunConfig again = run_config_from_table(cfg.resolved, "resolved");
  EXPECT_EQ(again.tasks.of("refcoco").features, "refcoco");
  try {
    load_run_config("", {"tasks.refcoco.features=../coco"}, configs_dir());
    FAIL() << "a path was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("tasks.refcoco.features"), std::string::npos) << e.what();
  }
}

TEST(Config, EveryErrorIsReportedWithFileKeyAndValue) {
  auto path = write_temp("bad.toml",
                         "[train]\nsede = 3\nwarmup_proportion = 2.0\n"
                         "[tasks]\nactive = [\"vqa\", \"nosuchtask\"]\n");
  try {
    load_run_config(path, {}, configs_dir());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.toml"), std::string::npos) << msg;
    EXPECT_NE(msg.find("train.sede: unknown key (value 3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("train.warmup_proportion: 2 is outside"), std::string::npos) << msg;
    EXPECT_NE(msg.find("nosuchtask"), std::string::npos) << msg;
    EXPECT_EQ(static_cast<int>(e.code()), 2);
  }
}

TEST(Config, WrongTypeAndSyntaxError) {
  auto path = write_temp("type.toml", "[model]\npreset = \"tiny\"\nhidden_size = \"big\"\n");
  EXPECT_THROW(load_run_config(path, {}, configs_dir()), ConfigError);
  auto syntax = write_temp("syntax.toml", "[train\nseed = 1\n");
  try {
    load_run_config(syntax, {}, configs_dir());
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("syntax.toml:1"), std::string::npos) << e.what();
  }
}

// [[key]] entries read as sections named key[i]; what is not a table is reported, not skipped.
TEST(Config, ArrayOfTablesReadsEachEntryAsASection) {
  const toml::table doc = toml::parse("[[rows]]\nrow = 1\n[[rows]]\nrow = \"two\"\nextra = 1\n");
  ConfigIssues issues;
  TomlSection root(&doc, "", "rows.toml", &issues, nullptr);
  std::vector<int64_t> rows;
  for (TomlSection& entry : root.array_of_tables("rows")) {
    rows.push_back(entry.get("row", int64_t{0}));
    entry.finish();
  }
  EXPECT_EQ(rows, (std::vector<int64_t>{1, 0}));
  EXPECT_TRUE(root.array_of_tables("absent").empty());
  const toml::table scalars = toml::parse("rows = [1, 2]\n");
  TomlSection other(&scalars, "", "scalars.toml", &issues, nullptr);
  EXPECT_TRUE(other.array_of_tables("rows").empty());
  ASSERT_EQ(issues.messages().size(), 4u);
  EXPECT_EQ(issues.messages()[0], "rows.toml: rows[1].row: expected an integer, got \"two\"");
  EXPECT_EQ(issues.messages()[1], "rows.toml: rows[1].extra: unknown key (value 1)");
  EXPECT_EQ(issues.messages()[2], "scalars.toml: rows[0]: expected a table, got 1");
  EXPECT_EQ(issues.messages()[3], "scalars.toml: rows[1]: expected a table, got 2");
}

TEST(Config, StructuralChecks) {
  EXPECT_THROW(load_run_config("", {"model.hidden_size=100", "model.num_attention_heads=12"}, configs_dir()),
               ConfigError);
  EXPECT_THROW(load_run_config("", {"model.t_biattention_id=[1]"}, configs_dir()), ConfigError);
}

// The resolved configuration prints floats as written (0.1, not 0.10000000000000001), reads back
// to the same doubles, and leaves keys, headers, strings, integers and arrays alone.
TEST(Config, ResolvedFloatsAreShortestAndRoundTrip) {
  toml::table t = toml::parse(R"(
a = 0.1
b = 4e-05
c = 25.0
d = [0.1, 2, -1e-12]
e = '0.10000000000000001'
f = 3
[tasks.'refcoco+']
lr = 2e-05
)");
  const std::string text = format_toml(t);
  EXPECT_NE(text.find("a = 0.1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("b = 4e-05\n"), std::string::npos) << text;
  EXPECT_NE(text.find("c = 25.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("0.1, 2, -1e-12"), std::string::npos) << text;
  EXPECT_NE(text.find("e = '0.10000000000000001'"), std::string::npos) << text;
  EXPECT_NE(text.find("f = 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lr = 2e-05"), std::string::npos) << text;
  const toml::table back = toml::parse(text);
  EXPECT_EQ(back["a"].value<double>(), 0.1);
  EXPECT_EQ(back["b"].value<double>(), 4e-05);
  EXPECT_EQ(back["c"].value<double>(), 25.0);
  EXPECT_EQ(back["d"][2].value<double>(), -1e-12);
  EXPECT_EQ(back["tasks"]["refcoco+"]["lr"].value<double>(), 2e-05);
  EXPECT_EQ(back["f"].value<int64_t>(), 3);

  // Every double of the base preset's resolved config reads back bit for bit.
  const RunConfig cfg = load_run_config("", {}, configs_dir());
  const toml::table resolved = toml::parse(cfg.resolved_toml());
  EXPECT_EQ(resolved["model"]["layer_norm_eps"].value<double>(), cfg.model.layer_norm_eps);
  EXPECT_EQ(resolved["model"]["hidden_dropout"].value<double>(), cfg.model.hidden_dropout);
  EXPECT_EQ(resolved["train"]["adam_beta2"].value<double>(), cfg.train.adam_beta2);
  EXPECT_EQ(cfg.resolved_toml().find("0000000000"), std::string::npos) << cfg.resolved_toml();
}

// `extends`: a chain of files, each relative to the one naming it; tables merge key by key, the
// later file wins, --set wins over every file; the resolved config is the flattened result.
TEST(Config, ExtendsChainsMergeKeyByKey) {
  write_temp("base/grand.toml", "[model]\npreset = \"tiny\"\n[train]\nseed = 1\nlog_every = 7\niterations = 9\n"
                                "[tasks]\nactive = [\"vqa\", \"gqa\"]\n[tasks.vqa]\nbatch_size = 8\nlr = 1e-3\n");
  write_temp("base/parent.toml", "extends = \"grand.toml\"\n[train]\nseed = 2\n[tasks.vqa]\nbatch_size = 16\n");
  const auto child = write_temp("child.toml", "extends = \"base/parent.toml\"\n[train]\niterations = 3\n"
                                              "[tasks]\nactive = [\"nlvr2\"]\n");
  const RunConfig cfg = load_run_config(child, {"train.log_every=5"}, configs_dir());
  EXPECT_EQ(cfg.model.hidden_size, 64);            // grand: tiny preset
  EXPECT_EQ(cfg.train.seed, 2);                    // parent over grand
  EXPECT_EQ(cfg.train.iterations, 3);              // child over grand
  EXPECT_EQ(cfg.train.log_every, 5);               // --set over every file
  EXPECT_EQ(cfg.tasks.active, (std::vector<std::string>{"nlvr2"}));  // arrays replace
  EXPECT_EQ(cfg.tasks.of("vqa").batch_size, 16);   // [tasks.vqa] merged key by key:
  EXPECT_DOUBLE_EQ(cfg.tasks.of("vqa").lr, 1e-3);  // lr still the grandparent's
  EXPECT_EQ(cfg.resolved_toml().find("extends"), std::string::npos) << cfg.resolved_toml();
  // The flattened result, as stored in checkpoints, reads back to the same config.
  EXPECT_EQ(run_config_from_table(cfg.resolved, "stored").resolved_toml(), cfg.resolved_toml());
}

TEST(Config, ExtendsErrorsNameTheFiles) {
  auto message = [](const std::string& file) {
    try {
      load_run_config(file, {}, configs_dir());
    } catch (const ConfigError& e) {
      EXPECT_EQ(static_cast<int>(e.code()), 2);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  write_temp("cycle_b.toml", "extends = \"cycle_a.toml\"\n");
  const std::string cycle = message(write_temp("cycle_a.toml", "extends = \"cycle_b.toml\"\n"));
  EXPECT_NE(cycle.find("cycle_a.toml extends "), std::string::npos) << cycle;
  EXPECT_NE(cycle.find("cycle_b.toml extends "), std::string::npos) << cycle;
  const std::string self = message(write_temp("self.toml", "extends = \"./self.toml\"\n"));
  EXPECT_NE(self.find("cycle"), std::string::npos) << self;
  const std::string missing = message(write_temp("orphan.toml", "extends = \"nowhere.toml\"\n"));
  EXPECT_NE(missing.find("orphan.toml: extends: "), std::string::npos) << missing;
  EXPECT_NE(missing.find("nowhere.toml not found"), std::string::npos) << missing;
  const std::string typed = message(write_temp("typed.toml", "extends = 3\n"));
  EXPECT_NE(typed.find("typed.toml: extends: expected"), std::string::npos) << typed;
  // A bad key is reported against the file that set it.
  write_temp("bad_base.toml", "[train]\nsede = 3\n");
  const std::string bad = message(write_temp("good_child.toml", "extends = \"bad_base.toml\"\n[train]\nseed = 4\n"));
  EXPECT_NE(bad.find("bad_base.toml: train.sede: unknown key"), std::string::npos) << bad;
  try {
    load_run_config(write_temp("plain.toml", "[train]\nseed = 4\n"), {"train.sedd=1"}, configs_dir());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("command line: train.sedd: unknown key"), std::string::npos) << e.what();
  }
}

// A declared task's key and image source become directories and file names under the data root
// (annotations/<key>/, features/<image_source>.h5): a '/', an absolute path or ".." would reach
// outside it (an absolute key replaced the data root), so config loading rejects them, naming the
// key and the file.
TEST(Config, DeclaredTaskKeysAndImageSourcesAreSafeFileNames) {
  // A free task-token row, 19.
  const auto declaration = [](const std::string& key, const std::string& source) {
    return "[tasks.\"" + key + "\"]\nkind = \"VL-classifier\"\ngroup = 1\nid = 19\nimage_source = \"" + source +
           "\"\nbatch_size = 8\nlr = 1e-5\n";
  };
  int n = 0;
  for (const auto& [key, source] : std::vector<std::pair<std::string, std::string>>{
           {"../escape", "coco"}, {"/abs/key", "coco"}, {"a/b", "coco"}, {".hidden", "coco"}, {"x..y", "coco"},
           {"okkey", "../../etc/passwd"}, {"okkey", "/abs/coco"}, {"okkey", "sub/coco"}, {"okkey", ".coco"}}) {
    const auto path = write_temp("unsafe_" + std::to_string(n++) + ".toml", declaration(key, source));
    try {
      load_run_config(path, {}, configs_dir());
      ADD_FAILURE() << "key \"" << key << "\", image_source \"" << source << "\" accepted";
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find("\"" + key + "\""), std::string::npos) << what;
      EXPECT_NE(what.find("letters, digits and _ + . - only"), std::string::npos) << what;
      if (key == "okkey") EXPECT_NE(what.find("image_source \"" + source + "\""), std::string::npos) << what;
    }
  }
}

// The catalogue is part of the loaded config: a declaration lives in that RunConfig only, so two
// configs may declare the same key differently, and nothing global changes.
TEST(Config, DeclaredDatasetsBelongToTheirConfigsCatalogue) {
  const auto declaring = [](const std::string& name, int id) {
    return "[tasks]\nactive = [\"vqa\", \"mine\"]\n[tasks.mine]\nkind = \"VL-classifier\"\ngroup = 1\nid = " +
           std::to_string(id) + "\nimage_source = \"coco\"\nbatch_size = 8\nlr = 1e-5\nname = \"" + name + "\"\n";
  };
  const RunConfig a = load_run_config(write_temp("declares_a.toml", declaring("MineA", 18)), {}, configs_dir());
  const RunConfig b = load_run_config(write_temp("declares_b.toml", declaring("MineB", 19)), {}, configs_dir());
  EXPECT_EQ(a.catalog.by_key("mine").id, 18);
  EXPECT_EQ(b.catalog.by_key("mine").id, 19);
  EXPECT_NE(a.catalog.by_key("mine").declared_in.find("declares_a.toml"), std::string::npos);
  EXPECT_EQ(a.tasks.of("mine").batch_size, 8);
  EXPECT_EQ(TaskCatalog::builtin().find("mine"), nullptr);
  EXPECT_EQ(load_run_config("", {}, configs_dir()).catalog.find("mine"), nullptr);
  // The stored (resolved) config declares it again, identically.
  const RunConfig again = run_config_from_table(a.resolved, "stored");
  EXPECT_EQ(again.catalog.by_key("mine").id, 18);
  EXPECT_EQ(again.catalog.by_key("mine").name, "MineA");
}

// Each range of train.* is checked once, here, naming the key: the LR schedule and DSG trust the
// values they are given.
TEST(Config, TrainRangesAreCheckedOnceWhereTheConfigIsRead) {
  for (const std::string bad : {"train.warmup_proportion=1.5", "train.warmup_proportion=-0.1", "train.dsg_gap=0",
                                "train.dsg_improve=-0.5", "train.dsg_diverge=1.0", "train.dsg_diverge=-0.1",
                                "train.dsg_patience=-1", "train.dsg_cooldown=-1", "train.curriculum_iterations=-1",
                                "dist.bucket_mb=0", "tasks.vqa.lr=0", "train.lr=-1e-5"}) {
    try {
      load_run_config("", {bad}, configs_dir());
      ADD_FAILURE() << bad << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(bad.substr(0, bad.find('='))), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(load_run_config("", {"train.dsg_diverge=0.0", "train.dsg_cooldown=0", "train.warmup_proportion=1.0"},
                                  configs_dir()));
}
