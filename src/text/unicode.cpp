#include "text/unicode.h"

#include <cstring>

namespace vlmt::unicode {

std::u32string decode_utf8(const std::string& text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (extra < 0 || i + extra >= n) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) { ok = false; break; }
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(const std::u32string& text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(cp, out);
  return out;
}

bool is_whitespace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF;
}

bool is_punctuation(char32_t cp) {
  // BERT treats every non-alphanumeric ASCII symbol as punctuation ("$", "^", "`" included).
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126))
    return true;
  // Category P* in Latin-1, General Punctuation and CJK Symbols and Punctuation.
  switch (cp) {
    case 0xA1: case 0xA7: case 0xAB: case 0xB6: case 0xB7: case 0xBB: case 0xBF:
      return true;
    default:
      break;
  }
  if (cp >= 0x2010 && cp <= 0x2027) return true;
  if (cp >= 0x2030 && cp <= 0x205E && cp != 0x2044 && cp != 0x2052) return true;
  if (cp >= 0x3001 && cp <= 0x3003) return true;
  if (cp >= 0x3008 && cp <= 0x3011) return true;
  if (cp >= 0x3014 && cp <= 0x301F) return true;
  if (cp >= 0xFF01 && cp <= 0xFF0F) return cp != 0xFF04 && cp != 0xFF0B;
  return false;
}

bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_combining_mark(char32_t cp) {
  return (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
         (cp >= 0xFE20 && cp <= 0xFE2F);
}

namespace {
// Base letter of U+00C0..U+00FF after NFD; '*' = no canonical decomposition.
constexpr char kLatin1Base[] =
    "aaaaaa*ceeeeiiii*nooooo**uuuuy**"   // U+00C0..U+00DF
    "aaaaaa*ceeeeiiii*nooooo**uuuuy*y";  // U+00E0..U+00FF
// Base letter of U+0100..U+017F after NFD; '*' = no canonical decomposition.
constexpr char kLatinExtABase[] =
    "aaaaaacccccccc" "dd" "**" "eeeeeeeeee" "gggggggg" "hh" "**" "iiiiiiiii" "*" "**" "jj" "kk" "*"
    "llllll" "****" "nnnnnn" "***" "oooooo" "**" "rrrrrr" "ssssssss" "tttt" "**"
    "uuuuuuuuuuuu" "ww" "yyy" "zzzzzz" "*";
static_assert(sizeof(kLatin1Base) == 65, "Latin-1 table covers U+00C0..U+00FF");
static_assert(sizeof(kLatinExtABase) == 129, "Latin Extended-A table covers U+0100..U+017F");

// Simple lower-case mapping of Latin Extended-A: upper/lower pairs alternate, with the parity
// flipping in U+0139..U+0148 and U+0179..U+017E; U+0178 (Ÿ) maps into Latin-1 (ÿ).
char32_t lower_latin_ext_a(char32_t cp) {
  if (cp == 0x178) return 0xFF;
  if (cp == 0x130) return 'i';
  bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
  bool even_upper = (cp <= 0x137 && cp != 0x131) || (cp >= 0x14A && cp <= 0x177);
  if (odd_upper && (cp & 1)) return cp + 1;
  if (even_upper && !(cp & 1)) return cp + 1;
  return cp;
}
}  // namespace

char32_t fold(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if (is_combining_mark(cp)) return 0;
  if (cp >= 0xC0 && cp <= 0xFF) {
    char base = kLatin1Base[cp - 0xC0];
    if (base != '*') return static_cast<char32_t>(base);
    if (cp <= 0xDE && cp != 0xD7) return cp + 0x20;  // Æ Ð Ø Þ → æ ð ø þ
    return cp;                                         // × ß æ ð ÷ ø þ
  }
  if (cp >= 0x100 && cp <= 0x17F) {
    char base = kLatinExtABase[cp - 0x100];
    if (base != '*') return static_cast<char32_t>(base);
    return lower_latin_ext_a(cp);
  }
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 0x20;  // Greek capitals
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;                 // Cyrillic А..Я
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;                 // Cyrillic Ѐ..Џ
  return cp;
}

}  // namespace vlmt::unicode
