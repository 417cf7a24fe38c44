#pragma once
// The answer vocabularies stored with a model's weights, in stage checkpoints and parameter
// files alike (docs/CHECKPOINTS.md):
//   /answers/<head>   1-D variable-length UTF-8 strings; row i = the answer of the head's output i
//     attr crc32      CRC-32 of the answers joined by '\n' (UTF-8); optional in files written by
//                     other tools, verified when present
//     attr source     where the list came from (answers.json, trainval_label2ans.pkl), optional
// Heads never trained against a vocabulary have no entry.
#include <hdf5.h>

#include <map>
#include <string>
#include <vector>

namespace vlmt::ckpt {

using HeadAnswers = std::map<std::string, std::vector<std::string>>;

void write_head_answers(hid_t file, const HeadAnswers& answers, const std::string& context);
// {} when the file has no /answers group; CheckpointError naming the file and head otherwise.
HeadAnswers read_head_answers(hid_t file, const std::string& context);
// The same from a file on disk (a checkpoint or a parameter file).
HeadAnswers read_head_answers(const std::string& path);

}  // namespace vlmt::ckpt
