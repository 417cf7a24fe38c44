#include "synth/synth_text.h"

#include <cctype>
#include <set>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

const std::vector<std::string>& number_words() {
  static const std::vector<std::string> v = {"zero", "one", "two",   "three", "four",
                                             "five", "six", "seven", "eight", "nine"};
  return v;
}

const std::vector<std::string>& synth_locations() {
  static const std::vector<std::string> v = {"left", "middle", "right"};
  return v;
}

const std::vector<std::string>& synth_vocabulary() {
  static const std::vector<std::string> vocab = [] {
    std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    // Function words and template words, in alphabetical order for readability.
    const std::vector<std::string> words = {
        ",", ".", "?", "a", "about", "all", "an", "and", "are", "at", "be", "belongs", "both",
        "child", "color", "contain", "contains", "does", "exactly", "have", "how", "image",
        "images", "in", "including", "is", "it", "left", "made", "many", "material", "middle",
        "move", "near", "new", "next", "no", "object", "objects", "of", "on", "one", "other",
        "picture", "point", "right", "shape", "shows", "side", "size", "someone", "table", "that",
        "the", "there", "to", "total", "what", "where", "which", "with", "yes"};
    std::set<std::string> seen(v.begin(), v.end());
    auto add = [&](const std::vector<std::string>& list) {
      for (const auto& w : list)
        if (seen.insert(w).second) v.push_back(w);
    };
    add(words);
    add(synth_colours());
    add(synth_shapes());
    add(synth_shape_plurals());
    add(synth_sizes());
    add(synth_materials());
    add(number_words());
    return v;
  }();
  return vocab;
}

void check_in_vocabulary(const std::string& text) {
  static const std::set<std::string> known(synth_vocabulary().begin(), synth_vocabulary().end());
  std::string word;
  auto flush = [&]() {
    if (!word.empty() && !known.count(word))
      throw Error(ExitCode::kFailure,
                  cat("synthetic template produced \"", word, "\" (not in vocab) in: ", text));
    word.clear();
  };
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      flush();
    } else if (std::ispunct(static_cast<unsigned char>(c))) {
      flush();
      word = std::string(1, c);
      flush();
    } else {
      word += c;
    }
  }
  flush();
}

int location_bucket(const SynthScene& scene, const SynthObject& o) {
  const float x = o.center_x() / static_cast<float>(scene.width);
  return x < 1.f / 3 ? 0 : (x < 2.f / 3 ? 1 : 2);
}

std::string article(const std::string& next_word) {
  return std::string("aeiou").find(next_word.at(0)) != std::string::npos ? "an" : "a";
}

namespace {
bool matches(const SynthScene& s, const SynthObject& a, const SynthObject& b, unsigned used) {
  return (!(used & kColour) || a.colour == b.colour) && (!(used & kShape) || a.shape == b.shape) &&
         (!(used & kSize) || a.size == b.size) &&
         (!(used & kMaterial) || a.material == b.material) &&
         (!(used & kLocation) || location_bucket(s, a) == location_bucket(s, b));
}

}  // namespace

std::string phrase(const SynthScene& s, const SynthObject& o, unsigned used) {
  std::string out;
  auto add = [&](const std::string& w) { out += (out.empty() ? "" : " ") + w; };
  if (used & kSize) add(synth_sizes()[o.size]);
  if (used & kColour) add(synth_colours()[o.colour]);
  if (used & kMaterial) add(synth_materials()[o.material]);
  add(used & kShape ? synth_shapes()[o.shape] : "object");
  if (used & kLocation) {
    const int loc = location_bucket(s, o);
    add(loc == 1 ? "in the middle" : "on the " + synth_locations()[loc]);
  }
  return out;
}

std::string describe(const SynthScene& scene, int index, unsigned allowed) {
  // Attribute sets from short to long; the first one that singles the object out wins.
  static const unsigned kOrder[] = {kShape,
                                    kColour,
                                    kColour | kShape,
                                    kShape | kLocation,
                                    kSize | kShape,
                                    kMaterial | kShape,
                                    kColour | kShape | kLocation,
                                    kSize | kColour | kShape,
                                    kColour | kMaterial | kShape,
                                    kSize | kColour | kMaterial,
                                    kSize | kColour | kMaterial | kShape,
                                    kSize | kColour | kMaterial | kShape | kLocation};
  const SynthObject& target = scene.objects.at(index);
  for (unsigned used : kOrder) {
    if ((used & allowed) != used) continue;
    bool unique = true;
    for (std::size_t j = 0; j < scene.objects.size() && unique; ++j)
      if (static_cast<int>(j) != index && matches(scene, target, scene.objects[j], used))
        unique = false;
    if (unique) return phrase(scene, target, used);
  }
  return "";
}

}  // namespace vlmt
