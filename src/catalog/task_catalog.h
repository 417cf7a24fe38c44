#pragma once
// The datasets a run knows, as a value: the 12 of 12-in-1 (built in, the paper's Table 2 order),
// then those its config declares (`[tasks.<key>] kind = ...`, config/run_config.cpp), plus the
// captions corpus for pretraining, which is not among the datasets. A RunConfig holds its own
// catalogue (RunConfig::catalog); code without a config reads TaskCatalog::builtin(). Nothing
// here is global state that parsing changes.
//
// Specs are shared, immutable objects: a reference to one stays valid while any copy of the
// catalogue that holds it lives (the built-in ones: always).
#include <memory>
#include <string>
#include <vector>

#include "catalog/task_spec.h"

namespace vlmt {

// How the paper's tables head a dataset group: `column` in Tables 2 and 6 ("G2"), `mean_column`
// in Table 11 ("Mean G2 (R1)": its retrieval columns show R@1, R@5 and R@10; the mean is R@1's).
struct GroupHeadings {
  int group = 0;  // 1..4
  std::string column;
  std::string mean_column;
};
// The dataset groups G1..G4 in order (pretraining is none of them).
std::vector<GroupHeadings> dataset_groups();

class TaskCatalog {
 public:
  using Specs = std::vector<std::shared_ptr<const TaskSpec>>;

  // The datasets in order, seen as `const TaskSpec&`.
  class Range {
   public:
    class Iterator {
     public:
      explicit Iterator(Specs::const_iterator at) : at_(at) {}
      const TaskSpec& operator*() const { return **at_; }
      Iterator& operator++() {
        ++at_;
        return *this;
      }
      bool operator!=(const Iterator& other) const { return at_ != other.at_; }

     private:
      Specs::const_iterator at_;
    };
    explicit Range(const Specs& specs) : specs_(specs) {}
    Iterator begin() const { return Iterator(specs_.begin()); }
    Iterator end() const { return Iterator(specs_.end()); }
    size_t size() const { return specs_.size(); }
    const TaskSpec& operator[](size_t i) const { return *specs_[i]; }

   private:
    const Specs& specs_;
  };

  TaskCatalog();  // the built-in datasets and pretraining
  static const TaskCatalog& builtin();

  // Every dataset: the built-in ones in Table 2 order, then the declared ones.
  Range datasets() const { return Range(datasets_); }
  // The captions corpus with the pretraining objective.
  const TaskSpec& pretraining() const { return *pretraining_; }
  // By key (case-insensitive) or official name, datasets and pretraining alike; nullptr if none.
  const TaskSpec* find(const std::string& key) const;
  // As find; throws ConfigError listing the valid keys.
  const TaskSpec& by_key(const std::string& key) const;
  const TaskSpec& by_id(int id) const;  // throws ConfigError for an unknown id
  std::vector<std::string> keys_in_group(int group) const;  // dataset keys of G1..G4, in order

  // Adds a dataset declared by `file` (a config) as [tasks.<key>]. Throws ConfigError naming the
  // file and table for a key that is not a safe lower-case path name, an
  // image_source or shared_answers that is not one, a key, name or task id already taken, or an
  // id outside the task-token table. Whether its kind exists and is a dataset kind is the kind
  // registry's to say (tasks/task_kind.h check_task_kinds).
  const TaskSpec& declare(TaskSpec spec, const std::string& file);

 private:
  struct Builtin {};
  explicit TaskCatalog(Builtin);
  Specs datasets_;
  std::shared_ptr<const TaskSpec> pretraining_;
};

// TaskCatalog::builtin().by_key(key): for code that runs without a config (tools over built-in
// datasets, tests).
const TaskSpec& builtin_task(const std::string& key);

}  // namespace vlmt
