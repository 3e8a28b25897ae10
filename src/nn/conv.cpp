#include "nn/conv.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/elementwise.hpp"
#include "kernels/gemm.hpp"
#include "kernels/reduce.hpp"
#include "ops/ops.hpp"

namespace attn::nn {

namespace {

// An NCHW input viewed as 4-D and contiguous; unbatched (C, H, W) becomes N = 1.
struct Nchw {
  Tensor x;
  bool batched;
  int64_t N, C, H, W;
};

Nchw as_nchw(const Tensor& x, const char* what, int64_t channels, bool batched_only = false) {
  ATTN_CHECK(x.defined() && x.dtype() == DType::f32, what, ": input must be a float32 tensor");
  if (batched_only)
    ATTN_CHECK(x.dim() == 4, what, ": expected 4D input (N, C, H, W), got ", x.shape());
  else
    ATTN_CHECK(x.dim() == 3 || x.dim() == 4, what, ": input must be (N, C, H, W) or unbatched (C, H, W), got ",
               x.shape());
  const bool batched = x.dim() == 4;
  Tensor t = (batched ? x : x.unsqueeze(0)).contiguous();
  if (channels >= 0)
    ATTN_CHECK(t.size(1) == channels, what, ": input has ", t.size(1), " channels but the module expects ", channels,
               " (input shape ", x.shape(), ")");
  check_finite_or_inf(t, (std::string(what) + ": input").c_str());
  return {t, batched, t.size(0), t.size(1), t.size(2), t.size(3)};
}

Tensor finish(const Tensor& y, bool batched) { return batched ? y : y.squeeze(0); }

void check_size2(const Size2& s, const char* what, const char* arg, int64_t min) {
  ATTN_CHECK(s.h >= min && s.w >= min, what, ": ", arg, " must be ", min == 0 ? "non-negative" : "positive", ", got (",
             s.h, ", ", s.w, ")");
}

// Effective (dilated) kernel extent d*(k-1)+1 and padded input H+2p, checked.
int64_t dilated(int64_t k, int64_t d, const char* what) { return checked_add(checked_mul(d, k - 1, what), 1, what); }
int64_t padded(int64_t in, int64_t p, const char* what) { return checked_add(in, checked_mul(2, p, what), what); }

// torch's pooling_output_shape for one dimension.
int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode, const char* what) {
  const int64_t span = padded(in, p, what) - dilated(k, d, what);
  if (span < 0) return 0;
  int64_t out = checked_add(span, ceil_mode ? s - 1 : 0, what) / s + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

void check_pool_output(const Nchw& in, int64_t oh, int64_t ow, const char* what) {
  ATTN_CHECK(oh > 0 && ow > 0, what, ": input size (", in.C, "x", in.H, "x", in.W, ") gives output size (", in.C, "x",
             oh, "x", ow, "): output size is too small");
}

void check_pool_padding(const Size2& k, const Size2& p, const char* what) {
  ATTN_CHECK(p.h <= k.h / 2 && p.w <= k.w / 2, what, ": padding should be at most half of kernel size, got padding (",
             p.h, ", ", p.w, ") and kernel_size (", k.h, ", ", k.w, ")");
}

}  // namespace

// ---------------------------------------------------------------- Conv2d

Conv2d::Conv2d(int64_t in, int64_t out, Size2 k, Size2 s, Size2 p, Size2 d, int64_t g, bool with_bias, uint64_t seed)
    : in_channels(in), out_channels(out), kernel_size(k), stride(s), padding(p), dilation(d), groups(g) {
  module_name_ = "Conv2d";
  const char* what = module_name_;
  ATTN_CHECK(in > 0 && out > 0, what, ": in_channels and out_channels must be positive, got ", in, " and ", out);
  ATTN_CHECK(g > 0, what, ": groups must be positive, got ", g);
  ATTN_CHECK(in % g == 0, what, ": in_channels (", in, ") must be divisible by groups (", g, ")");
  ATTN_CHECK(out % g == 0, what, ": out_channels (", out, ") must be divisible by groups (", g, ")");
  check_size2(k, what, "kernel_size", 1);
  check_size2(s, what, "stride", 1);
  check_size2(p, what, "padding", 0);
  check_size2(d, what, "dilation", 1);
  dilated(k.h, d.h, what);
  dilated(k.w, d.w, what);
  const int64_t fan_in = checked_numel({in / g, k.h, k.w}, what);
  const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
  Rng rng(seed);
  weight = rand_uniform({out, in / g, k.h, k.w}, rng, -bound, bound);
  register_parameter("weight", weight);
  if (with_bias) {
    bias = rand_uniform({out}, rng, -bound, bound);
    register_parameter("bias", bias);
  }
}

Size2 Conv2d::output_size(int64_t H, int64_t W) const {
  const char* what = module_name_;
  const int64_t ph = padded(H, padding.h, what), pw = padded(W, padding.w, what);
  const int64_t eh = dilated(kernel_size.h, dilation.h, what), ew = dilated(kernel_size.w, dilation.w, what);
  ATTN_CHECK(ph >= eh && pw >= ew, what, ": padded input size per channel (", ph, " x ", pw,
             ") is smaller than the (dilated) kernel size (", eh, " x ", ew, ")");
  return {(ph - eh) / stride.h + 1, (pw - ew) / stride.w + 1};
}

int64_t Conv2d::cols_floats(int64_t H, int64_t W) const {
  const Size2 o = output_size(H, W);
  return checked_mul(checked_numel({in_channels / groups, kernel_size.h, kernel_size.w}, module_name_),
                     checked_mul(o.h, o.w, module_name_), module_name_);
}

Tensor Conv2d::forward(const Tensor& input) const {
  const char* what = module_name_;
  const Nchw in = as_nchw(input, what, in_channels);
  const Size2 o = output_size(in.H, in.W);
  Tensor y = Tensor::empty({in.N, out_channels, o.h, o.w}, DType::f32, what);
  Tensor cols = Tensor::empty({cols_floats(in.H, in.W)}, DType::f32, what);
  forward(y.data(), in.x.data(), in.N, in.H, in.W, cols.data());
  return finish(y, in.batched);
}

void Conv2d::forward(float* out, const float* x, int64_t N, int64_t H, int64_t W, float* col) const noexcept {
  const int64_t ph = H + 2 * padding.h, pw = W + 2 * padding.w;
  const int64_t OH = (ph - (dilation.h * (kernel_size.h - 1) + 1)) / stride.h + 1;
  const int64_t OW = (pw - (dilation.w * (kernel_size.w - 1) + 1)) / stride.w + 1;
  const int64_t Cg = in_channels / groups, OCg = out_channels / groups, kh = kernel_size.h, kw = kernel_size.w;
  const int64_t K = Cg * kh * kw, OHW = OH * OW;
  const float* w = weight.data();
  const float* b = bias.defined() ? bias.data() : nullptr;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t g = 0; g < groups; ++g) {
      // im2col: row (c, i, j) holds, for every output position, the input under kernel tap (i, j).
      for (int64_t c = 0; c < Cg; ++c) {
        const float* plane = x + ((n * in_channels) + g * Cg + c) * H * W;
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            float* row = col + ((c * kh + i) * kw + j) * OHW;
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * stride.h - padding.h + i * dilation.h;
              float* dst = row + oh * OW;
              if (ih < 0 || ih >= H) {
                std::fill(dst, dst + OW, 0.0f);
                continue;
              }
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t iw = ow * stride.w - padding.w + j * dilation.w;
                dst[ow] = iw >= 0 && iw < W ? plane[ih * W + iw] : 0.0f;
              }
            }
          }
      }
      float* dst = out + (n * out_channels + g * OCg) * OHW;
      if (b)
        for (int64_t o = 0; o < OCg; ++o) std::fill(dst + o * OHW, dst + (o + 1) * OHW, b[g * OCg + o]);
      kernels::f32_gemm(false, false, static_cast<size_t>(OCg), static_cast<size_t>(OHW), static_cast<size_t>(K), 1.0f,
                        w + g * OCg * K, static_cast<size_t>(K), col, static_cast<size_t>(OHW), b ? 1.0f : 0.0f, dst,
                        static_cast<size_t>(OHW));
    }
  }
}

