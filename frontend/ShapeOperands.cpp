#include "frontend/ShapeOperands.h"

#include "frontend/ConstantEval.h"

#include <algorithm>

namespace lathe {

bool intsOperand(const NodeImporter &n, size_t input, const char *attr,
                 int64_t inputFrom, std::optional<std::vector<int64_t>> &out,
                 std::string &error) {
  out.reset();
  if (n.opset < inputFrom) {
    out = n.attrInts(attr);
    return true;
  }
  if (!n.hasInput(input))
    return true;
  const Tensor *t = n.constInput(input);
  std::vector<int64_t> values;
  if (!t || !readInts(*t, values)) {
    error = std::string("the ") + attr +
            " input must be a constant integer tensor (lathe compiles static "
            "shapes)";
    return false;
  }
  out = std::move(values);
  return true;
}

namespace {

bool normaliseAxes(std::vector<int64_t> &axes, int64_t rank,
                   std::string &error) {
  std::vector<bool> seen(rank, false);
  for (int64_t &a : axes) {
    if (a < -rank || a >= rank) {
      error = "axis " + std::to_string(a) + " is out of range for rank " +
              std::to_string(rank);
      return false;
    }
    if (a < 0)
      a += rank;
    if (seen[a]) {
      error = "axis " + std::to_string(a) + " is repeated";
      return false;
    }
    seen[a] = true;
  }
  return true;
}

} // namespace

bool sliceParams(const NodeImporter &n, const Shape &in, Shape &offsets,
                 Shape &sizes, Shape &strides, std::string &error) {
  std::optional<std::vector<int64_t>> starts, ends, axes, steps;
  if (!intsOperand(n, 1, "starts", 10, starts, error) ||
      !intsOperand(n, 2, "ends", 10, ends, error) ||
      !intsOperand(n, 3, "axes", 10, axes, error) ||
      (n.opset >= 10 && !intsOperand(n, 4, "steps", 10, steps, error)))
    return false;
  if (!starts || !ends || starts->size() != ends->size()) {
    error = "starts and ends must be given, with one value per axis";
    return false;
  }
  size_t count = starts->size();
  int64_t rank = in.size();
  if (!axes) {
    axes.emplace();
    for (size_t i = 0; i < count; ++i)
      axes->push_back(i);
  }
  if (!steps)
    steps = std::vector<int64_t>(count, 1);
  if (axes->size() != count || steps->size() != count) {
    error = "starts, ends, axes and steps differ in length";
    return false;
  }
  if (!normaliseAxes(*axes, rank, error))
    return false;
  offsets.assign(rank, 0);
  sizes = in;
  strides.assign(rank, 1);
  for (size_t i = 0; i < count; ++i) {
    int64_t axis = (*axes)[i], dim = in[axis], step = (*steps)[i];
    int64_t start = (*starts)[i], end = (*ends)[i];
    if (step == 0) {
      error = "steps must be non-zero";
      return false;
    }
    if (start < 0)
      start += dim;
    if (end < 0)
      end += dim;
    int64_t size;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      size = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, std::max<int64_t>(dim - 1, 0));
      end = std::clamp<int64_t>(end, -1, dim - 1);
      size = dim > 0 && start > end ? (start - end - step - 1) / -step : 0;
    }
    offsets[axis] = size > 0 ? start : 0;
    sizes[axis] = size;
    strides[axis] = step;
  }
  return true;
}

bool squeezeShape(const NodeImporter &n, const Shape &in, Shape &out,
                  std::string &error) {
  std::optional<std::vector<int64_t>> axes;
  if (!intsOperand(n, 1, "axes", 13, axes, error))
    return false;
  int64_t rank = in.size();
  std::vector<bool> drop(rank, false);
  // An empty axes input squeezes every 1, as no axes does (ONNX Runtime).
  if (axes && !axes->empty()) {
    if (!normaliseAxes(*axes, rank, error))
      return false;
    for (int64_t a : *axes) {
      if (in[a] != 1) {
        error = "cannot squeeze dim " + std::to_string(a) + " of size " +
                std::to_string(in[a]);
        return false;
      }
      drop[a] = true;
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      drop[d] = in[d] == 1;
  }
  out.clear();
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[d])
      out.push_back(in[d]);
  return true;
}

bool unsqueezeShape(const NodeImporter &n, const Shape &in, Shape &out,
                    std::string &error) {
  std::optional<std::vector<int64_t>> axes;
  if (!intsOperand(n, 1, "axes", 13, axes, error))
    return false;
  if (!axes) {
    error = "axes must be given";
    return false;
  }
  int64_t rank = in.size() + axes->size();
  if (!normaliseAxes(*axes, rank, error))
    return false;
  std::vector<bool> inserted(rank, false);
  for (int64_t a : *axes)
    inserted[a] = true;
  out.clear();
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d)
    out.push_back(inserted[d] ? 1 : in[next++]);
  return true;
}

bool splitSizes(const NodeImporter &n, const Shape &in, int64_t &axis,
                Shape &sizes, std::string &error) {
  int64_t rank = in.size();
  axis = n.attrInt("axis", 0);
  if (axis < -rank || axis >= rank) {
    error = "axis " + std::to_string(axis) + " is out of range for rank " +
            std::to_string(rank);
    return false;
  }
  if (axis < 0)
    axis += rank;
  std::optional<std::vector<int64_t>> split;
  if (!intsOperand(n, 1, "split", 13, split, error))
    return false;
  int64_t outputs = n.node.output_size();
  int64_t dim = in[axis];
  if (!split) {
    if (outputs < 1 || dim % outputs != 0) {
      error = "dim " + std::to_string(dim) + " does not split into " +
              std::to_string(outputs) + " equal parts";
      return false;
    }
    sizes.assign(outputs, dim / outputs);
    return true;
  }
  int64_t total = 0;
  for (int64_t s : *split) {
    if (s < 0) {
      error = "split sizes must be non-negative";
      return false;
    }
    total += s;
  }
  if (static_cast<int64_t>(split->size()) != outputs || total != dim) {
    error = "split " + shapeToString(*split) + " does not divide dim " +
            std::to_string(dim) + " into " + std::to_string(outputs) +
            " outputs";
    return false;
  }
  sizes = *split;
  return true;
}

bool flattenAxis(const NodeImporter &n, const Shape &in, int64_t &axis,
                 std::string &error) {
  int64_t rank = in.size();
  axis = n.attrInt("axis", 1);
  if (axis < -rank || axis > rank) {
    error = "axis " + std::to_string(axis) + " is out of range for rank " +
            std::to_string(rank);
    return false;
  }
  if (axis < 0)
    axis += rank;
  return true;
}

} // namespace lathe
