#include "eval/vqa_accuracy.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace vlmt {
namespace {

const std::string kPunctuation = ";/[]\"{}()=+\\_-><@`,?!";

const std::unordered_map<std::string, std::string>& number_words() {
  static const std::unordered_map<std::string, std::string> map = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"},   {"three", "3"}, {"four", "4"},
      {"five", "5"}, {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"}, {"ten", "10"}};
  return map;
}

// The official contraction table (keys after lower-casing can only match lower-case entries).
const std::unordered_map<std::string, std::string>& contractions() {
  static const std::unordered_map<std::string, std::string> map = {
      {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"},
      {"couldnt", "couldn't"}, {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"},
      {"didnt", "didn't"}, {"doesnt", "doesn't"}, {"dont", "don't"}, {"hadnt", "hadn't"},
      {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"}, {"hasnt", "hasn't"},
      {"havent", "haven't"}, {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"},
      {"hes", "he's"}, {"howd", "how'd"}, {"howll", "how'll"}, {"hows", "how's"},
      {"id've", "i'd've"}, {"i'dve", "i'd've"}, {"im", "i'm"}, {"ive", "i've"},
      {"isnt", "isn't"}, {"itd", "it'd"}, {"itd've", "it'd've"}, {"it'dve", "it'd've"},
      {"itll", "it'll"}, {"let's", "let's"}, {"maam", "ma'am"}, {"mightnt", "mightn't"},
      {"mightnt've", "mightn't've"}, {"mightn'tve", "mightn't've"}, {"mightve", "might've"},
      {"mustnt", "mustn't"}, {"mustve", "must've"}, {"neednt", "needn't"}, {"notve", "not've"},
      {"oclock", "o'clock"}, {"oughtnt", "oughtn't"}, {"ow's'at", "'ow's'at"},
      {"'ows'at", "'ow's'at"}, {"'ow'sat", "'ow's'at"}, {"shant", "shan't"},
      {"shed've", "she'd've"}, {"she'dve", "she'd've"}, {"she's", "she's"},
      {"shouldve", "should've"}, {"shouldnt", "shouldn't"}, {"shouldnt've", "shouldn't've"},
      {"shouldn'tve", "shouldn't've"}, {"somebody'd", "somebodyd"},
      {"somebodyd've", "somebody'd've"}, {"somebody'dve", "somebody'd've"},
      {"somebodyll", "somebody'll"}, {"somebodys", "somebody's"}, {"someoned", "someone'd"},
      {"someoned've", "someone'd've"}, {"someone'dve", "someone'd've"},
      {"someonell", "someone'll"}, {"someones", "someone's"}, {"somethingd", "something'd"},
      {"somethingd've", "something'd've"}, {"something'dve", "something'd've"},
      {"somethingll", "something'll"}, {"thats", "that's"}, {"thered", "there'd"},
      {"thered've", "there'd've"}, {"there'dve", "there'd've"}, {"therere", "there're"},
      {"theres", "there's"}, {"theyd", "they'd"}, {"theyd've", "they'd've"},
      {"they'dve", "they'd've"}, {"theyll", "they'll"}, {"theyre", "they're"},
      {"theyve", "they've"}, {"twas", "'twas"}, {"wasnt", "wasn't"}, {"wed've", "we'd've"},
      {"we'dve", "we'd've"}, {"weve", "we've"}, {"werent", "weren't"}, {"whatll", "what'll"},
      {"whatre", "what're"}, {"whats", "what's"}, {"whatve", "what've"}, {"whens", "when's"},
      {"whered", "where'd"}, {"wheres", "where's"}, {"whereve", "where've"}, {"whod", "who'd"},
      {"whod've", "who'd've"}, {"who'dve", "who'd've"}, {"wholl", "who'll"}, {"whos", "who's"},
      {"whove", "who've"}, {"whyll", "why'll"}, {"whyre", "why're"}, {"whys", "why's"},
      {"wont", "won't"}, {"wouldve", "would've"}, {"wouldnt", "wouldn't"},
      {"wouldnt've", "wouldn't've"}, {"wouldn'tve", "wouldn't've"}, {"yall", "y'all"},
      {"yall'll", "y'all'll"}, {"y'allll", "y'all'll"}, {"yall'd've", "y'all'd've"},
      {"y'alld've", "y'all'd've"}, {"y'all'dve", "y'all'd've"}, {"youd", "you'd"},
      {"youd've", "you'd've"}, {"you'dve", "you'd've"}, {"youll", "you'll"},
      {"youre", "you're"}, {"youve", "you've"}};
  return map;
}

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

bool has_comma_between_digits(const std::string& s) {
  for (size_t i = 1; i + 1 < s.size(); ++i)
    if (s[i] == ',' && is_digit(s[i - 1]) && is_digit(s[i + 1])) return true;
  return false;
}

// Step 2 of the official processing: the decision "delete or replace by a space" is taken per
// punctuation character by looking at the *original* input, exactly like vqaEval.py.
std::string process_punctuation(const std::string& in) {
  const bool digit_comma = has_comma_between_digits(in);
  std::string out = in;
  for (char p : kPunctuation) {
    const bool touches_space = in.find(std::string{p, ' '}) != std::string::npos ||
                               in.find(std::string{' ', p}) != std::string::npos;
    const bool remove = touches_space || digit_comma;
    std::string next;
    next.reserve(out.size());
    for (char c : out) {
      if (c != p) next += c;
      else if (!remove) next += ' ';
    }
    out.swap(next);
  }
  // Periods not followed by a digit are dropped (the official "periodStrip").
  std::string stripped;
  stripped.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '.' && !(i + 1 < out.size() && is_digit(out[i + 1]))) continue;
    stripped += out[i];
  }
  return stripped;
}

std::string process_digits_articles(const std::string& in) {
  std::string lower = in;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::unordered_set<std::string> articles = {"a", "an", "the"};
  std::istringstream words(lower);
  std::string word, out;
  while (words >> word) {
    if (auto n = number_words().find(word); n != number_words().end()) word = n->second;
    if (articles.count(word)) continue;
    if (auto c = contractions().find(word); c != contractions().end()) word = c->second;
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

std::string strip_whitespace(const std::string& answer) {
  std::string s = answer;
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\t', ' ');
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

}  // namespace

std::string normalize_vqa_answer(const std::string& answer) {
  return process_digits_articles(process_punctuation(strip_whitespace(answer)));
}

HumanAnswers prepare_human_answers(const std::vector<std::string>& raw_answers) {
  HumanAnswers h;
  for (const auto& a : raw_answers) h.answers.push_back(strip_whitespace(a));
  const bool unanimous = std::all_of(h.answers.begin(), h.answers.end(),
                                     [&](const std::string& a) { return a == h.answers.front(); });
  h.normalized = !unanimous;
  if (h.normalized)
    for (auto& a : h.answers) a = normalize_vqa_answer(a);
  return h;
}

double vqa_accuracy(const std::string& predicted_raw, const HumanAnswers& humans) {
  const auto& human_answers = humans.answers;
  const size_t n = human_answers.size();
  if (n == 0) throw DataError("vqa_accuracy: question has no human answers");
  const std::string predicted =
      humans.normalized ? normalize_vqa_answer(predicted_raw) : strip_whitespace(predicted_raw);
  const auto matches =
      static_cast<double>(std::count(human_answers.begin(), human_answers.end(), predicted));
  if (n == 1) return matches;  // single-answer datasets (VG QA): match or not
  if (n < 10) return std::min(1.0, matches / 3.0);
  // Leave one human out in turn: the others match `matches` times, minus one when the left-out
  // answer itself matched.
  double sum = 0.0;
  for (const auto& left_out : human_answers) {
    const double others = matches - (left_out == predicted ? 1.0 : 0.0);
    sum += std::min(1.0, others / 3.0);
  }
  return sum / static_cast<double>(n);
}

double vqa_accuracy(const std::string& predicted, const std::vector<std::string>& raw_human_answers) {
  return vqa_accuracy(predicted, prepare_human_answers(raw_human_answers));
}

}  // namespace vlmt
