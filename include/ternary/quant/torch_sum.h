// The float32 sum PyTorch computes on a CPU (one thread), bit for bit.
//
// The published ternary weights were made by PyTorch: α = 1/(1/mean|W|)
// with a float32 mean (docs/formats.md §10.1, §11), and transformers ternarizes
// bf16 master weights the same way at load time. A correctly rounded mean
// differs from PyTorch's in the last bits for about half of the matrices,
// and a one-ulp α already moves int8 activation codes across rounding
// boundaries downstream. Summing in PyTorch's order gives the very α of
// bitnet.cpp's GGUFs and of transformers.
//
// The order (aten/src/ATen/native/cpu/SumKernel.cpp, `cascade_sum`, as of
// PyTorch 1.13–2.x): the input is read as vectors of kLanes floats (8 for
// the AVX2 and default builds); vector i goes to accumulator row i % 4;
// each row is a four-level cascade that flushes a level every 2^p vectors
// (p = max(4, ⌈log2 n⌉/4)); the rows are added 0+1+2+3, the scalar tail
// is summed from 0, then the lanes are added to it one by one.
#ifndef TERNARY_QUANT_TORCH_SUM_H_
#define TERNARY_QUANT_TORCH_SUM_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace ternary::quant {

namespace torch_sum_detail {

// ⌈log2 x⌉, at least 1 (PyTorch's utils::CeilLog2).
inline size_t CeilLog2(size_t x) {
  return x <= 2 ? 1 : static_cast<size_t>(std::bit_width(x - 1));
}

// Sums `size` groups of four items: item(4·i + k) into row k, each row a
// cascade of kLevels accumulators (multi_row_sum). T is a float or a vector.
template <class T, class Item, class AddTo>
std::array<T, 4> MultiRowSum(size_t size, Item&& item, AddTo&& add_to) {
  constexpr size_t kLevels = 4;
  const size_t level_power = std::max<size_t>(4, CeilLog2(size) / kLevels);
  const size_t level_step = size_t{1} << level_power;
  const size_t level_mask = level_step - 1;
  T acc[kLevels][4] = {};
  size_t i = 0;
  while (i + level_step <= size) {
    for (size_t j = 0; j < level_step; ++j, ++i) {
      for (size_t k = 0; k < 4; ++k) add_to(acc[0][k], item(4 * i + k));
    }
    for (size_t j = 1; j < kLevels; ++j) {
      for (size_t k = 0; k < 4; ++k) {
        add_to(acc[j][k], acc[j - 1][k]);
        acc[j - 1][k] = T{};
      }
      if ((i & (level_mask << (j * level_power))) != 0) break;
    }
  }
  for (; i < size; ++i) {
    for (size_t k = 0; k < 4; ++k) add_to(acc[0][k], item(4 * i + k));
  }
  for (size_t j = 1; j < kLevels; ++j) {
    for (size_t k = 0; k < 4; ++k) add_to(acc[0][k], acc[j][k]);
  }
  return {acc[0][0], acc[0][1], acc[0][2], acc[0][3]};
}

// row_sum: groups of four, the leftover items into row 0, then 0+1+2+3.
template <class T, class Item, class AddTo>
T RowSum(size_t n, Item&& item, AddTo&& add_to) {
  const size_t groups = n / 4;
  std::array<T, 4> p = MultiRowSum<T>(groups, item, add_to);
  for (size_t i = groups * 4; i < n; ++i) add_to(p[0], item(i));
  for (size_t k = 1; k < 4; ++k) add_to(p[0], p[k]);
  return p[0];
}

}  // namespace torch_sum_detail

// Σ f(x[i]) for i < n in PyTorch's order; f is applied elementwise first
// (e.g. fabs for `x.abs().sum()`). kLanes = 8: PyTorch's AVX2 and default
// CPU builds; 16: its AVX-512 build.
template <size_t kLanes = 8, class Fn>
float TorchSum(const float* x, size_t n, Fn&& f) {
  using Vec = std::array<float, kLanes>;
  auto add = [](float& a, float b) { a += b; };
  if (n < kLanes) {  // too short for a vector: scalar row_sum
    return torch_sum_detail::RowSum<float>(
        n, [&](size_t i) { return f(x[i]); }, add);
  }
  const size_t vectors = n / kLanes;
  const Vec v = torch_sum_detail::RowSum<Vec>(
      vectors,
      [&](size_t i) {
        Vec r;
        for (size_t l = 0; l < kLanes; ++l) r[l] = f(x[i * kLanes + l]);
        return r;
      },
      [](Vec& a, const Vec& b) {
        for (size_t l = 0; l < kLanes; ++l) a[l] += b[l];
      });
  float acc = 0.0f;
  for (size_t i = vectors * kLanes; i < n; ++i) acc += f(x[i]);
  for (size_t l = 0; l < kLanes; ++l) acc += v[l];
  return acc;
}

}  // namespace ternary::quant

#endif  // TERNARY_QUANT_TORCH_SUM_H_
