#include "config/run_config.h"

#include <algorithm>
#include <filesystem>

#include "catalog/task_catalog.h"
#include "config/source_configs_dir.h"
#include "config/toml_reader.h"
#include "core/env.h"
#include "core/error.h"
#include "core/log.h"

namespace fs = std::filesystem;

namespace vlmt {

const TaskHyper& TaskConfig::of(const std::string& key) const {
  auto it = hyper.find(key);
  if (it == hyper.end()) throw ConfigError(cat("no hyper-parameters for task \"", key, "\""));
  return it->second;
}

std::string RunConfig::resolved_toml() const { return format_toml(resolved); }

std::string task_token_mode_name(TaskTokenMode mode) {
  switch (mode) {
    case TaskTokenMode::kPerDataset: return "per_dataset";
    case TaskTokenMode::kPerHead: return "per_head";
    case TaskTokenMode::kNone: return "none";
  }
  return "?";
}

std::string find_configs_dir(const std::string& near) {
  if (const auto dir = env::text("VLMT_CONFIG_DIR")) {
    if (!fs::is_directory(*dir))
      throw ConfigError(cat("environment variable VLMT_CONFIG_DIR=\"", *dir, "\": not a directory"));
    return *dir;
  }
  if (!near.empty()) {
    for (fs::path p = fs::absolute(near).parent_path(); !p.empty(); p = p.parent_path()) {
      if (fs::exists(p / "model") && fs::exists(p / "tasks.toml")) return p.string();
      if (p == p.root_path()) break;
    }
  }
  if (fs::exists("configs/model")) return fs::absolute("configs").string();
  return source_configs_dir();
}

std::string locate_config(const std::string& path) {
  if (fs::exists(path) || fs::path(path).is_absolute()) return path;
  const fs::path candidate = fs::path(find_configs_dir()).parent_path() / path;
  if (!fs::exists(candidate)) return path;  // the loader reports the missing file
  log::info0(cat(path, " is not in ", fs::current_path().string(), ": using ", candidate.string()));
  return candidate.string();
}

void apply_stage_defaults(TrainConfig& c) {
  if (c.stage == "pretrain") {  // train_concap.py's AdamW (issue 12, row 8)
    c.adam_beta2 = 0.98;
    c.adam_eps = 1e-8;
    c.adam_bias_correction = true;
    c.init_expect_missing.insert(c.init_expect_missing.end(),
                                 {"bert.v_embeddings.", "bert.encoder.v_layer.", "bert.encoder.c_layer.",
                                  "bert.t_pooler.", "bert.v_pooler.", "cls.imagePredictions.",
                                  "cls.bi_seq_relationship."});
  }
}

namespace {

void read_model(TomlSection s, ModelConfig& m) {
  m.preset = s.get("preset", m.preset);
  m.vocab_size = s.get("vocab_size", m.vocab_size);
  m.hidden_size = s.get("hidden_size", m.hidden_size);
  m.num_hidden_layers = s.get("num_hidden_layers", m.num_hidden_layers);
  m.num_attention_heads = s.get("num_attention_heads", m.num_attention_heads);
  m.intermediate_size = s.get("intermediate_size", m.intermediate_size);
  m.max_position_embeddings = s.get("max_position_embeddings", m.max_position_embeddings);
  m.type_vocab_size = s.get("type_vocab_size", m.type_vocab_size);
  m.v_feature_size = s.get("v_feature_size", m.v_feature_size);
  m.v_target_size = s.get("v_target_size", m.v_target_size);
  m.v_hidden_size = s.get("v_hidden_size", m.v_hidden_size);
  m.v_num_hidden_layers = s.get("v_num_hidden_layers", m.v_num_hidden_layers);
  m.v_num_attention_heads = s.get("v_num_attention_heads", m.v_num_attention_heads);
  m.v_intermediate_size = s.get("v_intermediate_size", m.v_intermediate_size);
  m.bi_hidden_size = s.get("bi_hidden_size", m.bi_hidden_size);
  m.bi_num_attention_heads = s.get("bi_num_attention_heads", m.bi_num_attention_heads);
  m.bi_intermediate_size = s.get("bi_intermediate_size", m.bi_intermediate_size);
  m.v_biattention_id = s.get("v_biattention_id", m.v_biattention_id);
  m.t_biattention_id = s.get("t_biattention_id", m.t_biattention_id);
  m.hidden_dropout = s.get("hidden_dropout", m.hidden_dropout);
  m.attention_dropout = s.get("attention_dropout", m.attention_dropout);
  m.v_hidden_dropout = s.get("v_hidden_dropout", m.v_hidden_dropout);
  m.v_attention_dropout = s.get("v_attention_dropout", m.v_attention_dropout);
  m.layer_norm_eps = s.get("layer_norm_eps", m.layer_norm_eps);
  m.initializer_range = s.get("initializer_range", m.initializer_range);
  const std::string tt = s.get_choice("task_token", task_token_mode_name(m.task_token),
                                      {"per_dataset", "per_head", "none"});
  m.task_token = tt == "per_dataset" ? TaskTokenMode::kPerDataset
                 : tt == "per_head"  ? TaskTokenMode::kPerHead
                                     : TaskTokenMode::kNone;
  m.num_vqa_answers = s.get("num_vqa_answers", m.num_vqa_answers);
  m.num_gqa_answers = s.get("num_gqa_answers", m.num_gqa_answers);

  const std::pair<const char*, int> sizes[] = {
      {"vocab_size", m.vocab_size}, {"hidden_size", m.hidden_size},
      {"num_hidden_layers", m.num_hidden_layers}, {"num_attention_heads", m.num_attention_heads},
      {"intermediate_size", m.intermediate_size}, {"max_position_embeddings", m.max_position_embeddings},
      {"type_vocab_size", m.type_vocab_size}, {"v_feature_size", m.v_feature_size},
      {"v_target_size", m.v_target_size}, {"v_hidden_size", m.v_hidden_size},
      {"v_num_hidden_layers", m.v_num_hidden_layers}, {"v_num_attention_heads", m.v_num_attention_heads},
      {"v_intermediate_size", m.v_intermediate_size}, {"bi_hidden_size", m.bi_hidden_size},
      {"bi_num_attention_heads", m.bi_num_attention_heads}, {"bi_intermediate_size", m.bi_intermediate_size},
      {"num_vqa_answers", m.num_vqa_answers}, {"num_gqa_answers", m.num_gqa_answers}};
  for (const auto& [key, value] : sizes) s.require(value > 0, key, cat(value, " must be positive"));
  s.require(m.hidden_size % m.num_attention_heads == 0, "num_attention_heads",
            cat("hidden_size ", m.hidden_size, " is not divisible by ", m.num_attention_heads));
  s.require(m.v_hidden_size % m.v_num_attention_heads == 0, "v_num_attention_heads",
            cat("v_hidden_size ", m.v_hidden_size, " is not divisible by ", m.v_num_attention_heads));
  s.require(m.bi_hidden_size % m.bi_num_attention_heads == 0, "bi_num_attention_heads",
            cat("bi_hidden_size ", m.bi_hidden_size, " is not divisible by ", m.bi_num_attention_heads));
  s.require(m.v_biattention_id.size() == m.t_biattention_id.size(), "t_biattention_id",
            "must have as many entries as v_biattention_id (one co-attention layer per pair)");
  auto increasing_below = [&](const std::vector<int64_t>& ids, int limit, const char* key) {
    for (size_t i = 0; i < ids.size(); ++i) {
      s.require(ids[i] >= 0 && ids[i] <= limit, key, cat("entry ", ids[i], " is outside [0, ", limit, "]"));
      if (i) s.require(ids[i] > ids[i - 1], key, "entries must be strictly increasing");
    }
  };
  increasing_below(m.v_biattention_id, m.v_num_hidden_layers, "v_biattention_id");
  increasing_below(m.t_biattention_id, m.num_hidden_layers, "t_biattention_id");
  const std::pair<const char*, double> dropouts[] = {
      {"hidden_dropout", m.hidden_dropout}, {"attention_dropout", m.attention_dropout},
      {"v_hidden_dropout", m.v_hidden_dropout}, {"v_attention_dropout", m.v_attention_dropout}};
  for (const auto& [key, value] : dropouts) s.require_range(key, value, 0.0, 0.9);
  s.finish();
}

void read_data(TomlSection s, DataConfig& d) {
  d.root = s.get("root", d.root);
  d.vocab = s.get("vocab", d.vocab);
  // The cache was sized in images per file before; configs stored in older checkpoints carry it.
  s.retired("feature_cache_images", "the cache is sized in bytes for all feature files together, data.feature_cache_mb");
  d.feature_cache_mb = s.get("feature_cache_mb", d.feature_cache_mb);
  d.prefetch_batches = s.get("prefetch_batches", d.prefetch_batches);
  d.loader_threads = s.get("loader_threads", d.loader_threads);
  d.clean_split = s.get("clean_split", d.clean_split);
  d.clean_val_split = s.get("clean_val_split", d.clean_val_split);
  d.allow_fingerprint_mismatch = s.get("allow_fingerprint_mismatch", d.allow_fingerprint_mismatch);
  s.require_range("feature_cache_mb", d.feature_cache_mb, 0, 1 << 20);
  s.require_range("loader_threads", d.loader_threads, 1, 64);
  s.require(d.prefetch_batches >= 0, "prefetch_batches", "must be >= 0");
  s.finish();
}

// The keys of a task's hyper-parameters in `s` ([tasks.<key>]); the caller finishes the section.
void read_task_hyper(TomlSection& s, TaskHyper& h) {
  h.batch_size = s.get("batch_size", h.batch_size);
  h.lr = s.get("lr", h.lr);
  h.max_text = s.get("max_text", h.max_text);
  h.max_regions = s.get("max_regions", h.max_regions);
  h.epochs = s.get("epochs", h.epochs);
  h.val_split = s.get("val_split", h.val_split);
  h.features = s.get("features", h.features);
  h.gt_features = s.get("gt_features", h.gt_features);
  for (const auto* name : {&h.features, &h.gt_features})
    s.require(name->find_first_of("/\\") == std::string::npos && *name != "." && *name != "..",
              name == &h.features ? "features" : "gt_features", "must be a file name under features/ without \".h5\"");
  s.require(h.batch_size > 0, "batch_size", "must be positive");
  s.require(h.lr > 0, "lr", "must be positive");
  s.require(h.max_text >= 3, "max_text", "must be at least 3 ([CLS], a token, [SEP])");
  s.require(h.max_regions >= 2, "max_regions", "must be at least 2 (IMG and one region)");
  s.require(h.epochs > 0, "epochs", "must be positive");
}

// [tasks.<key>] with `kind`: a dataset of an existing kind declared by the config, added to the
// config's catalogue (catalog/task_catalog.h) before anything looks tasks up. batch_size and lr
// have no defaults; lengths, epochs and the val split default to the released values of most
// tasks. The spec holds the values as given, so every rank and every later load of the resolved
// config (checkpoints) declares the identical dataset. Whether the kind exists is the kind
// registry's to check (tasks/task_kind.h check_task_kinds, called by the stage and the jobs).
void declare_task(TomlSection& s, const std::string& key, const TaskHyper& h, TaskCatalog& catalog) {
  TaskSpec spec;
  spec.key = key;
  spec.kind_name = s.get("kind", std::string());
  spec.name = s.get("name", key);
  spec.id = s.get("id", 0);
  const int group = s.get("group", 0);
  s.require(group >= 1 && group <= 4, "group", "must be 1..4 (G1 vocab QA, G2 retrieval, G3 referring, G4 verification)");
  spec.group = static_cast<TaskGroup>(std::clamp(group, 1, 4));
  spec.image_source = s.get("image_source", std::string());
  spec.image_namespace = s.get("image_namespace", std::string());
  s.require(!spec.image_source.empty(), "image_source", "must name the feature file features/<image_source>.h5");
  spec.column = s.get("display", key);
  spec.dataset_name = spec.column;
  spec.submission = s.get("submission", std::string());
  spec.shared_answers = s.get("shared_answers", std::string());
  spec.exact_answer_match = s.get("exact_answer_match", false);
  spec.released = static_cast<const TaskHyperParams&>(h);
  try {
    catalog.declare(spec, s.file());
  } catch (const ConfigError& e) {
    s.require(false, "kind", e.what());
  }
}

void read_tasks(TomlSection s, TaskConfig& t, TaskCatalog& catalog, ConfigIssues& issues) {
  for (const auto& key : s.keys()) {
    if (key == "active") continue;
    TomlSection c = s.child(key);
    if (!c.has("kind")) continue;
    TaskHyper h{TaskHyperParams{0, 0.0, 20, 101, 20, "val"}, "", ""};  // batch_size and lr: required
    read_task_hyper(c, h);
    declare_task(c, key, h, catalog);
    c.finish();
    t.hyper[key] = h;
  }
  t.active = s.get("active", t.active);
  for (const auto& key : t.active) {
    try {
      catalog.by_key(key);
    } catch (const ConfigError& e) {
      issues.add(s.file(), s.path() + ".active", e.what());
    }
  }
  for (const auto& spec : catalog.datasets()) {
    if (!spec.builtin()) continue;
    TaskHyper h{spec.released, "", ""};
    TomlSection c = s.child(spec.key);
    read_task_hyper(c, h);
    c.finish();
    t.hyper[spec.key] = h;
  }
  s.finish();
}

void read_train(TomlSection s, TrainConfig& c) {
  c.stage = s.get_choice("stage", c.stage, {"pretrain", "mt_train", "finetune"});
  apply_stage_defaults(c);
  c.run_dir = s.get("run_dir", c.run_dir);
  c.init_from = s.get("init_from", c.init_from);
  c.init_expect_missing = s.get("init_expect_missing", c.init_expect_missing);
  c.seed = s.get("seed", c.seed);
  c.deterministic = s.get("deterministic", c.deterministic);
  c.iterations = s.get("iterations", c.iterations);
  c.warmup_proportion = s.get("warmup_proportion", c.warmup_proportion);
  c.head_lr = s.get("head_lr", c.head_lr);
  c.weight_decay = s.get("weight_decay", c.weight_decay);
  c.adam_beta1 = s.get("adam_beta1", c.adam_beta1);
  c.adam_beta2 = s.get("adam_beta2", c.adam_beta2);
  c.adam_eps = s.get("adam_eps", c.adam_eps);
  c.adam_bias_correction = s.get("adam_bias_correction", c.adam_bias_correction);
  c.adamw_kernel = s.get("adamw_kernel", c.adamw_kernel);  // a name of train/adamw_update.h's registry
  c.grad_clip = s.get("grad_clip", c.grad_clip);
  c.schedule = s.get("schedule", c.schedule);  // a policy name, checked by train/schedule_registry.h
  c.curriculum_iterations = s.get("curriculum_iterations", c.curriculum_iterations);
  c.dsg_gap = s.get("dsg_gap", c.dsg_gap);
  c.dsg_improve = s.get("dsg_improve", c.dsg_improve);
  c.dsg_diverge = s.get("dsg_diverge", c.dsg_diverge);
  c.dsg_patience = s.get("dsg_patience", c.dsg_patience);
  c.dsg_cooldown = s.get("dsg_cooldown", c.dsg_cooldown);
  c.dsg_reset_after_epochs = s.get("dsg_reset_after_epochs", c.dsg_reset_after_epochs);
  for (const int64_t e : c.dsg_reset_after_epochs)
    s.require(e >= 1, "dsg_reset_after_epochs", "must list completed-epoch counts >= 1");
  c.val_max_batches = s.get("val_max_batches", c.val_max_batches);
  c.log_every = s.get("log_every", c.log_every);
  c.tensorboard = s.get("tensorboard", c.tensorboard);
  c.checkpoint_every = s.get("checkpoint_every", c.checkpoint_every);
  c.max_hours = s.get("max_hours", c.max_hours);
  c.stop_after_iteration = s.get("stop_after_iteration", c.stop_after_iteration);
  c.num_threads = s.get("num_threads", c.num_threads);
  c.lr = s.get("lr", c.lr);
  c.lr_multiplier = s.get("lr_multiplier", c.lr_multiplier);
  s.require(c.lr_multiplier > 0, "lr_multiplier", "must be positive");
  c.batch_size = s.get("batch_size", c.batch_size);
  c.epochs = s.get("epochs", c.epochs);
  c.mask_prob = s.get("mask_prob", c.mask_prob);
  c.region_mask_iou = s.get("region_mask_iou", c.region_mask_iou);
  c.region_masking = s.get_choice("region_masking", c.region_masking, {"released", "paper"});
  c.referring_gt_regions = s.get("referring_gt_regions", c.referring_gt_regions);
  c.drop_last = s.get("drop_last", c.drop_last);
  c.gradient_accumulation = s.get("gradient_accumulation", c.gradient_accumulation);
  c.head_bias_init = s.get_choice("head_bias_init", c.head_bias_init, {"zero", "prior"});
  c.bf16 = s.get("bf16", c.bf16);

  s.require(c.iterations >= 0, "iterations", "must be >= 0");
  s.require_range("warmup_proportion", c.warmup_proportion, 0.0, 1.0);
  s.require(c.head_lr > 0, "head_lr", "must be positive");
  s.require_range("weight_decay", c.weight_decay, 0.0, 1.0);
  s.require_range("adam_beta1", c.adam_beta1, 0.0, 0.999999);
  s.require_range("adam_beta2", c.adam_beta2, 0.0, 0.999999);
  s.require(c.adam_eps > 0, "adam_eps", "must be positive");
  s.require(c.curriculum_iterations >= 0, "curriculum_iterations", "must be >= 0 (0 = 10% of the run)");
  s.require(c.dsg_gap >= 1, "dsg_gap", "must be >= 1");
  s.require(c.dsg_improve >= 0, "dsg_improve", "must be >= 0");
  s.require(c.dsg_diverge >= 0 && c.dsg_diverge < 1, "dsg_diverge", "must be in [0, 1)");
  s.require(c.dsg_patience >= 0, "dsg_patience", "must be >= 0");
  s.require(c.dsg_cooldown >= 0, "dsg_cooldown", "must be >= 0");
  s.require(c.log_every >= 1, "log_every", "must be >= 1");
  s.require(c.gradient_accumulation >= 1, "gradient_accumulation", "must be >= 1 (1 = no accumulation)");
  s.require(c.checkpoint_every >= 1, "checkpoint_every", "must be >= 1");
  s.require(c.max_hours >= 0, "max_hours", "must be >= 0");
  s.require(c.lr >= 0, "lr", "must be >= 0");
  s.require(c.batch_size > 0, "batch_size", "must be positive");
  s.require(c.epochs > 0, "epochs", "must be positive");
  s.require_range("mask_prob", c.mask_prob, 0.0, 1.0);
  s.require_range("region_mask_iou", c.region_mask_iou, 0.0, 1.0);
  s.finish();
}

void read_dist(TomlSection s, DistConfig& d) {
  d.backend = s.get("backend", d.backend);  // a name of distributed/communicator.h's backends
  d.bucket_mb = s.get("bucket_mb", d.bucket_mb);
  s.require(d.bucket_mb > 0, "bucket_mb", "must be positive");
  s.finish();
}

std::string preset_path(const std::string& name_or_path, const std::string& configs_dir) {
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       fs::path(name_or_path).extension() == ".toml";
  if (is_path)
    return name_or_path;
  return (fs::path(configs_dir) / "model" / (name_or_path + ".toml")).string();
}

// Builds the merged table: model preset ← run file; tasks.toml ← run file [tasks].
toml::table merge_with_presets(toml::table root, const std::string& origin, const std::string& configs_dir) {
  std::string preset = "base";
  if (auto* m = root["model"].as_table())
    if (auto p = (*m)["preset"].value<std::string>()) preset = *p;
  const std::string path = preset_path(preset, configs_dir);
  if (!fs::exists(path))
    throw ConfigError(cat(origin, ": model.preset: preset \"", preset, "\" not found (looked for ", path, ")"));
  toml::table model = parse_toml_file(path);
  if (auto* m = root["model"].as_table()) merge_tables(model, *m);
  model.insert_or_assign("preset", preset);
  root.insert_or_assign("model", std::move(model));

  const auto tasks_file = fs::path(configs_dir) / "tasks.toml";
  if (fs::exists(tasks_file)) {
    toml::table tasks = parse_toml_file(tasks_file.string());
    if (auto* t = root["tasks"].as_table()) merge_tables(tasks, *t);
    root.insert_or_assign("tasks", std::move(tasks));
  }
  return root;
}

using KeyOrigins = std::map<std::string, std::string>;  // dotted key -> the file that set it, or "command line"

RunConfig read_all(const toml::table& merged, const std::string& origin, const RegistryCheck& check,
                   KeyOrigins origins = {}) {
  RunConfig cfg;
  cfg.file = origin;
  ConfigIssues issues(std::move(origins));
  TomlSection top(&merged, "", origin, &issues, &cfg.resolved);
  read_model(top.child("model"), cfg.model);
  read_data(top.child("data"), cfg.data);
  read_tasks(top.child("tasks"), cfg.tasks, cfg.catalog, issues);
  read_train(top.child("train"), cfg.train);
  read_dist(top.child("dist"), cfg.dist);
  top.finish();
  if (check) check(cfg, issues);
  issues.throw_if_any();
  return cfg;
}

// Records `origin` for every key (and table) of `table`, later calls overriding earlier ones.
void note_origins(const toml::table& table, const std::string& prefix, const std::string& origin, KeyOrigins& out) {
  for (const auto& [k, v] : table) {
    const std::string key = prefix.empty() ? std::string(k.str()) : cat(prefix, ".", k.str());
    out[key] = origin;
    if (const auto* t = v.as_table()) note_origins(*t, key, origin, out);
  }
}

// `file` merged over the chain of files it extends (`extends = "base.toml"`, relative to the
// file that names it): the first base read first, each later file's tables merged key by key,
// its values winning. `chain` holds the files being read, to report a cycle by name.
toml::table read_extended(const std::string& file, std::vector<std::string>& chain, KeyOrigins& origins) {
  if (!fs::exists(file)) {
    if (chain.empty()) throw ConfigError(cat(file, ": config file not found"));
    throw ConfigError(cat(chain.back(), ": extends: ", file, " not found"));
  }
  for (const auto& reading : chain) {
    if (!fs::equivalent(reading, file)) continue;
    std::string cycle;
    for (const auto& f : chain) cycle += f + " extends ";
    throw ConfigError(cat(file, ": extends: a cycle: ", cycle, file));
  }
  toml::table table = parse_toml_file(file);
  toml::table merged;
  if (const toml::node* base = table.get("extends")) {
    if (!base->is_string()) throw ConfigError(cat(file, ": extends: expected the name of a TOML file (a string)"));
    chain.push_back(file);
    merged = read_extended((fs::path(file).parent_path() / base->as_string()->get()).string(), chain, origins);
    chain.pop_back();
    table.erase("extends");
  }
  note_origins(table, "", file, origins);
  merge_tables(merged, table);
  return merged;
}

}  // namespace

RunConfig load_run_config(const std::string& file, const std::vector<std::string>& overrides,
                          const std::string& configs_dir_in, const RegistryCheck& check) {
  const std::string configs_dir = configs_dir_in.empty() ? find_configs_dir(file) : configs_dir_in;
  toml::table root;
  KeyOrigins origins;
  std::vector<std::string> chain;
  if (!file.empty()) root = read_extended(file, chain, origins);
  for (const auto& o : overrides) {
    toml::table set;
    apply_override(set, o, "--set");
    note_origins(set, "", "command line", origins);  // --set, and --task, --run-dir, ... made into --set
    merge_tables(root, set);
  }
  const std::string origin = file.empty() ? "<defaults>" : file;
  RunConfig cfg = read_all(merge_with_presets(std::move(root), origin, configs_dir), origin, check, std::move(origins));
  cfg.configs_dir = configs_dir;
  return cfg;
}

RunConfig run_config_from_table(const toml::table& resolved, const std::string& origin, const RegistryCheck& check) {
  return read_all(resolved, origin, check);
}

ModelConfig load_model_preset(const std::string& name_or_path, const std::string& configs_dir_in) {
  const std::string configs_dir = configs_dir_in.empty() ? find_configs_dir() : configs_dir_in;
  const std::string path = preset_path(name_or_path, configs_dir);
  if (!fs::exists(path)) throw ConfigError(cat("model preset \"", name_or_path, "\" not found (looked for ", path, ")"));
  toml::table t = parse_toml_file(path);
  ModelConfig m;
  ConfigIssues issues;
  read_model(TomlSection(&t, "model", path, &issues, nullptr), m);
  issues.throw_if_any();
  m.preset = name_or_path;
  return m;
}

}  // namespace vlmt
