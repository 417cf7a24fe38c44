#include "catalog/task_catalog.h"

#include <algorithm>
#include <cctype>

#include "catalog/builtin_tasks.h"
#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Task keys, image sources and shared_answers become path components under the data root
// (annotations/<key>/, features/<image_source>.h5): never a '/', an absolute path or a way out.
constexpr const char* kSafePathNameRule =
    "made of letters, digits and _ + . - only, not starting with '.' and without \"..\"";
bool safe_path_name(const std::string& name) {
  return !name.empty() && name[0] != '.' && name.find("..") == std::string::npos &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.-") ==
             std::string::npos;
}

}  // namespace

const std::string& TaskSpec::paper_split() const {
  static const std::string test = "test";
  return reported_split.empty() ? test : reported_split;
}

std::vector<GroupHeadings> dataset_groups() {
  return {{1, "G1", "Mean G1"}, {2, "G2", "Mean G2 (R1)"}, {3, "G3", "Mean G3"}, {4, "G4", "Mean G4"}};
}

TaskCatalog::TaskCatalog(Builtin) : pretraining_(std::make_shared<const TaskSpec>(pretraining_spec())) {
  for (auto& spec : builtin_datasets()) datasets_.push_back(std::make_shared<const TaskSpec>(std::move(spec)));
}

TaskCatalog::TaskCatalog() : TaskCatalog(builtin()) {}

const TaskCatalog& TaskCatalog::builtin() {
  static const TaskCatalog catalog{Builtin{}};
  return catalog;
}

const TaskSpec& builtin_task(const std::string& key) { return TaskCatalog::builtin().by_key(key); }

const TaskSpec* TaskCatalog::find(const std::string& key) const {
  const std::string k = lower(key);
  for (const auto& t : datasets_)
    if (t->key == k || lower(t->name) == k) return t.get();
  if (k == pretraining_->key) return pretraining_.get();
  return nullptr;
}

const TaskSpec& TaskCatalog::by_key(const std::string& key) const {
  if (const TaskSpec* spec = find(key)) return *spec;
  std::string valid;
  for (const auto& t : datasets_) valid += t->key + ", ";
  throw ConfigError(cat("unknown task \"", key, "\"; valid tasks: ", valid, pretraining_->key));
}

const TaskSpec& TaskCatalog::by_id(int id) const {
  for (const auto& t : datasets_)
    if (t->id == id) return *t;
  throw ConfigError(cat("unknown task id ", id));
}

std::vector<std::string> TaskCatalog::keys_in_group(int group) const {
  std::vector<std::string> keys;
  for (const auto& t : datasets_)
    if (group_index(t->group) == group) keys.push_back(t->key);
  return keys;
}

const TaskSpec& TaskCatalog::declare(TaskSpec spec, const std::string& file) {
  spec.declared_in = file;
  const std::string origin = cat(file, " [tasks.", spec.key, "]");
  const std::string& pretrain = pretraining_->key;
  if (!safe_path_name(spec.key) || spec.key != lower(spec.key) || spec.key == pretrain)
    throw ConfigError(cat(origin, ": task key \"", spec.key, "\" must be lower case, ", kSafePathNameRule,
                          ", and not \"", pretrain, "\""));
  if (!safe_path_name(spec.image_source))
    throw ConfigError(cat(origin, ": task \"", spec.key, "\": image_source \"", spec.image_source, "\" must be ",
                          kSafePathNameRule));
  if (!spec.shared_answers.empty() && !safe_path_name(spec.shared_answers))
    throw ConfigError(cat(origin, ": task \"", spec.key, "\": shared_answers \"", spec.shared_answers,
                          "\" must be ", kSafePathNameRule));
  for (const auto& t : datasets_) {
    if (t->key == spec.key)
      throw ConfigError(cat(origin, ": task \"", spec.key, "\" is already defined",
                            t->builtin() ? " (a built-in dataset: override its hyper-parameters without `kind`)" : ""));
    if (lower(t->name) == lower(spec.name))
      throw ConfigError(cat(origin, ": task \"", spec.key, "\": name \"", spec.name, "\" is taken by ", t->key));
    if (t->id == spec.id)
      throw ConfigError(cat(origin, ": task \"", spec.key, "\": id ", spec.id, " is taken by ", t->key,
                            " (each dataset has its own task-token row)"));
  }
  if (spec.id < 1 || spec.id >= kTaskTokenRows)
    throw ConfigError(cat(origin, ": task \"", spec.key, "\": id ", spec.id, " outside the task-token table 1..",
                          kTaskTokenRows - 1));
  datasets_.push_back(std::make_shared<const TaskSpec>(std::move(spec)));
  const TaskSpec& added = *datasets_.back();
  log::info0(cat("task ", added.key, ": declared in ", origin, " (kind ", added.kind_name, ", task id ", added.id, ")"));
  return added;
}

}  // namespace vlmt
