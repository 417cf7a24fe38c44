#pragma once
// Language of the synthetic world: the fixed word list (vocab.txt) and the referring
// descriptions every task template builds on. Descriptions are unique within their scene, so an
// answer is a deterministic function of the scene.
#include <string>
#include <vector>

#include "synth/synth_scene.h"

namespace vlmt {

// vocab.txt: [PAD] [UNK] [CLS] [SEP] [MASK] (ids 0..4), then every word the templates use.
const std::vector<std::string>& synth_vocabulary();
// Splits a text the way a BERT basic tokenizer would (spaces, punctuation alone) and throws
// Error(kFailure) naming the text if a word is missing from synth_vocabulary(): a template bug.
void check_in_vocabulary(const std::string& text);

// Which attributes a description may use.
enum SynthAttr : unsigned { kColour = 1, kShape = 2, kSize = 4, kMaterial = 8, kLocation = 16 };

// Horizontal third of the canvas: 0 left, 1 middle, 2 right.
int location_bucket(const SynthScene& scene, const SynthObject& o);
const std::vector<std::string>& synth_locations();  // "left", "middle", "right"

// The shortest description of object `index` using only `allowed` attributes that matches no
// other object, e.g. "red cube", "large metal object", "cube on the left"; "" when none exists.
// Without kShape the noun is "object".
std::string describe(const SynthScene& scene, int index, unsigned allowed);
// A noun phrase with the `used` attributes, unique or not, e.g. "small red rubber cube".
std::string phrase(const SynthScene& scene, const SynthObject& o, unsigned used);
// "a" or "an" for the following word.
std::string article(const std::string& next_word);
// "zero".."nine" for small counts.
const std::vector<std::string>& number_words();

}  // namespace vlmt
