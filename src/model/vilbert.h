#pragma once
// The ViLBERT trunk ("bert" in the released state_dict): two streams joined by co-attention.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "config/model_config.h"
#include "model/co_attention.h"
#include "model/embeddings.h"
#include "model/linear.h"

namespace vlmt {

struct TrunkOutput {
  torch::Tensor text;          // [B, Lt(+1 with a task token), hidden]
  torch::Tensor image;         // [B, R, v_hidden]
  torch::Tensor pooled_text;   // [B, bi_hidden]  ReLU(dense(h_CLS))
  torch::Tensor pooled_image;  // [B, bi_hidden]  ReLU(dense(h_IMG))
  torch::Tensor text_mask;     // [B, Lt(+1)] 0/1, extended for the task token
};

// One step of the interleaved schedule: a text layer, a visual layer or a co-attention layer.
struct LayerStep {
  char stream;  // 'T', 'V' or 'C'
  int index;
};

// The order in which the encoder runs its layers, from the config's v/t_biattention_id: for
// each pair run the text layers up to t_id and the visual layers up to v_id not yet run, then
// the next co-attention layer; finally the remaining layers of each stream. For the base model:
// T0..T5 C0 | T6 V0 C1 | ... | T10 V4 C5 | V5 T11.
std::vector<LayerStep> layer_schedule(const ModelConfig& c);
std::string describe_schedule(const std::vector<LayerStep>& steps);

// The steps before the first co-attention see one stream only (base: T0..T5; the image side has
// none), so they split into a text prefix, an image prefix and the joint rest. Retrieval evaluation
// uses the split to encode each caption and each image once (tasks/kind_retrieval.cpp).
struct EncoderImpl : torch::nn::Module {
  explicit EncoderImpl(const ModelConfig& c);
  // Masks additive. Returns (text, image). Same as joint(text_prefix(...), image_prefix(...)),
  // in the same order of operations.
  std::pair<torch::Tensor, torch::Tensor> forward(torch::Tensor text, const torch::Tensor& text_mask,
                                                  torch::Tensor image, const torch::Tensor& image_mask);
  torch::Tensor text_prefix(torch::Tensor text, const torch::Tensor& text_mask);
  torch::Tensor image_prefix(torch::Tensor image, const torch::Tensor& image_mask);
  std::pair<torch::Tensor, torch::Tensor> joint(torch::Tensor text, const torch::Tensor& text_mask,
                                                torch::Tensor image, const torch::Tensor& image_mask);
  torch::nn::ModuleList layer{nullptr}, v_layer{nullptr}, c_layer{nullptr};
  std::vector<LayerStep> schedule;
  size_t first_joint_step = 0;  // index of the first co-attention step (schedule.size() if none)

 private:
  torch::Tensor run_layer(const LayerStep& step, torch::Tensor x, const torch::Tensor& mask);
};
TORCH_MODULE(Encoder);

// dense(first token) → ReLU (the released model uses ReLU, not BERT's tanh).
struct PoolerImpl : torch::nn::Module {
  PoolerImpl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& sequence) { return torch::relu(dense(sequence.select(1, 0))); }
  FusedLinear dense{nullptr};
};
TORCH_MODULE(Pooler);

// One stream after its prefix (EncoderImpl): hidden states and the 0/1 mask (the text's is
// extended by the task token).
struct StreamEncoding {
  torch::Tensor hidden;
  torch::Tensor mask;
};

struct ViLBertImpl : torch::nn::Module {
  explicit ViLBertImpl(const ModelConfig& c);
  // input_ids/segment_ids/text_mask [B, Lt]; features [B, R, D]; spatials [B, R, 5];
  // image_mask [B, R]; task_rows [B] or undefined.
  TrunkOutput forward(const torch::Tensor& input_ids, const torch::Tensor& segment_ids,
                      const torch::Tensor& text_mask, const torch::Tensor& features,
                      const torch::Tensor& spatials, const torch::Tensor& image_mask,
                      const torch::Tensor& task_rows);
  // The same forward in parts: each stream up to the first co-attention, then the joint rest on
  // paired rows (row i of text with row i of image). Equal to forward() on the paired inputs.
  StreamEncoding encode_text(const torch::Tensor& input_ids, const torch::Tensor& segment_ids,
                             const torch::Tensor& text_mask, const torch::Tensor& task_rows);
  StreamEncoding encode_image(const torch::Tensor& features, const torch::Tensor& spatials,
                              const torch::Tensor& image_mask);
  TrunkOutput forward_joint(const StreamEncoding& text, const StreamEncoding& image);
  TextEmbeddings embeddings{nullptr};
  ImageEmbeddings v_embeddings{nullptr};
  Encoder encoder{nullptr};
  Pooler t_pooler{nullptr}, v_pooler{nullptr};
};
TORCH_MODULE(ViLBert);

}  // namespace vlmt
