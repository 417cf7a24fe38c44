#include "synth/synth_scene.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/log.h"
#include "synth/synth_rng.h"

namespace vlmt {

const std::vector<std::string>& synth_colours() {
  static const std::vector<std::string> v = {"red",    "blue",   "green", "yellow",
                                             "purple", "orange", "white", "black"};
  return v;
}
const std::vector<std::string>& synth_shapes() {
  static const std::vector<std::string> v = {"cube", "sphere", "cylinder", "cone",
                                             "ring", "star",   "pyramid",  "disk"};
  return v;
}
const std::vector<std::string>& synth_shape_plurals() {
  static const std::vector<std::string> v = {"cubes", "spheres", "cylinders", "cones",
                                             "rings", "stars",   "pyramids",  "disks"};
  return v;
}
const std::vector<std::string>& synth_sizes() {
  static const std::vector<std::string> v = {"small", "large"};
  return v;
}
const std::vector<std::string>& synth_materials() {
  static const std::vector<std::string> v = {"metal", "rubber"};
  return v;
}

float box_iou(const Box& a, const Box& b) {
  const float iw = std::min(a[2], b[2]) - std::max(a[0], b[0]);
  const float ih = std::min(a[3], b[3]) - std::max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0.f;
  const float inter = iw * ih;
  const float area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
  return inter / (area_a + area_b - inter);
}

namespace {
bool same_attributes(const SynthObject& a, const SynthObject& b) {
  return a.colour == b.colour && a.shape == b.shape && a.size == b.size &&
         a.material == b.material;
}

Box clamp_box(Box b, int w, int h) {
  b[0] = std::clamp(b[0], 0.f, w - 2.f);
  b[1] = std::clamp(b[1], 0.f, h - 2.f);
  b[2] = std::clamp(b[2], b[0] + 1.f, static_cast<float>(w));
  b[3] = std::clamp(b[3], b[1] + 1.f, static_cast<float>(h));
  return b;
}

std::vector<float> random_embedding(SynthRng& rng, int dim) {
  std::vector<float> e(dim);
  const float scale = 1.f / std::sqrt(static_cast<float>(dim)) * 3.f;
  for (auto& x : e) x = static_cast<float>(rng.normal()) * scale;
  return e;
}
}  // namespace

SynthScene make_scene(const std::string& image_id, std::uint64_t world_seed) {
  SynthRng rng(derive_seed(world_seed, "scene/" + image_id));
  SynthScene scene;
  scene.id = image_id;
  const int n = rng.between(3, 9);
  for (int tries = 0; static_cast<int>(scene.objects.size()) < n && tries < 400; ++tries) {
    SynthObject o;
    o.colour = rng.below(static_cast<int>(synth_colours().size()));
    o.shape = rng.below(static_cast<int>(synth_shapes().size()));
    o.size = rng.below(static_cast<int>(synth_sizes().size()));
    o.material = rng.below(static_cast<int>(synth_materials().size()));
    const float w = static_cast<float>(o.size == 1 ? rng.uniform(110, 170) : rng.uniform(45, 90));
    const float h = static_cast<float>(o.size == 1 ? rng.uniform(100, 150) : rng.uniform(40, 80));
    // Whole pixels: candidate boxes in the JSONL must equal rows of the _gt.h5 file exactly.
    const float x1 = std::round(static_cast<float>(rng.uniform(0, scene.width - w)));
    const float y1 = std::round(static_cast<float>(rng.uniform(0, scene.height - h)));
    o.box = {x1, y1, x1 + std::round(w), y1 + std::round(h)};
    // Distinct objects that barely overlap keep every object describable and detectable.
    bool ok = true;
    for (const auto& other : scene.objects)
      if (same_attributes(o, other) || box_iou(o.box, other.box) > 0.15f) ok = false;
    if (ok) scene.objects.push_back(o);
  }
  return scene;
}

SynthFeatureSpace::SynthFeatureSpace(std::uint64_t world_seed, int feature_dim, int num_classes)
    : dim_(feature_dim), classes_(num_classes) {
  if (feature_dim < 4) throw ConfigError(cat("feature dim must be >= 4, got ", feature_dim));
  if (num_classes < 2) throw ConfigError(cat("classes must be >= 2, got ", num_classes));
  SynthRng rng(derive_seed(world_seed, "embeddings"));
  auto table = [&](std::size_t n) {
    std::vector<std::vector<float>> t;
    for (std::size_t i = 0; i < n; ++i) t.push_back(random_embedding(rng, dim_));
    return t;
  };
  colour_ = table(synth_colours().size());
  shape_ = table(synth_shapes().size());
  size_ = table(synth_sizes().size());
  material_ = table(synth_materials().size());
  background_ = random_embedding(rng, dim_);
}

int SynthFeatureSpace::object_class(const SynthObject& o) const {
  const int bucket = o.shape * static_cast<int>(synth_colours().size()) + o.colour;
  return 1 + bucket % (classes_ - 1);
}

void SynthFeatureSpace::add_region(SynthRegions& out, const Box& box, const SynthObject* object,
                                   float overlap, SynthRng& rng) const {
  // Feature: the object's attribute embeddings scaled by how much of it the box covers, the
  // rest background, plus noise, so that proposals are weaker evidence than exact boxes.
  for (int k = 0; k < dim_; ++k) {
    float v = (1.f - overlap) * background_[k];
    if (object)
      v += overlap * (colour_[object->colour][k] + shape_[object->shape][k] +
                      size_[object->size][k] + material_[object->material][k]);
    out.features.push_back(v + 0.15f * static_cast<float>(rng.normal()));
  }
  out.boxes.insert(out.boxes.end(), box.begin(), box.end());
  // Class distribution: mass on the true class grows with overlap, the rest is background and
  // a little uniform confusion.
  std::vector<float> p(classes_, 0.1f / classes_);
  const float peak = object ? 0.5f + 0.4f * overlap : 0.85f;
  p[object ? object_class(*object) : 0] += peak;
  p[0] += object ? 0.9f - peak : 0.05f;
  float sum = 0;
  for (float x : p) sum += x;
  for (float x : p) out.cls_prob.push_back(x / sum);
  ++out.count;
}

SynthRegions SynthFeatureSpace::detect(const SynthScene& scene, std::uint64_t world_seed,
                                       int max_regions, int min_regions) const {
  SynthRng rng(derive_seed(world_seed, "regions/" + scene.id));
  SynthRegions out;
  for (const auto& o : scene.objects) add_region(out, o.box, &o, 1.f, rng);
  // Proposals: jittered copies with IoU in [0.4, 0.9] (rejection sampling).
  for (const auto& o : scene.objects) {
    const int wanted = rng.between(1, 2);
    for (int made = 0, tries = 0; made < wanted && tries < 50 && out.count < max_regions;
         ++tries) {
      const float w = o.box[2] - o.box[0], h = o.box[3] - o.box[1];
      Box b = {o.box[0] + static_cast<float>(rng.uniform(-0.3, 0.3)) * w,
               o.box[1] + static_cast<float>(rng.uniform(-0.3, 0.3)) * h,
               o.box[2] + static_cast<float>(rng.uniform(-0.3, 0.3)) * w,
               o.box[3] + static_cast<float>(rng.uniform(-0.3, 0.3)) * h};
      b = clamp_box(b, scene.width, scene.height);
      const float iou = box_iou(b, o.box);
      if (iou < 0.4f || iou > 0.9f) continue;
      add_region(out, b, &o, iou, rng);
      ++made;
    }
  }
  // Background boxes: anywhere that overlaps no object much.
  const int background = rng.between(3, 8);
  for (int made = 0, tries = 0; made < background && tries < 100 && out.count < max_regions;
       ++tries) {
    const float w = static_cast<float>(rng.uniform(30, 200)), h = static_cast<float>(rng.uniform(30, 160));
    const float x = static_cast<float>(rng.uniform(0, scene.width - w));
    const float y = static_cast<float>(rng.uniform(0, scene.height - h));
    const Box b = {x, y, x + w, y + h};
    bool clear = true;
    for (const auto& o : scene.objects) clear = clear && box_iou(b, o.box) < 0.2f;
    if (!clear) continue;
    add_region(out, b, nullptr, 0.f, rng);
    ++made;
  }
  if (min_regions > 0) {
    // Filler proposals anywhere, drawn apart so that the scene's own regions do not change.
    SynthRng fill(derive_seed(world_seed, "fill/" + scene.id));
    const int target = fill.between(min_regions, max_regions);
    while (out.count < target) {
      const float w = static_cast<float>(fill.uniform(20, 300)), h = static_cast<float>(fill.uniform(20, 240));
      const float x = static_cast<float>(fill.uniform(0, std::max(1.f, scene.width - w)));
      const float y = static_cast<float>(fill.uniform(0, std::max(1.f, scene.height - h)));
      add_region(out, clamp_box({x, y, x + w, y + h}, scene.width, scene.height), nullptr, 0.f, fill);
    }
  }
  return out;
}

SynthRegions SynthFeatureSpace::ground_truth(const SynthScene& scene,
                                             std::uint64_t world_seed) const {
  SynthRng rng(derive_seed(world_seed, "gt/" + scene.id));
  SynthRegions out;
  for (const auto& o : scene.objects) add_region(out, o.box, &o, 1.f, rng);
  return out;
}

}  // namespace vlmt
