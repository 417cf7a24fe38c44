#include "ckpt/head_answers.h"

#include "ckpt/crc32.h"
#include "core/error.h"
#include "core/hdf5_util.h"
#include "core/log.h"

namespace vlmt::ckpt {

namespace {
constexpr const char* kAnswersGroup = "answers";

uint32_t answers_crc(const std::vector<std::string>& answers) {
  std::string joined;
  for (size_t i = 0; i < answers.size(); ++i) joined += (i ? "\n" : "") + answers[i];
  return crc32(joined.data(), joined.size());
}
}  // namespace

void write_head_answers(hid_t file, const HeadAnswers& answers, const std::string& context) {
  if (answers.empty()) return;
  h5::Handle group = h5::create_group(file, kAnswersGroup, context);
  for (const auto& [head, list] : answers) {
    h5::write_string_list(group.get(), head, list, context);
    h5::Handle ds = h5::check(H5Dopen2(group.get(), head.c_str(), H5P_DEFAULT), H5Dclose, context);
    h5::write_uint32_attr(ds.get(), "crc32", answers_crc(list));
  }
}

HeadAnswers read_head_answers(hid_t file, const std::string& context) {
  HeadAnswers out;
  if (!h5::has_link(file, kAnswersGroup)) return out;
  h5::Handle group = h5::open_group(file, kAnswersGroup, context);
  for (const std::string& head : h5::child_names(group.get(), context)) {
    auto list = h5::read_string_list(group.get(), head, cat(context, ": answers"));
    h5::Handle ds = h5::check(H5Dopen2(group.get(), head.c_str(), H5P_DEFAULT), H5Dclose, context);
    if (h5::has_attr(ds.get(), "crc32") &&
        h5::read_uint32_attr(ds.get(), "crc32", context) != answers_crc(list))
      throw CheckpointError(cat(context, ": /answers/", head, ": checksum mismatch; the file is corrupt"));
    out.emplace(head, std::move(list));
  }
  return out;
}

HeadAnswers read_head_answers(const std::string& path) {
  h5::Handle file = h5::open_file_readonly(path);
  return read_head_answers(file.get(), path);
}

}  // namespace vlmt::ckpt
