#include "core/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <numeric>

namespace attn {

const char* dtype_name(DType dtype) { return dtype == DType::f32 ? "float32" : "bool"; }

Shape contiguous_strides(const Shape& shape) {
  checked_numel(shape, "strides of shape");  // indexable: no stride below can overflow
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

Storage::Storage(uint64_t bytes, const char* what) : Storage(bytes, 0, what) {}

Storage::Storage(uint64_t bytes, uint64_t limit, const char* what) : data_(nullptr), bytes_(0), owned_(true) {
  constexpr uint64_t kAlign = 64;
  if (limit == 0) {
    ATTN_CHECK(bytes <= max_tensor_bytes(), what, ": ", bytes_str(bytes), " is more than the per-tensor limit of ",
               bytes_str(max_tensor_bytes()));
  } else {
    ATTN_CHECK(bytes <= limit, what, ": ", bytes_str(bytes), " is more than the limit of ", bytes_str(limit));
  }
  AllocationCap::charge(bytes);
  const uint64_t rounded = std::max<uint64_t>(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);  // 64-bit: no wrap
  ATTN_CHECK(rounded <= SIZE_MAX, what, ": ", bytes_str(bytes), " does not fit in this platform's address space");
  data_ = std::aligned_alloc(kAlign, static_cast<size_t>(rounded));
  if (!data_) fail(what, ": out of memory allocating ", bytes_str(bytes));
  bytes_ = static_cast<size_t>(bytes);
}
Storage::Storage(void* external, size_t bytes) : data_(external), bytes_(bytes), owned_(false) {}
Storage::~Storage() {
  if (owned_) std::free(data_);
}

Tensor Tensor::empty(const Shape& shape, DType dtype, const char* what) {
  const uint64_t bytes = checked_bytes(shape, dtype_size(dtype), what);
  Tensor t;
  t.storage_ = std::make_shared<Storage>(bytes, what);
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, const char* what) {
  Tensor t = empty(shape, dtype, what);
  std::memset(t.raw_data(), 0, static_cast<size_t>(t.numel()) * dtype_size(dtype));
  return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  t.fill_(value);
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape) {
  Tensor t = empty(shape);
  ATTN_CHECK(static_cast<int64_t>(values.size()) == t.numel(), "tensor: ", values.size(),
             " values do not fill shape ", shape, " (", t.numel(), " elements)");
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor Tensor::from_mask(const std::vector<uint8_t>& values, const Shape& shape) {
  Tensor t = empty(shape, DType::u8);
  ATTN_CHECK(static_cast<int64_t>(values.size()) == t.numel(), "tensor: ", values.size(),
             " values do not fill shape ", shape, " (", t.numel(), " elements)");
  uint8_t* out = t.data_u8();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i] != 0;
  return t;
}

Tensor Tensor::from_blob(void* data, const Shape& shape, DType dtype) {
  const uint64_t bytes = static_cast<uint64_t>(checked_numel(shape, "from_blob: shape")) * dtype_size(dtype);
  ATTN_CHECK(bytes <= SIZE_MAX, "from_blob: shape ", shape, " does not fit in this platform's address space");
  Tensor t;
  t.storage_ = std::make_shared<Storage>(data, static_cast<size_t>(bytes));
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::view_of(std::shared_ptr<Storage> storage, int64_t offset, const Shape& shape, DType dtype,
                       const char* what) {
  ATTN_CHECK(storage != nullptr, what, ": no storage");
  const uint64_t bytes = checked_bytes(shape, dtype_size(dtype), what);
  const uint64_t start = static_cast<uint64_t>(offset) * dtype_size(dtype);
  ATTN_CHECK(offset >= 0 && start <= storage->bytes() && bytes <= storage->bytes() - start, what, ": shape ", shape,
             " at element ", offset, " does not fit in ", bytes_str(storage->bytes()));
  Tensor t;
  t.storage_ = std::move(storage);
  t.offset_ = offset;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

int64_t Tensor::wrap_dim(int64_t d, int64_t ndim, const char* what) const {
  ATTN_CHECK(d >= -ndim && d < ndim, what, ": dim ", d, " is out of range for a tensor of shape ", shape_);
  return d < 0 ? d + ndim : d;
}

int64_t Tensor::size(int64_t d) const { return shape_[wrap_dim(d, dim(), "size")]; }

bool Tensor::is_contiguous() const noexcept {
  if (numel() == 0) return true;
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

void Tensor::fail_undefined() { fail("tensor: the tensor is undefined"); }
void Tensor::fail_dtype(DType want) const {
  fail("tensor: expected ", dtype_name(want), " data but the tensor is ", dtype_name(dtype_));
}

float Tensor::at(std::initializer_list<int64_t> index) const {
  ATTN_CHECK(static_cast<int64_t>(index.size()) == dim(), "at: index has ", index.size(),
             " entries but the tensor has shape ", shape_);
  int64_t off = 0, i = 0;
  for (int64_t v : index) {
    ATTN_CHECK(v >= 0 && v < shape_[i], "at: index ", v, " is out of range for dim ", i, " of shape ", shape_);
    off += v * strides_[i++];
  }
  if (dtype_ == DType::u8) return static_cast<const uint8_t*>(raw_data())[off];
  return static_cast<const float*>(raw_data())[off];
}

Tensor Tensor::view(Shape shape) const {
  ATTN_CHECK(is_contiguous(), "view: tensor of shape ", shape_, " is not contiguous; use reshape");
  return reshape(std::move(shape));
}

Tensor Tensor::reshape(Shape shape) const {
  int64_t infer = -1;
  Shape known_dims;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      ATTN_CHECK(infer < 0, "reshape: only one dimension can be -1, got ", shape);
      infer = static_cast<int64_t>(i);
    } else {
      ATTN_CHECK(shape[i] >= 0, "reshape: invalid dimension in ", shape);
      known_dims.push_back(shape[i]);
    }
  }
  const int64_t known = checked_numel(known_dims, "reshape: shape");
  if (infer >= 0) {
    ATTN_CHECK(known != 0 && numel() % known == 0, "reshape: shape ", shape, " is invalid for input of shape ", shape_);
    shape[infer] = numel() / known;
  }
  ATTN_CHECK(checked_numel(shape, "reshape: shape") == numel(), "reshape: shape ", shape,
             " is invalid for input of shape ", shape_, " (", numel(), " elements)");
  Tensor src = contiguous();
  Tensor t = src;
  t.shape_ = std::move(shape);
  t.strides_ = contiguous_strides(t.shape_);
  return t;
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  d0 = wrap_dim(d0, dim(), "transpose");
  d1 = wrap_dim(d1, dim(), "transpose");
  Tensor t = *this;
  std::swap(t.shape_[d0], t.shape_[d1]);
  std::swap(t.strides_[d0], t.strides_[d1]);
  return t;
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  ATTN_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: ", dims.size(), " dims given for shape ", shape_);
  Tensor t = *this;
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    ATTN_CHECK(!seen[d], "permute: dim ", d, " repeated");
    seen[d] = true;
    t.shape_[i] = shape_[d];
    t.strides_[i] = strides_[d];
  }
  return t;
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end) const {
  d = wrap_dim(d, dim(), "slice");
  ATTN_CHECK(start >= 0 && start <= end && end <= shape_[d], "slice: range [", start, ", ", end,
             ") is out of bounds for dim ", d, " of shape ", shape_);
  Tensor t = *this;
  t.offset_ += start * strides_[d];
  t.shape_[d] = end - start;
  return t;
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim(d, dim(), "select");
  ATTN_CHECK(index >= -shape_[d] && index < shape_[d], "select: index ", index, " is out of range for dim ", d,
             " of shape ", shape_);
  if (index < 0) index += shape_[d];
  Tensor t = *this;
  t.offset_ += index * strides_[d];
  t.shape_.erase(t.shape_.begin() + d);
  t.strides_.erase(t.strides_.begin() + d);
  return t;
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Tensor t = *this;
  int64_t stride = d < dim() ? strides_[d] * shape_[d] : 1;
  t.shape_.insert(t.shape_.begin() + d, 1);
  t.strides_.insert(t.strides_.begin() + d, stride);
  return t;
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d, dim(), "squeeze");
  if (shape_[d] != 1) return *this;
  Tensor t = *this;
  t.shape_.erase(t.shape_.begin() + d);
  t.strides_.erase(t.strides_.begin() + d);
  return t;
}

Tensor Tensor::expand(const Shape& shape) const {
  ATTN_CHECK(shape.size() >= shape_.size(), "expand: cannot expand shape ", shape_, " to ", shape);
  Tensor t = *this;
  size_t lead = shape.size() - shape_.size();
  t.shape_ = shape;
  t.strides_.assign(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) continue;
    int64_t src = shape_[i - lead];
    if (src == shape[i]) {
      t.strides_[i] = strides_[i - lead];
    } else {
      ATTN_CHECK(src == 1, "expand: cannot expand shape ", shape_, " to ", shape);
    }
  }
  return t;
}

