#include "data/annotations.h"

#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

namespace {
using json = nlohmann::json;

// One parsed line, with accessors whose errors name the file, line and field.
class Line {
 public:
  Line(const std::string& path, int64_t number, json value)
      : path_(path), number_(number), j_(std::move(value)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw DataError(cat(path_, ":", number_, ": field '", field, "' ", why));
  }
  bool has(const char* field) const { return j_.contains(field) && !j_[field].is_null(); }
  const json& at(const char* field) const {
    if (!has(field)) fail(field, "is missing");
    return j_[field];
  }
  // Ids are strings; integer ids are accepted and written in decimal (COCO).
  std::string id(const char* field) const { return id_value(at(field), field); }
  std::string id_value(const json& v, const std::string& field) const {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    fail(field, "must be a string id");
  }
  std::string text(const char* field) const {
    const json& v = at(field);
    if (!v.is_string()) fail(field, "must be a string");
    return v.get<std::string>();
  }
  int64_t integer(const char* field) const {
    const json& v = at(field);
    if (!v.is_number_integer()) fail(field, "must be an integer");
    return v.get<int64_t>();
  }
  const json& array(const char* field) const {
    const json& v = at(field);
    if (!v.is_array()) fail(field, "must be an array");
    return v;
  }
  std::vector<std::string> ids(const char* field) const {
    std::vector<std::string> out;
    for (const json& v : array(field)) out.push_back(id_value(v, field));
    return out;
  }
  Box box_value(const json& v, const std::string& field) const {
    if (!v.is_array() || v.size() != 4) fail(field, "must be a box [x1, y1, x2, y2]");
    Box b{};
    for (int k = 0; k < 4; ++k) {
      if (!v[k].is_number()) fail(field, "must hold 4 numbers");
      b[k] = v[k].get<float>();
    }
    if (b[2] < b[0] || b[3] < b[1]) fail(field, "has x2 < x1 or y2 < y1");
    return b;
  }

 private:
  std::string path_;
  int64_t number_;
  json j_;
};

template <class Record>
std::vector<Record> read_jsonl(const std::string& path, const std::function<Record(const Line&)>& parse) {
  std::ifstream in(path);
  if (!in) throw DataError(cat("annotation file not found or unreadable: ", path));
  std::vector<Record> out;
  std::string text;
  int64_t number = 0;
  while (std::getline(in, text)) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    json value;
    try {
      value = json::parse(text);
    } catch (const json::exception& e) {
      throw DataError(cat(path, ":", number, ": not valid JSON (", e.what(), ")"));
    }
    if (!value.is_object()) throw DataError(cat(path, ":", number, ": not a JSON object"));
    out.push_back(parse(Line(path, number, std::move(value))));
  }
  return out;
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(cat("file not found or unreadable: ", path));
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw DataError(cat(path, ": not valid JSON (", e.what(), ")"));
  }
}

std::vector<std::string> string_list(const std::string& path, const char* key) {
  json j = read_json_file(path);
  if (!j.is_object() || !j.contains(key) || !j[key].is_array())
    throw DataError(cat(path, ": field '", key, "' is missing or not an array"));
  std::vector<std::string> out;
  for (const json& v : j[key]) {
    if (v.is_string()) out.push_back(v.get<std::string>());
    else if (v.is_number_integer()) out.push_back(std::to_string(v.get<int64_t>()));
    else throw DataError(cat(path, ": field '", key, "' must hold strings"));
  }
  return out;
}
}  // namespace

int snli_label_index(const std::string& label) {
  for (size_t k = 0; k < kSnliVeLabels.size(); ++k)
    if (label == kSnliVeLabels[k]) return static_cast<int>(k);
  return -1;
}

std::vector<VqaRecord> read_vqa_jsonl(const std::string& path) {
  return read_jsonl<VqaRecord>(path, [](const Line& l) {
    VqaRecord r{l.id("question_id"), l.id("image_id"), l.text("question"), {}, {}, {}};
    if (l.has("answers"))
      for (const json& a : l.array("answers")) {
        if (!a.is_string()) l.fail("answers", "must hold strings");
        r.answers.push_back(a.get<std::string>());
      }
    if (l.has("labels") || l.has("scores")) {
      for (const json& v : l.array("labels")) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0) l.fail("labels", "must hold answer indices >= 0");
        r.labels.push_back(v.get<int64_t>());
      }
      for (const json& v : l.array("scores")) {
        if (!v.is_number()) l.fail("scores", "must hold numbers");
        r.scores.push_back(v.get<float>());
      }
      if (r.labels.size() != r.scores.size()) l.fail("scores", "must have as many entries as 'labels'");
    }
    return r;
  });
}