// ---------------------------------------------------------------- BatchNorm2d

BatchNorm2d::BatchNorm2d(int64_t C, float eps_, std::optional<float> momentum_, bool affine_, bool track)
    : num_features(C), eps(eps_), momentum(momentum_), affine(affine_), track_running_stats(track) {
  module_name_ = "BatchNorm2d";
  ATTN_CHECK(C > 0, "BatchNorm2d: num_features must be positive, got ", C);
  ATTN_CHECK(eps > 0.0f && std::isfinite(eps), "BatchNorm2d: eps must be positive, got ", eps);
  ATTN_CHECK(!momentum || (*momentum >= 0.0f && *momentum <= 1.0f), "BatchNorm2d: momentum must be in [0, 1], got ",
             momentum.value_or(0.0f));
  if (affine) {
    weight = Tensor::full({C}, 1.0f);
    bias = Tensor::zeros({C});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
  if (track) {
    running_mean = Tensor::zeros({C});
    running_var = Tensor::full({C}, 1.0f);
    num_batches_tracked = Tensor::zeros({});
    register_buffer("running_mean", running_mean);
    register_buffer("running_var", running_var);
    register_buffer("num_batches_tracked", num_batches_tracked);
  }
}

Tensor BatchNorm2d::forward(const Tensor& input) {
  const char* what = module_name_;
  const Nchw in = as_nchw(input, what, num_features, true);
  const int64_t N = in.N, C = in.C, HW = checked_mul(in.H, in.W, what), count = checked_mul(N, HW, what);
  const bool use_batch = training_ || !track_running_stats;
  if (training_)
    ATTN_CHECK(count > 1, what, ": expected more than 1 value per channel when training, got input size ",
               input.shape());
  const float* x = in.x.data();
  std::vector<double> mean(static_cast<size_t>(C)), var(static_cast<size_t>(C));
  if (use_batch) {
    ATTN_CHECK(count > 0, what, ": input ", input.shape(), " has no values per channel");
    std::vector<float> centred(static_cast<size_t>(HW));
    for (int64_t c = 0; c < C; ++c) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n) s += kernels::f32_sum(HW, x + (n * C + c) * HW);
      const double m = s / static_cast<double>(count);
      double ss = 0;
      for (int64_t n = 0; n < N; ++n) {
        kernels::f32_add_scalar_b(HW, x + (n * C + c) * HW, static_cast<float>(-m), centred.data());
        ss += kernels::f32_dot(HW, centred.data(), centred.data());
      }
      mean[c] = m;
      var[c] = ss / static_cast<double>(count);  // biased: what the normalisation uses
    }
    if (training_ && track_running_stats) {
      float* nbt = num_batches_tracked.data();
      nbt[0] += 1.0f;
      const double f = momentum ? *momentum : 1.0 / nbt[0];
      float* rm = running_mean.data();
      float* rv = running_var.data();
      const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
      for (int64_t c = 0; c < C; ++c) {
        rm[c] = static_cast<float>((1 - f) * rm[c] + f * mean[c]);
        rv[c] = static_cast<float>((1 - f) * rv[c] + f * var[c] * unbias);
      }
    }
  } else {
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = running_mean.data()[c];
      var[c] = running_var.data()[c];
    }
  }
  Tensor y = Tensor::empty(in.x.shape(), DType::f32, what);
  for (int64_t c = 0; c < C; ++c) normalize_channel(y.data(), x, N, HW, c, mean[c], var[c]);
  return y;
}

