#pragma once
// results.jsonl (one JSON object per line, appended by `evaluate`) and the submission files of
// the evaluation servers. Formats: docs/EVALUATION.md.
//   result line:   {"run","task","split","metric","score","n", ...extras e.g. "r1","r5","r10"}
//   run_info line: {"kind":"run_info","run","setting","params","models","dsg_gap","tasks":{...},
//                   "stage","world_size","schedule","total_iterations","iter"} (one writer: to_json)
// Scores are percentages. Readers ignore unknown fields and unknown record kinds.
#include <nlohmann/json.hpp>

#include "core/jsonl.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vlmt {

struct ResultRecord {
  std::string run;      // run name
  std::string task;     // task key (catalog/task_catalog.h), e.g. "vqa", "retrieval_coco"
  std::string split;    // e.g. "test-dev", "test", "val"
  std::string metric;   // e.g. "vqa_accuracy", "recall@1", "accuracy"
  double score = 0.0;   // percent
  int64_t n = 0;        // number of evaluated items
  nlohmann::json extras = nlohmann::json::object();  // per-metric extras (r1, r5, r10, ...)
};

// What a run is, for the tables: all optional except `run`.
struct RunInfo {
  std::string run;
  std::string setting;         // row label in the tables: "ST", "GT", "AT", "AT->ST", ablation
  std::optional<int64_t> params;  // trainable parameters of one model
  std::optional<int64_t> models;  // number of models the row needs (1 for AT, 12 for ST)
  std::optional<int64_t> dsg_gap; // DSG iteration gap Δ (Table 11)
  std::optional<int64_t> seed;    // train.seed: runs of one setting with other seeds give mean ± sd
  std::vector<std::pair<std::string, int64_t>> task_sizes;  // "tasks": {key: train size}
  // Written by the trainer at the start of a run (metrics.jsonl):
  std::string stage;                       // pretrain | mt_train | finetune
  std::optional<int64_t> world_size;       // ranks
  std::string schedule;                    // task schedule policy
  std::optional<int64_t> total_iterations;
  std::optional<int64_t> start_iteration;  // "iter": where this (possibly resumed) run starts
};

struct ResultsFile {
  std::string path;
  std::vector<ResultRecord> results;
  std::optional<RunInfo> info;  // the last run_info line, if any
};

// A numeric extra of a record (e.g. "chance", "r5"), or nullopt when absent or not a number.
std::optional<double> number_extra(const ResultRecord& r, const std::string& key);

nlohmann::json to_json(const ResultRecord& r);
nlohmann::json to_json(const RunInfo& info);
// Both throw DataError naming `where` when a required field is missing or has the wrong type.
ResultRecord result_from_json(const nlohmann::json& j, const std::string& where);
RunInfo run_info_from_json(const nlohmann::json& j, const std::string& where);

// Appends one line (creating the file). Throws DataError when the file cannot be written.
void append_result(const std::string& path, const ResultRecord& record);
void append_run_info(const std::string& path, const RunInfo& info);
// Lines without "kind" or with "kind":"result" are results; blank lines are skipped.
ResultsFile read_results_file(const std::string& path);


// --- Submission / prediction files ---
// VQA test-dev/test-std server: [{"question_id": int, "answer": str}, ...]
void write_vqa_submission(const std::string& path,
                          const std::vector<std::pair<int64_t, std::string>>& answers);
std::vector<std::pair<int64_t, std::string>> read_vqa_submission(const std::string& path);
// GQA server: [{"questionId": str, "prediction": str}, ...]
void write_gqa_submission(const std::string& path,
                          const std::vector<std::pair<std::string, std::string>>& predictions);
std::vector<std::pair<std::string, std::string>> read_gqa_submission(const std::string& path);
// NLVR2: CSV lines "identifier,prediction" with prediction True/False, no header.
void write_nlvr2_predictions(const std::string& path,
                             const std::vector<std::pair<std::string, bool>>& predictions);
std::vector<std::pair<std::string, bool>> read_nlvr2_predictions(const std::string& path);
// Every other task: one JSON object per item (fields chosen by the task, e.g.
// {"id":..., "prediction":..., "correct":...}).
void write_predictions_jsonl(const std::string& path, const std::vector<nlohmann::json>& items);

}  // namespace vlmt
