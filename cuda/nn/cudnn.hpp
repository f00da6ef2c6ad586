// cuDNN loaded at run time (dlopen), as NCHW-free as cudago uses it: the legacy convolution API
// (descriptors, algorithm search, forward and fused bias-activation forward). libcudago loads and
// runs everything else without cuDNN; a model that needs it where it is missing gets
// Error(kCudnn) saying how to provide it.
#pragma once

#include <cudnn.h>

#include <string>

namespace cudago::nn {

struct CudnnApi {
  decltype(&cudnnGetVersion) GetVersion = nullptr;
  decltype(&cudnnGetErrorString) GetErrorString = nullptr;
  decltype(&cudnnCreate) Create = nullptr;
  decltype(&cudnnDestroy) Destroy = nullptr;
  decltype(&cudnnSetStream) SetStream = nullptr;
  decltype(&cudnnCreateTensorDescriptor) CreateTensorDescriptor = nullptr;
  decltype(&cudnnSetTensor4dDescriptor) SetTensor4dDescriptor = nullptr;
  decltype(&cudnnSetTensor4dDescriptorEx) SetTensor4dDescriptorEx = nullptr;
  decltype(&cudnnDestroyTensorDescriptor) DestroyTensorDescriptor = nullptr;
  decltype(&cudnnCreateFilterDescriptor) CreateFilterDescriptor = nullptr;
  decltype(&cudnnSetFilter4dDescriptor) SetFilter4dDescriptor = nullptr;
  decltype(&cudnnDestroyFilterDescriptor) DestroyFilterDescriptor = nullptr;
  decltype(&cudnnCreateConvolutionDescriptor) CreateConvolutionDescriptor = nullptr;
  decltype(&cudnnSetConvolution2dDescriptor) SetConvolution2dDescriptor = nullptr;
  decltype(&cudnnSetConvolutionGroupCount) SetConvolutionGroupCount = nullptr;
  decltype(&cudnnSetConvolutionMathType) SetConvolutionMathType = nullptr;
  decltype(&cudnnDestroyConvolutionDescriptor) DestroyConvolutionDescriptor = nullptr;
  decltype(&cudnnGetConvolution2dForwardOutputDim) GetConvolution2dForwardOutputDim = nullptr;
  decltype(&cudnnFindConvolutionForwardAlgorithmEx) FindConvolutionForwardAlgorithmEx = nullptr;
  decltype(&cudnnGetConvolutionForwardWorkspaceSize) GetConvolutionForwardWorkspaceSize = nullptr;
  decltype(&cudnnConvolutionForward) ConvolutionForward = nullptr;
  decltype(&cudnnConvolutionBiasActivationForward) ConvolutionBiasActivationForward = nullptr;
  decltype(&cudnnCreateActivationDescriptor) CreateActivationDescriptor = nullptr;
  decltype(&cudnnSetActivationDescriptor) SetActivationDescriptor = nullptr;
  decltype(&cudnnDestroyActivationDescriptor) DestroyActivationDescriptor = nullptr;
};

// The loaded API (once per process): $CUDAGO_CUDNN_LIBRARY, else libcudnn.so.9 from the
// library path. Throws Error(kCudnn) with the reason when cuDNN 9 cannot be loaded.
const CudnnApi& cudnn();

// Throws Error(kCudnn) naming the call, with cuDNN's error string, when status is not success.
void cudnn_check(cudnnStatus_t status, const char* call);

}  // namespace cudago::nn

#define CUDAGO_CUDNN_TRY(call) ::cudago::nn::cudnn_check((call), #call)
