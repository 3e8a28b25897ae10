// Row softmax and log-softmax over one contiguous row of n floats, fused with
// the scale and masks attention needs, so scores are read once per pass:
//   z[i] = x[i] * scale + add_mask[i]        (add_mask may be null)
//   z[i] = -inf where keep[i] == 0           (keep may be null)
//   y    = softmax(z) = exp(z - max z) / sum exp(z - max z)
// Numerically stable (max subtracted). A row whose z are all -inf gives NaN,
// exactly as torch.softmax does; any NaN in z makes the whole row NaN, also
// as in PyTorch. In place (x == y) is allowed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace attn::kernels {

void f32_softmax(size_t n, const float* x, float scale, const float* add_mask, const uint8_t* keep, float* y) noexcept;
void f32_softmax__scalar(size_t n, const float* x, float scale, const float* add_mask, const uint8_t* keep,
                         float* y) noexcept;
// y = z - max z - log(sum exp(z - max z)), same masking as f32_softmax.
void f32_log_softmax(size_t n, const float* x, float scale, const float* add_mask, const uint8_t* keep,
                     float* y) noexcept;
void f32_log_softmax__scalar(size_t n, const float* x, float scale, const float* add_mask, const uint8_t* keep,
                             float* y) noexcept;

}  // namespace attn::kernels
