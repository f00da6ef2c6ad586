#include "cudnn.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

#include "cudago/error.hpp"

namespace cudago::nn {
namespace {

struct Loaded {
  CudnnApi api;
  std::string error;
};

template <class F>
bool resolve(void* lib, const char* name, F& fn, std::string& error, const std::string& path) {
  void* sym = dlsym(lib, name);
  if (sym == nullptr) {
    error = "cuDNN library \"" + path + "\" lacks " + name + "; cudago needs cuDNN 9";
    return false;
  }
  static_assert(sizeof(fn) == sizeof(sym), "function and object pointers differ in size");
  std::memcpy(&fn, &sym, sizeof fn);
  return true;
}

Loaded load() {
  Loaded l;
  const char* env = std::getenv("CUDAGO_CUDNN_LIBRARY");
  const bool from_env = env != nullptr && env[0] != '\0';
  const std::string path = from_env ? env : "libcudnn.so.9";
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    l.error = "cuDNN could not be loaded: dlopen(\"" + path +
              "\") failed: " + (why ? why : "unknown reason") +
              (from_env ? " (the path comes from CUDAGO_CUDNN_LIBRARY)"
                        : "; install cuDNN 9 (libcudnn9-cuda-13, or PyTorch's nvidia-cudnn "
                          "wheel) or set CUDAGO_CUDNN_LIBRARY to libcudnn.so.9's path");
    return l;
  }
  CudnnApi& a = l.api;
  std::string& e = l.error;
#define R(name) resolve(lib, "cudnn" #name, a.name, e, path)
  bool ok = R(GetVersion) && R(GetErrorString) && R(Create) && R(Destroy) && R(SetStream) &&
            R(CreateTensorDescriptor) && R(SetTensor4dDescriptor) && R(SetTensor4dDescriptorEx) &&
            R(DestroyTensorDescriptor) && R(CreateFilterDescriptor) && R(SetFilter4dDescriptor) &&
            R(DestroyFilterDescriptor) && R(CreateConvolutionDescriptor) &&
            R(SetConvolution2dDescriptor) && R(SetConvolutionGroupCount) &&
            R(SetConvolutionMathType) && R(DestroyConvolutionDescriptor) &&
            R(GetConvolution2dForwardOutputDim) && R(FindConvolutionForwardAlgorithmEx) &&
            R(GetConvolutionForwardWorkspaceSize) && R(ConvolutionForward) &&
            R(ConvolutionBiasActivationForward) && R(CreateActivationDescriptor) &&
            R(SetActivationDescriptor) && R(DestroyActivationDescriptor);
#undef R
  if (ok && a.GetVersion() < 90000) {
    l.error = "cuDNN at \"" + path + "\" is version " + std::to_string(a.GetVersion()) +
              "; cudago needs cuDNN 9";
    ok = false;
  }
  if (!ok) l.api = CudnnApi{};
  return l;
}

}  // namespace

const CudnnApi& cudnn() {
  static const Loaded loaded = load();
  if (!loaded.error.empty()) throw Error(Status::kCudnn, loaded.error);
  return loaded.api;
}

void cudnn_check(cudnnStatus_t status, const char* call) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  const char* text = cudnn().GetErrorString(status);
  Status s = status == CUDNN_STATUS_ALLOC_FAILED ? Status::kOutOfMemory : Status::kCudnn;
  throw Error(s, std::string(call) + " failed: " + (text ? text : "?"),
              static_cast<int32_t>(status), text ? text : "");
}

}  // namespace cudago::nn
