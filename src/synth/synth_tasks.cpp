#include "synth/synth_tasks.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/log.h"
#include "synth/synth_text.h"

namespace vlmt {

using nlohmann::ordered_json;
using Item = SynthItem;

const SynthScene& SynthSceneCache::get(const std::string& image_id) {
  auto it = scenes_.find(image_id);
  if (it == scenes_.end()) it = scenes_.emplace(image_id, make_scene(image_id, seed_)).first;
  return it->second;
}

namespace {

std::vector<std::string> digits() {
  std::vector<std::string> v;
  for (int i = 0; i <= 9; ++i) v.push_back(std::to_string(i));
  return v;
}
const std::vector<std::string>& yes_no() {
  static const std::vector<std::string> v = {"yes", "no"};
  return v;
}
const std::vector<std::string>& left_right() {
  static const std::vector<std::string> v = {"left", "right"};
  return v;
}

std::vector<std::string> concat(std::initializer_list<std::vector<std::string>> lists) {
  std::vector<std::string> out;
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

// A question with its true answer and the answers a careless annotator would confuse it with.
struct Qa {
  std::string question, answer;
  const std::vector<std::string>* confusions;
};

constexpr unsigned kAllAttrs = kColour | kShape | kSize | kMaterial;

int random_object(const SynthScene& s, SynthRng& rng) {
  return rng.below(static_cast<int>(s.objects.size()));
}

// VQA-style (style 0) and VG-QA-style (style 1) questions about one scene.
std::optional<Qa> attribute_question(const SynthScene& s, SynthRng& rng, int style) {
  static const std::vector<std::string> kDigits = digits();
  const int kind = rng.below(6);
  const int i = random_object(s, rng);
  const SynthObject& o = s.objects[i];
  auto described = [&](unsigned without) { return describe(s, i, (kAllAttrs | kLocation) & ~without); };
  std::string d;
  switch (kind) {
    case 0:
      if ((d = described(kColour)).empty()) return std::nullopt;
      return Qa{style ? "what is the color of the " + d + "?" : "what color is the " + d + "?",
                synth_colours()[o.colour], &synth_colours()};
    case 1:
      if ((d = described(kShape)).empty()) return std::nullopt;
      return Qa{style ? "what shape does the " + d + " have?" : "what shape is the " + d + "?",
                synth_shapes()[o.shape], &synth_shapes()};
    case 2:
      if ((d = described(kMaterial)).empty()) return std::nullopt;
      return Qa{style ? "what is the " + d + " made of?" : "what material is the " + d + "?",
                synth_materials()[o.material], &synth_materials()};
    case 3:
      if ((d = described(kSize)).empty()) return std::nullopt;
      return Qa{"what size is the " + d + (style ? " in the picture?" : "?"),
                synth_sizes()[o.size], &synth_sizes()};
    case 4: {
      const bool by_colour = rng.chance(0.5);
      int n = 0;
      for (const auto& x : s.objects) n += by_colour ? x.colour == o.colour : x.shape == o.shape;
      const std::string what = by_colour ? synth_colours()[o.colour] + " objects"
                                         : synth_shape_plurals()[o.shape];
      return Qa{"how many " + what + (style ? " are in the picture?" : " are there?"),
                std::to_string(n), &kDigits};
    }
    default: {
      int colour = o.colour, shape = o.shape;
      if (rng.chance(0.5)) {  // ask about a random pair, which is usually absent
        colour = rng.below(static_cast<int>(synth_colours().size()));
        shape = rng.below(static_cast<int>(synth_shapes().size()));
      }
      bool present = false;
      for (const auto& x : s.objects) present = present || (x.colour == colour && x.shape == shape);
      const std::string& c = synth_colours()[colour];
      return Qa{"is there " + article(c) + " " + c + " " + synth_shapes()[shape] +
                    (style ? " in the picture?" : "?"),
                present ? "yes" : "no", &yes_no()};
    }
  }
}

// The nearest object on one side of object i (-1 left, +1 right), or -1.
int neighbour(const SynthScene& s, int i, int side) {
  int best = -1;
  float best_gap = 1e9f;
  for (int j = 0; j < static_cast<int>(s.objects.size()); ++j) {
    const float gap = side * (s.objects[j].center_x() - s.objects[i].center_x());
    if (j != i && gap > 0 && gap < best_gap) best = j, best_gap = gap;
  }
  return best;
}

// GQA-style relational questions.
std::optional<Qa> relational_question(const SynthScene& s, SynthRng& rng) {
  const int i = random_object(s, rng);
  const std::string d = describe(s, i, kAllAttrs);
  if (d.empty()) return std::nullopt;
  const int side = rng.chance(0.5) ? -1 : 1;
  const std::string side_word = side < 0 ? "left" : "right";
  switch (rng.below(4)) {
    case 0: {
      const int j = neighbour(s, i, side);
      if (j < 0) return std::nullopt;
      return Qa{"what is to the " + side_word + " of the " + d + "?",
                synth_shapes()[s.objects[j].shape], &synth_shapes()};
    }
    case 1: {
      const int j = neighbour(s, i, side);
      if (j < 0) return std::nullopt;
      return Qa{"what color is the object to the " + side_word + " of the " + d + "?",
                synth_colours()[s.objects[j].colour], &synth_colours()};
    }
    case 2: {
      const int j = random_object(s, rng);
      const std::string e = describe(s, j, kAllAttrs);
      if (j == i || e.empty()) return std::nullopt;
      const bool left_of = s.objects[i].center_x() < s.objects[j].center_x();
      return Qa{"is the " + d + " to the left of the " + e + "?", left_of ? "yes" : "no",
                &yes_no()};
    }
    default: {
      const bool left = s.objects[i].center_x() < 0.5f * s.width;
      return Qa{"which side is the " + d + " on?", left ? "left" : "right", &left_right()};
    }
  }
}

// Vocab-based VQA item: `annotators` raw answers, each wrong with probability `noise`, scored
// min(1, #/3) over the answer vocabulary (a single answer scores 1).
ordered_json vqa_item(const SynthItemContext& c, const Qa& qa, int annotators, double noise,
                      const std::vector<std::string>& vocab) {
  SynthRng& rng = *c.rng;
  std::vector<std::string> raw;
  for (int k = 0; k < annotators; ++k)
    raw.push_back(rng.chance(noise) ? rng.pick(*qa.confusions) : qa.answer);
  std::map<int, int> votes;  // answer index -> count, ordered by index
  for (const auto& a : raw) {
    const auto it = std::find(vocab.begin(), vocab.end(), a);
    if (it == vocab.end()) throw Error(ExitCode::kFailure, cat("answer \"", a, "\" not in answers.json"));
    ++votes[static_cast<int>(it - vocab.begin())];
  }
  std::vector<int> labels;
  std::vector<double> scores;
  for (const auto& [label, n] : votes) {
    labels.push_back(label);
    scores.push_back(annotators == 1 ? 1.0 : std::min(1.0, n / 3.0));
  }
  return ordered_json{{"question_id", c.item_id}, {"image_id", c.scenes[0]->id},
                      {"question", qa.question},  {"answers", raw},
                      {"labels", labels},         {"scores", scores}};
}

// A caption naming two or three objects with random subsets of their attributes.
std::string caption(const SynthScene& s, SynthRng& rng) {
  std::vector<int> order(s.objects.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int>(k);
  rng.shuffle(order);
  auto np = [&](int k) {
    unsigned used = kShape;
    if (rng.chance(0.7)) used |= kColour;
    if (rng.chance(0.4)) used |= kSize;
    if (rng.chance(0.4)) used |= kMaterial;
    const std::string p = phrase(s, s.objects[order[k]], used);
    return article(p) + " " + p;
  };
  switch (rng.below(4)) {
    case 0: return np(0) + " next to " + np(1) + ".";
    case 1:
      return number_words()[s.objects.size()] + " objects including " + np(0) + " and " + np(1) +
             ".";
    case 2: return "a picture with " + np(0) + ", " + np(1) + " and " + np(2) + ".";
    default: return np(0) + " near " + np(1) + " on a table.";
  }
}

ordered_json box_json(const Box& b) { return ordered_json::array({b[0], b[1], b[2], b[3]}); }

Item referring_item(const SynthItemContext& c, SynthReferring style) {
  const SynthScene& s = *c.scenes[0];
  SynthRng& rng = *c.rng;
  const int i = random_object(s, rng);
  std::string expression;
  if (style == SynthReferring::kShortWithLocation) {
    expression = describe(s, i, kColour | kShape | kSize | kLocation);
    const bool has_location = expression.find("left") != std::string::npos ||
                              expression.find("right") != std::string::npos ||
                              expression.find("middle") != std::string::npos;
    if (!expression.empty() && !has_location && rng.chance(0.6)) {
      const int loc = location_bucket(s, s.objects[i]);
      expression += loc == 1 ? " in the middle" : " on the " + synth_locations()[loc];
    }
  } else if (style == SynthReferring::kAppearanceOnly) {
    expression = describe(s, i, kAllAttrs);
  } else {  // kLongWithNeighbour
    const std::string full = phrase(s, s.objects[i], kAllAttrs);
    int j = neighbour(s, i, rng.chance(0.5) ? -1 : 1);
    if (j < 0) j = neighbour(s, i, -1) < 0 ? neighbour(s, i, 1) : neighbour(s, i, -1);
    const std::string other = j < 0 ? "" : describe(s, j, kAllAttrs);
    if (other.empty()) return std::nullopt;
    expression = "the " + full + " that is next to the " + other;
  }
  if (expression.empty()) return std::nullopt;
  return ordered_json{{"ref_id", c.item_id}, {"image_id", s.id}, {"expression", expression},
                      {"box", box_json(s.objects[i].box)}};
}

Item pointing_item(const SynthItemContext& c) {  // Visual7W
  const SynthScene& s = *c.scenes[0];
  SynthRng& rng = *c.rng;
  if (s.objects.size() < 4) return std::nullopt;
  const int i = random_object(s, rng);
  const std::string d = describe(s, i, kAllAttrs);
  if (d.empty()) return std::nullopt;
  std::vector<int> others;
  for (int j = 0; j < static_cast<int>(s.objects.size()); ++j)
    if (j != i) others.push_back(j);
  rng.shuffle(others);
  std::vector<int> chosen = {i, others[0], others[1], others[2]};
  rng.shuffle(chosen);
  ordered_json candidates = ordered_json::array();
  int answer = 0;
  for (int k = 0; k < 4; ++k) {
    candidates.push_back(box_json(s.objects[chosen[k]].box));
    if (chosen[k] == i) answer = k;
  }
  const std::string text = rng.chance(0.5) ? "which is the " + d + "?" : "point at the " + d + ".";
  return ordered_json{{"id", c.item_id}, {"image_id", s.id},        {"text", text},
                      {"candidates", candidates}, {"answer", answer}};
}

Item dialog_item(const SynthItemContext& c) {  // GuessWhat
  const SynthScene& s = *c.scenes[0];
  SynthRng& rng = *c.rng;
  const int i = random_object(s, rng);
  const SynthObject& o = s.objects[i];
  std::string text;
  const int turns = rng.between(3, 6);
  for (int t = 0; t < turns; ++t) {
    const bool ask_true = rng.chance(0.5);
    std::string question;
    bool truth = false;
    switch (rng.below(5)) {
      case 0: {
        const int v = ask_true ? o.shape : rng.below(static_cast<int>(synth_shapes().size()));
        const std::string& w = synth_shapes()[v];
        question = "is it " + article(w) + " " + w + "?", truth = v == o.shape;
        break;
      }
      case 1: {
        const int v = ask_true ? o.colour : rng.below(static_cast<int>(synth_colours().size()));
        question = "is it " + synth_colours()[v] + "?", truth = v == o.colour;
        break;
      }
      case 2: {
        const int v = ask_true ? o.material : rng.below(2);
        question = "is it made of " + synth_materials()[v] + "?", truth = v == o.material;
        break;
      }
      case 3: {
        const int v = ask_true ? o.size : rng.below(2);
        question = "is it " + synth_sizes()[v] + "?", truth = v == o.size;
        break;
      }
      default: {
        const int v = ask_true ? location_bucket(s, o) : rng.below(3);
        question = v == 1 ? "is it in the middle?" : "is it on the " + synth_locations()[v] + "?";
        truth = v == location_bucket(s, o);
      }
    }
    if (rng.chance(0.05)) truth = !truth;  // the oracle's mistakes
    text += (text.empty() ? "" : " ") + question + (truth ? " yes" : " no");
  }
  ordered_json candidates = ordered_json::array();
  for (const auto& x : s.objects) candidates.push_back(box_json(x.box));
  return ordered_json{{"id", c.item_id}, {"image_id", s.id},        {"text", text},
                      {"candidates", candidates}, {"answer", i}};
}

bool contains(const SynthScene& s, int colour, int shape) {
  for (const auto& x : s.objects)
    if ((colour < 0 || x.colour == colour) && (shape < 0 || x.shape == shape)) return true;
  return false;
}

Item nlvr2_item(const SynthItemContext& c) {
  const SynthScene& l = *c.scenes[0];
  const SynthScene& r = *c.scenes[1];
  SynthRng& rng = *c.rng;
  const SynthObject& o = l.objects[random_object(l, rng)];
  std::string sentence;
  bool label = false;
  switch (rng.below(3)) {
    case 0: {
      const std::string& col = synth_colours()[o.colour];
      sentence = "both images contain " + article(col) + " " + col + " " + synth_shapes()[o.shape] + ".";
      label = contains(r, o.colour, o.shape);
      break;
    }
    case 1: {
      int n = 0;
      for (const auto& x : l.objects) n += x.shape == o.shape;
      const int claimed = rng.chance(0.5) ? n : std::max(0, n + (rng.chance(0.5) ? 1 : -1));
      if (claimed > 9) return std::nullopt;
      sentence = "the left image contains exactly " + number_words()[claimed] + " " +
                 (claimed == 1 ? synth_shapes()[o.shape] : synth_shape_plurals()[o.shape]) + ".";
      label = claimed == n;
      break;
    }
    default: {
      const SynthObject& p = rng.chance(0.5) ? o : r.objects[random_object(r, rng)];
      const std::string& col = synth_colours()[p.colour];
      sentence = "there is " + article(col) + " " + col + " object in the right image.";
      label = contains(r, p.colour, -1);
    }
  }
  if (rng.chance(0.03)) label = !label;
  return ordered_json{{"pair_id", c.item_id}, {"image_ids", {l.id, r.id}},
                      {"sentence", sentence}, {"label", label}};
}

Item snli_ve_item(const SynthItemContext& c) {
  const SynthScene& s = *c.scenes[0];
  SynthRng& rng = *c.rng;
  static const std::vector<std::string> kLabels = {"entailment", "neutral", "contradiction"};
  int label = rng.below(3);
  const int i = random_object(s, rng);
  const SynthObject& o = s.objects[i];
  const int n = static_cast<int>(s.objects.size());
  std::string hypothesis;
  if (label == 0) {
    if (rng.chance(0.5)) {
      const std::string p = phrase(s, o, kShape | (rng.chance(0.7) ? kColour : 0u) |
                                             (rng.chance(0.4) ? kMaterial : 0u));
      hypothesis = "there is " + article(p) + " " + p + ".";
    } else {
      hypothesis = "the picture shows " + number_words()[n] + " objects.";
    }
  } else if (label == 2) {
    switch (rng.below(3)) {
      case 0: {  // name a shape that is absent
        const int shape = rng.below(static_cast<int>(synth_shapes().size()));
        if (contains(s, -1, shape)) return std::nullopt;
        hypothesis = "there is " + article(synth_shapes()[shape]) + " " + synth_shapes()[shape] + ".";
        break;
      }
      case 1: {
        int wrong = rng.between(1, 9);
        if (wrong == n) return std::nullopt;
        hypothesis = "the picture shows " + number_words()[wrong] + " objects.";
        break;
      }
      default: {
        bool all_same = true;
        for (const auto& x : s.objects) all_same = all_same && x.colour == o.colour;
        if (all_same) return std::nullopt;
        hypothesis = "all the objects are " + synth_colours()[o.colour] + ".";
      }
    }
  } else {  // facts the image cannot confirm or refute
    const std::string d = describe(s, i, kAllAttrs);
    if (d.empty()) return std::nullopt;
    static const std::vector<std::string> kFrames = {"the {} is new.",
                                                     "someone is about to move the {}.",
                                                     "the {} belongs to a child."};
    hypothesis = rng.pick(kFrames);
    hypothesis.replace(hypothesis.find("{}"), 2, d);
  }
  if (rng.chance(0.05)) label = (label + 1 + rng.below(2)) % 3;
  return ordered_json{{"pair_id", c.item_id}, {"image_id", s.id}, {"hypothesis", hypothesis},
                      {"label", kLabels[label]}};
}

}  // namespace

const std::vector<std::string>& synth_vqa_answers() {
  static const std::vector<std::string> v = concat(
      {yes_no(), digits(), synth_colours(), synth_shapes(), synth_sizes(), synth_materials()});
  return v;
}

const std::vector<std::string>& synth_gqa_answers() {
  static const std::vector<std::string> v = concat(
      {yes_no(), left_right(), synth_colours(), synth_shapes(), synth_sizes(), synth_materials()});
  return v;
}

SynthItemKind synth_question_items(SynthQuestions questions, int annotators, double noise,
                                   const std::vector<std::string>& answers) {
  SynthItemKind kind;
  kind.answers = &answers;
  kind.make = [questions, annotators, noise, &answers](const SynthItemContext& c) -> Item {
    const SynthScene& s = *c.scenes.at(0);
    const auto qa = questions == SynthQuestions::kRelations
                        ? relational_question(s, *c.rng)
                        : attribute_question(s, *c.rng, questions == SynthQuestions::kAttributesVgPhrasing);
    if (!qa) return std::nullopt;
    return vqa_item(c, *qa, annotators, noise, answers);
  };
  return kind;
}

SynthItemKind synth_retrieval_items() {
  SynthItemKind kind;
  kind.hard_negatives = true;
  kind.make = [](const SynthItemContext& c) -> Item {
    const SynthScene& s = *c.scenes.at(0);
    return ordered_json{{"caption_id", c.item_id}, {"image_id", s.id}, {"caption", caption(s, *c.rng)}};
  };
  return kind;
}

SynthItemKind synth_captions_corpus() {
  SynthItemKind kind;
  kind.captions_corpus = true;
  kind.make = [](const SynthItemContext& c) -> Item {
    const SynthScene& s = *c.scenes.at(0);
    return ordered_json{{"image_id", s.id}, {"caption", caption(s, *c.rng)}};
  };
  return kind;
}

namespace {

// The kinds whose items point at regions: their image sources also get ground-truth features.
SynthItemKind pointing_kind(std::function<SynthItem(const SynthItemContext&)> make) {
  SynthItemKind kind;
  kind.ground_truth_regions = true;
  kind.make = std::move(make);
  return kind;
}

}  // namespace

SynthItemKind synth_referring_items(SynthReferring style) {
  return pointing_kind([style](const SynthItemContext& c) { return referring_item(c, style); });
}

SynthItemKind synth_pointing_items() { return pointing_kind(pointing_item); }

SynthItemKind synth_dialog_items() { return pointing_kind(dialog_item); }

SynthItemKind synth_pair_statement_items() {
  SynthItemKind kind;
  kind.scenes_per_item = 2;
  kind.make = nlvr2_item;
  return kind;
}

SynthItemKind synth_entailment_items() {
  SynthItemKind kind;
  kind.make = snli_ve_item;
  return kind;
}

std::vector<std::string> synth_item_texts(const ordered_json& item) {
  std::vector<std::string> out;
  for (const char* key : {"question", "caption", "expression", "text", "sentence", "hypothesis"})
    if (item.contains(key)) out.push_back(item[key].get<std::string>());
  return out;
}

}  // namespace vlmt
