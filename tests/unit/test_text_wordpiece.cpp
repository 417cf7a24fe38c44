#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "test_data_fixtures.h"
#include "text/wordpiece.h"

using namespace vlmt;
using Strings = std::vector<std::string>;

namespace {
WordPiece small_vocab() { return WordPiece::from_tokens(fixture::test_vocab_tokens()); }
}  // namespace

TEST(WordPiece, BasicTokenizationSplitsPunctuationAndLowercases) {
  WordPiece wp = small_vocab();
  EXPECT_EQ(wp.basic_tokenize("Hello, World!"), (Strings{"hello", ",", "world", "!"}));
  EXPECT_EQ(wp.basic_tokenize("  What's\tthe\n dog?  "), (Strings{"what", "'", "s", "the", "dog", "?"}));
  EXPECT_EQ(wp.basic_tokenize("a$b^c"), (Strings{"a", "$", "b", "^", "c"}));
}

TEST(WordPiece, StripsAccentsAndControlCharacters) {
  WordPiece wp = small_vocab();
  EXPECT_EQ(wp.basic_tokenize("Café"), (Strings{"cafe"}));
  EXPECT_EQ(wp.basic_tokenize("NAÏVE Ångström çà"), (Strings{"naive", "angstrom", "ca"}));
  EXPECT_EQ(wp.basic_tokenize("Łódź Œuvre Straße"), (Strings{"łodz", "œuvre", "straße"}));
  EXPECT_EQ(wp.basic_tokenize("cafe\xCC\x81"), (Strings{"cafe"}));  // e + combining acute
  EXPECT_EQ(wp.basic_tokenize("a\x01" "b\xE2\x80\x8B" "c"), (Strings{"abc"}));  // control, zero-width space
}

TEST(WordPiece, SplitsCjkCharacters) {
  WordPiece wp = small_vocab();
  EXPECT_EQ(wp.basic_tokenize("ab\xE4\xB8\xAD\xE6\x96\x87" "cd"), (Strings{"ab", "\xE4\xB8\xAD", "\xE6\x96\x87", "cd"}));
}

TEST(WordPiece, GreedyLongestMatchFirst) {
  WordPiece wp = small_vocab();
  EXPECT_EQ(wp.tokenize("unaffable"), (Strings{"un", "##aff", "##able"}));
  EXPECT_EQ(wp.tokenize("Dogs on the left."), (Strings{"dog", "##s", "on", "the", "left", "."}));
  EXPECT_EQ(wp.tokenize("zebra dog"), (Strings{"[UNK]", "dog"}));
  EXPECT_EQ(wp.tokenize("unaffablex"), (Strings{"[UNK]"}));  // no full cover → the whole word
  EXPECT_EQ(wp.tokenize(std::string(101, 'a')), (Strings{"[UNK]"}));
  EXPECT_EQ(wp.encode("what color"), (std::vector<int64_t>{5, 6}));
}

TEST(WordPiece, FrameAddsSpecialTokensTruncatesAndPads) {
  WordPiece wp = small_vocab();
  EncodedText e = wp.encode_framed("what color is the dog?", 6);
  EXPECT_EQ(e.ids, (std::vector<int64_t>{wp.cls_id(), 5, 6, 7, 8, wp.sep_id()}));
  EXPECT_EQ(e.length, 6);
  EncodedText p = wp.encode_framed("dog", 5);
  EXPECT_EQ(p.ids, (std::vector<int64_t>{2, 9, 3, 0, 0}));
  EXPECT_EQ(p.mask, (std::vector<int64_t>{1, 1, 1, 0, 0}));
  EXPECT_EQ(p.segment_ids, (std::vector<int64_t>(5, 0)));
}

TEST(WordPiece, SpecialIdsFromFile) {
  auto dir = fixture::fresh_dir("wordpiece");
  fixture::write_lines(dir / "vocab.txt", fixture::test_vocab_tokens());
  WordPiece wp = WordPiece::from_file((dir / "vocab.txt").string());
  EXPECT_EQ(wp.pad_id(), 0);
  EXPECT_EQ(wp.unk_id(), 1);
  EXPECT_EQ(wp.cls_id(), 2);
  EXPECT_EQ(wp.sep_id(), 3);
  EXPECT_EQ(wp.mask_id(), 4);
  EXPECT_EQ(wp.size(), static_cast<int64_t>(fixture::test_vocab_tokens().size()));
  EXPECT_EQ(wp.id("dog"), 9);
  EXPECT_EQ(wp.id("zebra"), wp.unk_id());
  EXPECT_EQ(wp.token(9), "dog");
}

TEST(WordPiece, MissingFileOrSpecialTokenIsADataError) {
  auto dir = fixture::fresh_dir("wordpiece_bad");
  try {
    WordPiece::from_file((dir / "nope.txt").string());
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.txt"), std::string::npos);
  }
  fixture::write_lines(dir / "vocab.txt", {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "dog"});
  try {
    WordPiece::from_file((dir / "vocab.txt").string());
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("[MASK]"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("vocab.txt"), std::string::npos);
  }
}
