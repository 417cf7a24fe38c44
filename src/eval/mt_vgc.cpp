#include "eval/mt_vgc.h"

#include <cctype>
#include <map>
#include <unordered_set>

namespace vlmt {
namespace {

// Common visual nouns and adjectives of COCO questions and referring expressions.
const std::unordered_set<std::string>& concept_lexicon() {
  static const std::unordered_set<std::string> words = {
      // people and animals
      "man", "woman", "person", "people", "boy", "girl", "child", "kid", "baby", "guy", "lady",
      "player", "men", "women", "children", "dog", "cat", "horse", "sheep", "cow", "elephant",
      "bear", "zebra", "giraffe", "bird", "animal", "teddy",
      // vehicles and street
      "car", "bus", "truck", "train", "bike", "bicycle", "motorcycle", "plane", "airplane",
      "boat", "vehicle", "van", "taxi", "sign", "light", "street", "road", "bench", "hydrant",
      // things
      "shirt", "jacket", "hat", "cap", "coat", "dress", "pants", "jeans", "shorts", "helmet",
      "glasses", "tie", "umbrella", "bag", "backpack", "suitcase", "ball", "kite", "frisbee",
      "racket", "skateboard", "surfboard", "skis", "board", "bottle", "cup", "glass", "bowl",
      "plate", "fork", "knife", "spoon", "pizza", "cake", "sandwich", "banana", "apple",
      "orange", "broccoli", "carrot", "donut", "food", "table", "chair", "couch", "sofa", "bed",
      "tv", "laptop", "phone", "book", "clock", "vase", "window", "door", "wall", "floor",
      "building", "tree", "grass", "water", "sky", "field", "snow", "sand", "beach", "fence",
      "pole", "box", "picture", "shelf", "toilet", "sink", "oven", "refrigerator", "mirror",
      "head", "hand", "face", "hair", "leg", "arm", "tail", "ear", "eye", "background",
      "foreground", "corner", "edge", "side", "center", "middle", "front", "back", "top",
      "bottom", "half", "part", "piece", "slice", "row", "group", "pair", "number",
      // colours
      "red", "blue", "green", "yellow", "white", "black", "brown", "orange", "pink", "purple",
      "gray", "grey", "silver", "gold", "tan", "dark", "light", "colorful", "striped",
      // shapes, sizes, positions used adjectivally
      "round", "square", "rectangular", "circular", "triangular", "big", "large", "small",
      "little", "tiny", "huge", "tall", "short", "long", "wide", "left", "right", "far", "near",
      "closest", "nearest", "farthest", "biggest", "largest", "smallest", "tallest", "first",
      "second", "third", "last", "upper", "lower", "open", "closed", "empty", "full", "young",
      "old", "new",
      // materials
      "wooden", "wood", "metal", "plastic", "stone", "brick", "concrete", "leather", "paper",
      "cloth", "glass", "ceramic"};
  return words;
}

// Function words and frequent verbs that never name a visual concept.
const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> words = {
      "a", "an", "the", "this", "that", "these", "those", "there", "here", "it", "its", "he",
      "she", "they", "them", "his", "her", "their", "him", "i", "you", "we", "me", "my", "your",
      "our", "what", "which", "who", "whom", "whose", "where", "when", "why", "how", "is", "are",
      "was", "were", "be", "been", "being", "am", "do", "does", "did", "has", "have", "had",
      "can", "could", "will", "would", "should", "may", "might", "must", "shall", "not", "no",
      "yes", "and", "or", "but", "if", "of", "in", "on", "at", "to", "from", "by", "with",
      "for", "about", "into", "onto", "over", "under", "above", "below", "behind", "between",
      "next", "beside", "near", "by", "up", "down", "out", "off", "than", "then", "as", "so",
      "very", "too", "also", "just", "only", "all", "any", "some", "each", "every", "both",
      "other", "another", "more", "most", "many", "much", "few", "one", "two", "three", "four",
      "five", "six", "seven", "eight", "nine", "ten", "kind", "type", "color", "colour",
      "see", "look", "looking", "holding", "wearing", "sitting", "standing", "using", "made",
      "being", "doing", "going", "get", "got", "picture", "image", "photo", "shown", "visible",
      "thing", "things", "something", "anything", "someone", "whats", "s", "t"};
  return words;
}

bool is_concept(const std::string& word, bool use_fallback) {
  if (concept_lexicon().count(word)) return true;
  if (stop_words().count(word)) return false;
  return use_fallback && word.size() > 1;
}

// "dogs" -> "dog", "glasses" stays (it is in the lexicon), "boxes" -> "box".
std::string singular(const std::string& word) {
  if (concept_lexicon().count(word) || word.size() < 4 || word.back() != 's' ||
      word.compare(word.size() - 2, 2, "ss") == 0)
    return word;
  if (word.compare(word.size() - 2, 2, "es") == 0) {
    const std::string stem = word.substr(0, word.size() - 2);
    if (concept_lexicon().count(stem)) return stem;
  }
  return word.substr(0, word.size() - 1);
}

}  // namespace

std::set<std::string> visual_concepts(const std::string& text, bool use_fallback) {
  std::set<std::string> concepts;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    // Stop words are checked before plural folding so that "this" never becomes "thi".
    if (stop_words().count(word) && !concept_lexicon().count(word)) {
      word.clear();
      return;
    }
    const std::string s = singular(word);
    if (is_concept(s, use_fallback)) concepts.insert(s);
    word.clear();
  };
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c))) word += static_cast<char>(std::tolower(c));
    else flush();  // apostrophes split "dog's" into "dog" + "s" (a stop word)
  }
  flush();
  return concepts;
}

int shared_concepts(const std::string& question, const std::string& expression,
                    bool use_fallback) {
  const auto q = visual_concepts(question, use_fallback);
  const auto r = visual_concepts(expression, use_fallback);
  int shared = 0;
  for (const auto& w : q) shared += static_cast<int>(r.count(w));
  return shared;
}

MtVgcResult mt_vgc(const std::vector<GroundingItem>& questions,
                   const std::vector<GroundingItem>& expressions, bool use_fallback) {
  struct Concepts {
    std::set<std::string> words;
    bool correct;
  };
  std::map<std::string, std::vector<Concepts>> q_by_image, r_by_image;
  for (const auto& q : questions)
    q_by_image[q.image_id].push_back({visual_concepts(q.text, use_fallback), q.correct});
  for (const auto& r : expressions)
    r_by_image[r.image_id].push_back({visual_concepts(r.text, use_fallback), r.correct});

  MtVgcResult result;
  double right_weight = 0.0;
  for (const auto& [image, qs] : q_by_image) {
    const auto it = r_by_image.find(image);
    if (it == r_by_image.end()) continue;
    ++result.images;
    for (const auto& q : qs)
      for (const auto& r : it->second) {
        int d = 0;
        for (const auto& w : q.words) d += static_cast<int>(r.words.count(w));
        ++result.pairs;
        result.total_weight += d;
        if (q.correct && r.correct) right_weight += d;
      }
  }
  if (result.total_weight > 0) result.score = 100.0 * right_weight / result.total_weight;
  return result;
}

}  // namespace vlmt