namespace {
// Calls fn(dst_offset, src_offset) for every element, walking dst's shape.
template <class Fn>
void for_each_index(const Shape& shape, const Shape& a_strides, const Shape& b_strides, Fn fn) {
  const size_t nd = shape.size();
  int64_t total = 1;
  for (int64_t d : shape) total *= d;
  if (total == 0) return;
  std::vector<int64_t> idx(nd, 0);
  int64_t a = 0, b = 0;
  for (int64_t n = 0; n < total; ++n) {
    fn(a, b);
    for (size_t k = nd; k-- > 0;) {
      if (++idx[k] < shape[k]) {
        a += a_strides[k];
        b += b_strides[k];
        break;
      }
      a -= a_strides[k] * (shape[k] - 1);
      b -= b_strides[k] * (shape[k] - 1);
      idx[k] = 0;
    }
  }
}
}  // namespace

void Tensor::copy_(const Tensor& src_in) {
  Tensor src = src_in.expand(shape_);
  const size_t es = dtype_size(dtype_);
  char* dst = static_cast<char*>(raw_data());
  const char* s = static_cast<const char*>(src.raw_data());
  if (is_contiguous() && src.is_contiguous() && dtype_ == src.dtype_) {
    std::memmove(dst, s, static_cast<size_t>(numel()) * es);
    return;
  }
  if (dtype_ == src.dtype_) {
    for_each_index(shape_, strides_, src.strides_, [&](int64_t a, int64_t b) {
      std::memcpy(dst + a * es, s + b * es, es);
    });
  } else if (dtype_ == DType::f32) {
    for_each_index(shape_, strides_, src.strides_, [&](int64_t a, int64_t b) {
      reinterpret_cast<float*>(dst)[a] = static_cast<float>(reinterpret_cast<const uint8_t*>(s)[b]);
    });
  } else {
    for_each_index(shape_, strides_, src.strides_, [&](int64_t a, int64_t b) {
      reinterpret_cast<uint8_t*>(dst)[a] = reinterpret_cast<const float*>(s)[b] != 0.0f;
    });
  }
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_);
  t.copy_(*this);
  return t;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor t = empty(shape_, dtype);
  t.copy_(*this);
  return t;
}

std::vector<float> Tensor::to_vector() const {
  Tensor c = to(DType::f32).contiguous();
  const float* p = c.data();
  return std::vector<float>(p, p + c.numel());
}

void Tensor::fill_(float value) {
  if (dtype_ == DType::f32) {
    float* p = static_cast<float*>(raw_data());
    for_each_index(shape_, strides_, strides_, [&](int64_t a, int64_t) { p[a] = value; });
  } else {
    uint8_t* p = static_cast<uint8_t*>(raw_data());
    for_each_index(shape_, strides_, strides_, [&](int64_t a, int64_t) { p[a] = value != 0.0f; });
  }
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* what) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i + a.size() >= n ? a[i + a.size() - n] : 1;
    int64_t db = i + b.size() >= n ? b[i + b.size() - n] : 1;
    ATTN_CHECK(da == db || da == 1 || db == 1, what, ": shapes ", a, " and ", b, " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace attn
