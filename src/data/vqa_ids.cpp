#include "data/vqa_ids.h"

#include <cerrno>
#include <cstdlib>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

int64_t vqa_question_id(const std::string& id, const std::string& where) {
  const bool digits = !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
  errno = 0;
  const long long value = digits ? std::strtoll(id.c_str(), nullptr, 10) : -1;
  if (!digits || errno == ERANGE)
    throw DataError(cat(where, ": question id \"", id, "\" is not a VQA question id (the evaluation server takes ",
                        "integers from 0 to 9223372036854775807)"));
  return value;
}

}  // namespace vlmt