std::vector<RetrievalRecord> read_retrieval_jsonl(const std::string& path) {
  return read_jsonl<RetrievalRecord>(path, [](const Line& l) {
    return RetrievalRecord{l.id("caption_id"), l.id("image_id"), l.text("caption")};
  });
}

std::vector<HardPoolRecord> read_hard_pool_jsonl(const std::string& path) {
  return read_jsonl<HardPoolRecord>(path, [](const Line& l) {
    return HardPoolRecord{l.id("image_id"), l.ids("pool")};
  });
}

std::vector<ReferringRecord> read_referring_jsonl(const std::string& path) {
  return read_jsonl<ReferringRecord>(path, [](const Line& l) {
    return ReferringRecord{l.id("ref_id"), l.id("image_id"), l.text("expression"),
                           l.box_value(l.at("box"), "box")};
  });
}

std::vector<PointingRecord> read_pointing_jsonl(const std::string& path) {
  return read_jsonl<PointingRecord>(path, [](const Line& l) {
    PointingRecord r{l.id("id"), l.id("image_id"), l.text("text"), {}, -1};
    for (const json& c : l.array("candidates")) r.candidates.push_back(l.box_value(c, "candidates"));
    if (r.candidates.empty()) l.fail("candidates", "is empty");
    if (l.has("answer")) {
      r.answer = l.integer("answer");
      if (r.answer < 0 || r.answer >= static_cast<int64_t>(r.candidates.size()))
        l.fail("answer", cat("must index one of the ", r.candidates.size(), " candidates"));
    }
    return r;
  });
}

std::vector<Nlvr2Record> read_nlvr2_jsonl(const std::string& path) {
  return read_jsonl<Nlvr2Record>(path, [](const Line& l) {
    auto images = l.ids("image_ids");
    if (images.size() != 2) l.fail("image_ids", "must hold exactly 2 image ids");
    Nlvr2Record r{l.id("pair_id"), {images[0], images[1]}, l.text("sentence"), -1};
    if (l.has("label")) {
      const json& v = l.at("label");
      if (v.is_boolean()) r.label = v.get<bool>() ? 1 : 0;
      else if (v.is_string() && (v == "True" || v == "true")) r.label = 1;
      else if (v.is_string() && (v == "False" || v == "false")) r.label = 0;
      else l.fail("label", "must be true or false");
    }
    return r;
  });
}

std::vector<SnliVeRecord> read_snli_ve_jsonl(const std::string& path) {
  return read_jsonl<SnliVeRecord>(path, [](const Line& l) {
    SnliVeRecord r{l.id("pair_id"), l.id("image_id"), l.text("hypothesis"), -1};
    if (l.has("label")) {
      r.label = snli_label_index(l.text("label"));
      if (r.label < 0) l.fail("label", "must be entailment, neutral or contradiction");
    }
    return r;
  });
}

std::vector<CaptionRecord> read_caption_jsonl(const std::string& path) {
  return read_jsonl<CaptionRecord>(path, [](const Line& l) {
    return CaptionRecord{l.id("image_id"), l.text("caption")};
  });
}

std::vector<std::string> read_referenced_image_ids(const std::string& path) {
  std::vector<std::vector<std::string>> per_line = read_jsonl<std::vector<std::string>>(path, [](const Line& l) {
    std::vector<std::string> ids;
    if (l.has("image_id")) ids.push_back(l.id("image_id"));
    if (l.has("image_ids")) for (auto& id : l.ids("image_ids")) ids.push_back(id);
    if (ids.empty()) l.fail("image_id", "is missing");
    return ids;
  });
  std::vector<std::string> out;
  for (auto& ids : per_line) out.insert(out.end(), ids.begin(), ids.end());
  return out;
}

std::vector<std::string> read_answer_vocab(const std::string& path) { return string_list(path, "answers"); }

std::vector<std::string> read_removed_image_ids(const std::string& path, const std::string& source) {
  const json j = read_json_file(path);
  if (j.is_object() && j.contains("removed_image_ids") && j["removed_image_ids"].is_array()) {
    log::warn0(cat(path, ": clean split of the earlier format (ids of all collections in one list, val cleaned "
                   "too); run clean_split again"));
    return string_list(path, "removed_image_ids");
  }
  if (!j.is_object() || !j.contains("removed_image_ids") || !j["removed_image_ids"].is_object())
    throw DataError(cat(path, ": field 'removed_image_ids' is missing or not an object of per-source lists"));
  const json& per_source = j["removed_image_ids"];
  std::vector<std::string> out;
  if (!per_source.contains(source)) return out;
  if (!per_source[source].is_array()) throw DataError(cat(path, ": removed_image_ids.", source, " is not a list"));
  for (const json& v : per_source[source]) {
    if (!v.is_string()) throw DataError(cat(path, ": removed_image_ids.", source, " must hold strings"));
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace vlmt
