#pragma once
// The small part of Unicode that BERT's basic tokenizer needs: UTF-8 decoding/encoding,
// character classes (whitespace, control, punctuation, CJK ideograph) and lower-case +
// accent-stripping folding (the effect of `lower()` then NFD and dropping category Mn).
#include <cstdint>
#include <string>
#include <vector>

namespace vlmt::unicode {

// Decodes UTF-8; malformed bytes become U+FFFD (which the tokenizer drops, as BERT does).
std::u32string decode_utf8(const std::string& text);
void append_utf8(char32_t cp, std::string& out);
std::string encode_utf8(const std::u32string& text);

bool is_whitespace(char32_t cp);   // space, \t \n \r, category Zs
bool is_control(char32_t cp);      // categories Cc/Cf except \t \n \r
bool is_punctuation(char32_t cp);  // ASCII non-alphanumeric symbols and category P*
bool is_cjk(char32_t cp);          // CJK unified ideographs blocks (as in BERT)
bool is_combining_mark(char32_t cp);

// Lower-cased, accent-stripped code point; 0 when the character vanishes (a combining mark).
char32_t fold(char32_t cp);

}  // namespace vlmt::unicode
