#include "text/wordpiece.h"

#include <fstream>

#include "core/error.h"
#include "core/log.h"
#include "text/unicode.h"

namespace vlmt {

WordPiece WordPiece::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(cat("vocabulary file not found or unreadable: ", path));
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    // Like BERT's load_vocab: surrounding whitespace is not part of the token.
    size_t end = line.find_last_not_of(" \t\r\n");
    size_t begin = line.find_first_not_of(" \t\r\n");
    tokens.push_back(end == std::string::npos ? std::string() : line.substr(begin, end - begin + 1));
  }
  return from_tokens(std::move(tokens), path);
}

WordPiece WordPiece::from_tokens(std::vector<std::string> tokens, const std::string& origin) {
  if (tokens.empty()) throw DataError(cat("vocabulary is empty: ", origin));
  WordPiece wp;
  wp.origin_ = origin;
  wp.tokens_ = std::move(tokens);
  wp.ids_.reserve(wp.tokens_.size() * 2);
  for (size_t i = 0; i < wp.tokens_.size(); ++i) wp.ids_.emplace(wp.tokens_[i], static_cast<int64_t>(i));
  auto special = [&](const char* name) {
    auto it = wp.ids_.find(name);
    if (it == wp.ids_.end()) throw DataError(cat("vocabulary ", origin, " lacks the special token ", name));
    return it->second;
  };
  wp.pad_ = special("[PAD]");
  wp.unk_ = special("[UNK]");
  wp.cls_ = special("[CLS]");
  wp.sep_ = special("[SEP]");
  wp.mask_ = special("[MASK]");
  return wp;
}

std::vector<std::string> WordPiece::basic_tokenize(const std::string& text) const {
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (char32_t cp : unicode::decode_utf8(text)) {
    if (cp == 0 || cp == 0xFFFD || unicode::is_control(cp)) continue;
    if (unicode::is_whitespace(cp)) {
      flush();
      continue;
    }
    if (unicode::is_cjk(cp) || unicode::is_punctuation(cp)) {
      flush();
      std::string single;
      unicode::append_utf8(cp, single);
      words.push_back(std::move(single));
      continue;
    }
    char32_t folded = unicode::fold(cp);
    if (folded != 0) unicode::append_utf8(folded, current);
  }
  flush();
  return words;
}

void WordPiece::wordpiece(const std::string& word, std::vector<std::string>& out) const {
  const std::u32string chars = unicode::decode_utf8(word);
  if (chars.size() > static_cast<size_t>(kMaxCharsPerWord)) {
    out.push_back(tokens_[unk_]);
    return;
  }
  // Byte offset of each code point, so substrings never split a UTF-8 sequence.
  std::vector<size_t> offset(chars.size() + 1, 0);
  for (size_t i = 0; i < chars.size(); ++i) {
    std::string tmp;
    unicode::append_utf8(chars[i], tmp);
    offset[i + 1] = offset[i] + tmp.size();
  }
  const size_t first = out.size();
  size_t start = 0;
  std::string piece;
  while (start < chars.size()) {
    size_t end = chars.size();
    bool found = false;
    for (; end > start; --end) {
      piece.assign(start > 0 ? "##" : "");
      piece.append(word, offset[start], offset[end] - offset[start]);
      if (ids_.count(piece)) {
        found = true;
        break;
      }
    }
    if (!found) {
      out.resize(first);
      out.push_back(tokens_[unk_]);
      return;
    }
    out.push_back(piece);
    start = end;
  }
}

std::vector<std::string> WordPiece::tokenize(const std::string& text) const {
  std::vector<std::string> pieces;
  for (const std::string& word : basic_tokenize(text)) wordpiece(word, pieces);
  return pieces;
}

std::vector<int64_t> WordPiece::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const std::string& piece : tokenize(text)) ids.push_back(id(piece));
  return ids;
}

EncodedText WordPiece::frame(const std::vector<int64_t>& token_ids, int max_len) const {
  if (max_len < 2) throw DataError(cat("max text length must be at least 2, got ", max_len));
  EncodedText e;
  e.ids.assign(max_len, pad_);
  e.segment_ids.assign(max_len, 0);
  e.mask.assign(max_len, 0);
  const size_t n = std::min(token_ids.size(), static_cast<size_t>(max_len - 2));
  e.ids[0] = cls_;
  std::copy(token_ids.begin(), token_ids.begin() + n, e.ids.begin() + 1);
  e.ids[n + 1] = sep_;
  e.length = static_cast<int64_t>(n + 2);
  std::fill(e.mask.begin(), e.mask.begin() + e.length, 1);
  return e;
}

int64_t WordPiece::id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? unk_ : it->second;
}

const std::string& WordPiece::token(int64_t id) const {
  if (id < 0 || id >= size()) throw DataError(cat("token id ", id, " outside vocabulary ", origin_));
  return tokens_[id];
}

}  // namespace vlmt
