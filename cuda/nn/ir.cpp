#include "cudago/nn/ir.hpp"

namespace cudago::nn {

void model_error(const std::string& message) { throw Error(Status::kInvalidModel, message); }

int64_t checked_mul(int64_t x, int64_t y, const std::string& what) {
  int64_t r = 0;
  if (__builtin_mul_overflow(x, y, &r)) model_error(what + ": a size overflows 64 bits");
  return r;
}

int64_t checked_add(int64_t x, int64_t y, const std::string& what) {
  int64_t r = 0;
  if (__builtin_add_overflow(x, y, &r)) model_error(what + ": a size overflows 64 bits");
  return r;
}

int64_t Affine::at(int64_t n) const { return checked_add(checked_mul(a, n, "batch"), b, "batch"); }

std::string Affine::str() const {
  if (a == 0) return std::to_string(b);
  std::string s = a == 1 ? "N" : std::to_string(a) + "N";
  if (b > 0) s += "+" + std::to_string(b);
  if (b < 0) s += std::to_string(b);
  return s;
}

Affine affine_add(Affine x, Affine y, const std::string& what) {
  return {checked_add(x.a, y.a, what), checked_add(x.b, y.b, what)};
}

Affine affine_sub(Affine x, Affine y, const std::string& what) {
  if (y.a == INT64_MIN || y.b == INT64_MIN) model_error(what + ": a value overflows 64 bits");
  return affine_add(x, {-y.a, -y.b}, what);
}

Affine affine_mul(Affine x, Affine y, const std::string& what) {
  if (x.a != 0 && y.a != 0) {
    model_error(what + ": the product of two batch-dependent values (" + x.str() + " × " + y.str() +
                ") is not supported");
  }
  if (x.a == 0) std::swap(x, y);  // x may depend on N, y is a constant
  return {checked_mul(x.a, y.b, what), checked_mul(x.b, y.b, what)};
}

namespace {
int64_t floor_div(int64_t x, int64_t y) {
  int64_t q = x / y;
  if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
  return q;
}
}  // namespace

Affine affine_div(Affine x, Affine y, const std::string& what) {
  if (y.a != 0) {
    if (x.b == 0 && y.b == 0 && x.a % y.a == 0) return Affine::constant(x.a / y.a);
    model_error(what + ": division by a batch-dependent value (" + y.str() + ") is not supported");
  }
  if (y.b == 0) model_error(what + ": integer division by zero");
  if (y.b == -1 && (x.a == INT64_MIN || x.b == INT64_MIN)) {
    model_error(what + ": a value overflows 64 bits");
  }
  if (x.a == 0) return Affine::constant(floor_div(x.b, y.b));
  if (x.a % y.b != 0 || x.b % y.b != 0) {
    model_error(what + ": " + x.str() + " / " + std::to_string(y.b) +
                " is not a whole multiple of the batch size");
  }
  return {x.a / y.b, x.b / y.b};
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + s[i].str();
  return r + "]";
}

Affine shape_numel(const Shape& s, const std::string& what) {
  Affine r = Affine::constant(1);
  for (const Affine& d : s) r = affine_mul(r, d, what);
  return r;
}

std::vector<int64_t> shape_at(const Shape& s, int64_t n) {
  std::vector<int64_t> r(s.size());
  for (size_t i = 0; i < s.size(); ++i) r[i] = s[i].at(n);
  return r;
}

const char* dtype_name(DType t) { return t == DType::kF32 ? "float32" : "int64"; }

int64_t Constant::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n = checked_mul(n, d, "constant");
  return n;
}

std::shared_ptr<Constant> Constant::scalar_i64(Affine v) {
  auto c = std::make_shared<Constant>();
  c->dtype = DType::kI64;
  c->i = {v};
  return c;
}

int Graph::add_value(const std::string& name) {
  values.push_back(Value{});
  values.back().name = name;
  return static_cast<int>(values.size()) - 1;
}

}  // namespace cudago::nn