void BatchNorm2d::forward_eval_(float* x, int64_t N, int64_t HW) const noexcept {
  const float* rm = running_mean.data();
  const float* rv = running_var.data();
  for (int64_t c = 0; c < num_features; ++c) normalize_channel(x, x, N, HW, c, rm[c], rv[c]);
}

void BatchNorm2d::normalize_channel(float* out, const float* x, int64_t N, int64_t HW, int64_t c, double mean,
                                    double var) const noexcept {
  const int64_t C = num_features;
  const double inv = 1.0 / std::sqrt(var + eps);
  const double scale = affine ? weight.data()[c] * inv : inv;
  const double shift = (affine ? bias.data()[c] : 0.0) - mean * scale;
  for (int64_t n = 0; n < N; ++n) {
    float* dst = out + (n * C + c) * HW;
    kernels::f32_scale(HW, x + (n * C + c) * HW, static_cast<float>(scale), dst);
    kernels::f32_add_scalar_b(HW, dst, static_cast<float>(shift), dst);
  }
}

// ---------------------------------------------------------------- pooling

MaxPool2d::MaxPool2d(Size2 k, std::optional<Size2> s, Size2 p, Size2 d, bool ceil)
    : kernel_size(k), stride(s.value_or(k)), padding(p), dilation(d), ceil_mode(ceil) {
  module_name_ = "MaxPool2d";
  check_size2(k, module_name_, "kernel_size", 1);
  check_size2(stride, module_name_, "stride", 1);
  check_size2(p, module_name_, "padding", 0);
  check_size2(d, module_name_, "dilation", 1);
  check_pool_padding(k, p, module_name_);
}

