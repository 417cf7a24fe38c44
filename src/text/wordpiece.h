#pragma once
// BERT-uncased WordPiece tokenizer: the same basic tokenisation as the reference BERT code
// (clean-up, lower-casing, accent stripping by NFD decomposition, punctuation and CJK splitting)
// followed by greedy longest-match-first WordPiece with "##" continuations.
//
// Accent stripping covers the letters whose NFD decomposition is "base letter + combining mark"
// in Latin-1 Supplement and Latin Extended-A, plus stray combining marks U+0300..U+036F; other
// scripts pass through lower-cased where a simple case mapping exists (Greek, Cyrillic).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace vlmt {

// One text stream ready for the model: [CLS] tokens [SEP], padded to a fixed length.
struct EncodedText {
  std::vector<int64_t> ids;          // [max_len]
  std::vector<int64_t> segment_ids;  // [max_len], all 0 (single-sentence input)
  std::vector<int64_t> mask;         // [max_len], 1 = token, 0 = padding
  int64_t length = 0;                // tokens incl. [CLS] and [SEP]
};

class WordPiece {
 public:
  // Reads a vocab.txt (one token per line, id = line number). Throws DataError naming the file
  // when it is missing/empty or lacks one of [PAD] [UNK] [CLS] [SEP] [MASK].
  static WordPiece from_file(const std::string& path);
  // Same from an in-memory token list; `origin` names it in errors.
  static WordPiece from_tokens(std::vector<std::string> tokens,
                               const std::string& origin = "<memory vocab>");

  // Basic tokenisation only (no WordPiece): lower-cased, accent-free words and punctuation.
  std::vector<std::string> basic_tokenize(const std::string& text) const;
  // Basic + WordPiece pieces ("un", "##aff", ...); words it cannot cover become [UNK].
  std::vector<std::string> tokenize(const std::string& text) const;
  // tokenize() mapped to ids.
  std::vector<int64_t> encode(const std::string& text) const;
  // [CLS] ids [SEP] truncated to max_len (ids cut to max_len - 2) and padded with [PAD].
  EncodedText frame(const std::vector<int64_t>& token_ids, int max_len) const;
  // encode() then frame().
  EncodedText encode_framed(const std::string& text, int max_len) const { return frame(encode(text), max_len); }

  // Id of a token; unk_id() when the vocabulary lacks it.
  int64_t id(const std::string& token) const;
  bool contains(const std::string& token) const { return ids_.count(token) != 0; }
  const std::string& token(int64_t id) const;
  int64_t cls_id() const { return cls_; }
  int64_t sep_id() const { return sep_; }
  int64_t pad_id() const { return pad_; }
  int64_t mask_id() const { return mask_; }
  int64_t unk_id() const { return unk_; }
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  const std::string& origin() const { return origin_; }

  static constexpr int kMaxCharsPerWord = 100;

 private:
  void wordpiece(const std::string& word, std::vector<std::string>& out) const;

  std::string origin_;
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
  int64_t pad_ = 0, unk_ = 0, cls_ = 0, sep_ = 0, mask_ = 0;
};

}  // namespace vlmt
