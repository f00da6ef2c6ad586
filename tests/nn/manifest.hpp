// Reads the test cases scripts/gen-models.py writes: NAME.test manifests naming an ONNX model,
// its load options and runs with input and onnxruntime output tensors (raw float32 files).
#pragma once

#include <dirent.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace nn_test {

struct TensorFile {
  std::string name;
  std::vector<int64_t> dims;
  std::string path;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
  std::vector<float> read() const {
    std::ifstream in(path, std::ios::binary);
    std::vector<float> v(static_cast<size_t>(numel()));
    if (!in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4))) {
      throw std::runtime_error("cannot read " + std::to_string(v.size() * 4) + " bytes of " + path);
    }
    return v;
  }
};

struct Run {
  std::vector<TensorFile> inputs, outputs;
  int64_t batch() const { return inputs.empty() || inputs[0].dims.empty() ? 1 : inputs[0].dims[0]; }
};

struct Case {
  std::string name, dir, model, sha256, kind;
  int64_t max_batch = 1;
  double rtol = 1e-4, atol = 1e-5;
  std::vector<Run> runs;
  std::string model_path() const { return dir + "/" + model; }
};

inline Case read_case(const std::string& dir, const std::string& file) {
  Case c;
  c.dir = dir;
  c.name = file.substr(0, file.size() - 5);
  std::ifstream in(dir + "/" + file);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    if (!(ls >> key) || key[0] == '#') continue;
    if (key == "model") ls >> c.model;
    if (key == "sha256") ls >> c.sha256;
    if (key == "kind") ls >> c.kind;
    if (key == "max_batch") ls >> c.max_batch;
    if (key == "tol") ls >> c.rtol >> c.atol;
    if (key == "run") c.runs.emplace_back();
    if (key == "input" || key == "output") {
      if (c.runs.empty()) throw std::runtime_error(file + ": " + key + " before run");
      TensorFile t;
      std::string type;
      ls >> t.name >> type;
      std::vector<std::string> rest;
      std::string w;
      while (ls >> w) rest.push_back(w);
      if (type != "f32" || rest.empty()) throw std::runtime_error(file + ": bad line: " + line);
      t.path = dir + "/" + rest.back();
      for (size_t i = 0; i + 1 < rest.size(); ++i) t.dims.push_back(std::stoll(rest[i]));
      (key == "input" ? c.runs.back().inputs : c.runs.back().outputs).push_back(t);
    }
  }
  if (c.model.empty()) throw std::runtime_error(file + ": no model line");
  return c;
}

// The directory of the generated models: $CUDAGO_MODELS_DIR (set by meson test).
inline std::string models_dir() {
  const char* d = std::getenv("CUDAGO_MODELS_DIR");
  return d ? d : "";
}

inline std::vector<Case> read_cases(const std::string& dir) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".test") == 0) files.push_back(n);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  std::vector<Case> cases;
  for (const auto& f : files) cases.push_back(read_case(dir, f));
  return cases;
}

// Largest violation of |got - want| <= atol + rtol * |want| as a ratio (> 1 fails), and where.
struct Compare {
  double worst = 0;
  int64_t at = -1;
  float got = 0, want = 0;
  bool ok() const { return worst <= 1.0; }
};

inline Compare compare(const float* got, const float* want, int64_t n, double rtol, double atol) {
  Compare c;
  for (int64_t i = 0; i < n; ++i) {
    double g = got[i], w = want[i];
    double bound = atol + rtol * (w < 0 ? -w : w);
    double err = g - w;
    if (err < 0) err = -err;
    double r = (g != g) ? 1e30 : err / bound;  // NaN fails
    if (r > c.worst) {
      c.worst = r;
      c.at = i;
      c.got = got[i];
      c.want = want[i];
    }
  }
  return c;
}

}  // namespace nn_test
