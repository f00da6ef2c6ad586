// The model handle of the CNN runtime's entry points (nn_api.cpp, serve_api.cpp): shared, so a
// server keeps its model alive after cudago_nn_model_destroy.
#pragma once

#include <memory>

#include "cudago/nn/model.hpp"

struct cudago_nn_model_s {
  std::shared_ptr<cudago::nn::Model> impl;
};