Tensor MaxPool2d::forward(const Tensor& input) const {
  const char* what = module_name_;
  const Nchw in = as_nchw(input, what, -1);
  const int64_t OH = pool_out(in.H, kernel_size.h, stride.h, padding.h, dilation.h, ceil_mode, what);
  const int64_t OW = pool_out(in.W, kernel_size.w, stride.w, padding.w, dilation.w, ceil_mode, what);
  check_pool_output(in, OH, OW, what);
  Tensor y = Tensor::empty({in.N, in.C, OH, OW}, DType::f32, what);
  const float* x = in.x.data();
  float* out = y.data();
  for (int64_t nc = 0; nc < in.N * in.C; ++nc) {
    const float* plane = x + nc * in.H * in.W;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t i = 0; i < kernel_size.h; ++i) {
          const int64_t ih = oh * stride.h - padding.h + i * dilation.h;
          if (ih < 0 || ih >= in.H) continue;
          for (int64_t j = 0; j < kernel_size.w; ++j) {
            const int64_t iw = ow * stride.w - padding.w + j * dilation.w;
            if (iw >= 0 && iw < in.W) m = std::max(m, plane[ih * in.W + iw]);
          }
        }
        out[(nc * OH + oh) * OW + ow] = m;
      }
  }
  return finish(y, in.batched);
}

AvgPool2d::AvgPool2d(Size2 k, std::optional<Size2> s, Size2 p, bool ceil, bool include_pad,
                     std::optional<int64_t> divisor)
    : kernel_size(k),
      stride(s.value_or(k)),
      padding(p),
      ceil_mode(ceil),
      count_include_pad(include_pad),
      divisor_override(divisor) {
  module_name_ = "AvgPool2d";
  check_size2(k, module_name_, "kernel_size", 1);
  check_size2(stride, module_name_, "stride", 1);
  check_size2(p, module_name_, "padding", 0);
  check_pool_padding(k, p, module_name_);
  ATTN_CHECK(!divisor || *divisor != 0, "AvgPool2d: divisor_override must not be zero");
}

Tensor AvgPool2d::forward(const Tensor& input) const {
  const char* what = module_name_;
  const Nchw in = as_nchw(input, what, -1);
  const int64_t OH = pool_out(in.H, kernel_size.h, stride.h, padding.h, 1, ceil_mode, what);
  const int64_t OW = pool_out(in.W, kernel_size.w, stride.w, padding.w, 1, ceil_mode, what);
  check_pool_output(in, OH, OW, what);
  Tensor y = Tensor::empty({in.N, in.C, OH, OW}, DType::f32, what);
  const float* x = in.x.data();
  float* out = y.data();
  for (int64_t nc = 0; nc < in.N * in.C; ++nc) {
    const float* plane = x + nc * in.H * in.W;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        // torch's avg_pool2d: the window clipped to the padded input counts for count_include_pad,
        // the window clipped to the input is what is summed.
        int64_t h0 = oh * stride.h - padding.h, w0 = ow * stride.w - padding.w;
        int64_t h1 = std::min(h0 + kernel_size.h, in.H + padding.h), w1 = std::min(w0 + kernel_size.w, in.W + padding.w);
        const int64_t pool_size = (h1 - h0) * (w1 - w0);
        h0 = std::max<int64_t>(h0, 0);
        w0 = std::max<int64_t>(w0, 0);
        h1 = std::min(h1, in.H);
        w1 = std::min(w1, in.W);
        float& dst = out[(nc * OH + oh) * OW + ow];
        if (h0 >= h1 || w0 >= w1) {
          dst = 0.0f;
          continue;
        }
        float sum = 0.0f;
        for (int64_t ih = h0; ih < h1; ++ih) sum += kernels::f32_sum(w1 - w0, plane + ih * in.W + w0);
        const int64_t divide = divisor_override ? *divisor_override
                               : count_include_pad ? pool_size
                                                   : (h1 - h0) * (w1 - w0);
        dst = sum / static_cast<float>(divide);
      }
  }
  return finish(y, in.batched);
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2 out) : output_size(out) {
  module_name_ = "AdaptiveAvgPool2d";
  check_size2(out, module_name_, "output_size", 1);
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& input) const {
  const char* what = module_name_;
  const Nchw in = as_nchw(input, what, -1);
  ATTN_CHECK(in.H > 0 && in.W > 0, what, ": input ", input.shape(), " has an empty spatial extent");
  Tensor y = Tensor::empty({in.N, in.C, output_size.h, output_size.w}, DType::f32, what);
  forward(y.data(), in.x.data(), checked_mul(in.N, in.C, what), in.H, in.W);
  return finish(y, in.batched);
}

void AdaptiveAvgPool2d::forward(float* out, const float* x, int64_t NC, int64_t H, int64_t W) const noexcept {
  const int64_t OH = output_size.h, OW = output_size.w;
  for (int64_t nc = 0; nc < NC; ++nc) {
    const float* plane = x + nc * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const int64_t h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        float sum = 0.0f;
        for (int64_t ih = h0; ih < h1; ++ih) sum += kernels::f32_sum(w1 - w0, plane + ih * W + w0);
        out[(nc * OH + oh) * OW + ow] = sum / static_cast<float>((h1 - h0) * (w1 - w0));
      }
    }
  }
}

}  // namespace attn::nn
