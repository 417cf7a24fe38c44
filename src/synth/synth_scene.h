#pragma once
// Scenes of the synthetic world and their "detector output": a scene is 3–9 objects with colour,
// shape, size and material on a canvas; its regions are one box per object, jittered proposals
// around objects and background boxes, each with a feature vector (fixed random embeddings of the
// attributes plus noise) and a detector class distribution.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "synth/synth_rng.h"

namespace vlmt {

// Attribute vocabularies (index = attribute value).
const std::vector<std::string>& synth_colours();
const std::vector<std::string>& synth_shapes();
const std::vector<std::string>& synth_shape_plurals();
const std::vector<std::string>& synth_sizes();
const std::vector<std::string>& synth_materials();

using Box = std::array<float, 4>;  // x1, y1, x2, y2 in pixels

struct SynthObject {
  int colour = 0, shape = 0, size = 0, material = 0;
  Box box{};
  float center_x() const { return 0.5f * (box[0] + box[2]); }
};

struct SynthScene {
  std::string id;
  int width = 640, height = 480;
  std::vector<SynthObject> objects;
};

float box_iou(const Box& a, const Box& b);

// The scene of an image is a pure function of (world seed, image id): an image shared by two
// pools (COCO and VG) is the same scene in both feature files.
SynthScene make_scene(const std::string& image_id, std::uint64_t world_seed);

struct SynthRegions {
  int count = 0;
  std::vector<float> features;  // [count, dim]
  std::vector<float> boxes;     // [count, 4]
  std::vector<float> cls_prob;  // [count, classes]
};

// Feature space of one world: an embedding per attribute value plus one for background.
class SynthFeatureSpace {
 public:
  SynthFeatureSpace(std::uint64_t world_seed, int feature_dim, int num_classes);
  int dim() const { return dim_; }
  int num_classes() const { return classes_; }
  // Detector class of an object: background is class 0, objects fall into buckets of
  // shape × colour.
  int object_class(const SynthObject& o) const;
  // Detected regions: objects, proposals (IoU 0.4–0.9 with their object), background boxes, at
  // most max_regions; min_regions > 0 adds background boxes up to a count drawn from
  // [min_regions, max_regions] with an rng of its own (min_regions = 0: the scene's own regions).
  SynthRegions detect(const SynthScene& scene, std::uint64_t world_seed, int max_regions,
                      int min_regions = 0) const;
  // Ground-truth regions: one row per object with its exact box (features/<source>_gt.h5).
  SynthRegions ground_truth(const SynthScene& scene, std::uint64_t world_seed) const;

 private:
  void add_region(SynthRegions& out, const Box& box, const SynthObject* object, float overlap,
                  SynthRng& rng) const;
  int dim_, classes_;
  std::vector<std::vector<float>> colour_, shape_, size_, material_;
  std::vector<float> background_;
};

}  // namespace vlmt
