// VQA question ids (data/vqa_ids.h): the submission file holds them as integers, so an id that
// is not one is a DataError (exit 3) naming the id and the file — never an id replaced by the
// item's position, never an internal error from an overflowing conversion.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "data/vqa_ids.h"

using namespace vlmt;

TEST(DataVqaIds, IntegerIdsAreTaken) {
  EXPECT_EQ(vqa_question_id("0", "a.jsonl"), 0);
  EXPECT_EQ(vqa_question_id("262148000", "a.jsonl"), 262148000);
  EXPECT_EQ(vqa_question_id("9223372036854775807", "a.jsonl"), 9223372036854775807LL);
}

TEST(DataVqaIds, AnythingElseIsADataErrorNamingTheIdAndTheFile) {
  for (const std::string id : {"q12x", "", "-1", "+1", " 1", "1 ", "1.0", "9223372036854775808",
                               "12345678901234567890", "123456789012345678901234"}) {
    try {
      vqa_question_id(id, "annotations/vqa/test-dev.jsonl");
      ADD_FAILURE() << "\"" << id << "\" was taken as a question id";
    } catch (const DataError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("annotations/vqa/test-dev.jsonl"), std::string::npos) << what;
      EXPECT_NE(what.find("\"" + id + "\""), std::string::npos) << what;
      EXPECT_EQ(e.code(), ExitCode::kData);
    }
  }
}
