// What a weight packing format provides: its byte size, pack and unpack.
#ifndef TERNARY_QUANT_FORMAT_H_
#define TERNARY_QUANT_FORMAT_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ternary::quant {

// A format is data: constants plus a byte-exact layout. Formats throw
// ShapeError from CheckShape for shapes they cannot hold; everything else
// assumes a checked shape.
//   PackedBytes(rows, cols)          bytes of the packed matrix (no scale)
//   Pack(t, rows, cols, out)         t: rows×cols row-major values in {-1,0,1}
//   Unpack(p, rows, cols, t)         inverse of Pack
//   PreparedActBytes(cols)           per-token scratch its kernels need
//   kRowTile                         rows its kernels compute together (a
//                                    thread's share of rows is a multiple)
template <class F>
concept PackingFormat = requires(const int8_t* t, int8_t* tm, const uint8_t* p,
                                 uint8_t* pm, size_t n) {
  { F::kName } -> std::convertible_to<std::string_view>;
  {F::CheckShape(n, n)};
  { F::PackedBytes(n, n) } -> std::same_as<size_t>;
  {F::Pack(t, n, n, pm)};
  {F::Unpack(p, n, n, tm)};
  { F::PreparedActBytes(n) } -> std::same_as<size_t>;
  { F::kRowTile } -> std::convertible_to<size_t>;
};

}  // namespace ternary::quant

#endif  // TERNARY_QUANT_FORMAT_H_
