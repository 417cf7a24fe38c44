#pragma once
// Where a task schedule reports its decisions. Each policy writes its own metrics.jsonl records
// and log lines (DSG its `dsg` records and "DSG <task>: go → stop" lines), so the trainer does
// not need to know what a policy decides or how to describe it.
#include <string>

#include <nlohmann/json.hpp>

namespace vlmt {

struct ScheduleSink {
  virtual ~ScheduleSink() = default;
  // One metrics.jsonl record (schema in docs/TRAINING.md).
  virtual void record(const nlohmann::json& record) = 0;
  // One line for the run's log (printed by rank 0).
  virtual void log(const std::string& line) = 0;
};

// Drops everything: for callers that only want the decisions (tests, tools).
struct NullScheduleSink : ScheduleSink {
  void record(const nlohmann::json&) override {}
  void log(const std::string&) override {}
};

}  // namespace vlmt
