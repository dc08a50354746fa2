// Importers of resampling ops: Resize (opsets 10, 11, 13), Upsample (7, 9)
// and GridSample (16). Scales, sizes and roi decide the result shape or the
// sampling positions, so they must be compile-time constants.
#include "frontend/NodeImporter.h"
#include "ir/LatheOps.h"

#include <cmath>

using namespace mlir;

namespace lathe {
namespace {

/// Values of a constant float or integer input, widened to double; null
/// when the input is not a constant.
std::optional<std::vector<double>> constValues(NodeImporter &n, size_t i) {
  const Tensor *t = n.constInput(i);
  if (!t)
    return std::nullopt;
  std::vector<double> v;
  for (int64_t k = 0; k < t->numel(); ++k) {
    switch (t->dtype) {
    case DType::F32:
      v.push_back(t->as<float>()[k]);
      break;
    case DType::F64:
      v.push_back(t->as<double>()[k]);
      break;
    case DType::I64:
      v.push_back(static_cast<double>(t->as<int64_t>()[k]));
      break;
    case DType::I32:
      v.push_back(t->as<int32_t>()[k]);
      break;
    default:
      return std::nullopt;
    }
  }
  return v;
}

struct ResizeParams {
  std::string mode = "nearest";
  std::string ctm = "half_pixel";
  std::string nearestMode = "round_prefer_floor";
  float cubicA = -0.75f;
  bool excludeOutside = false;
  float extrapolation = 0.0f;
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
};

/// Fills the output sizes from the scales (floor(in * scale)) or the scales
/// from the sizes, and creates the op.
bool createResize(NodeImporter &n, ResizeParams &p) {
  std::vector<int64_t> in = n.shapeOf(n.input(0));
  if (p.sizes.empty()) {
    if (p.scales.size() != in.size())
      return n.error("scales has " + Twine(p.scales.size()) +
                     " values for an input of rank " + Twine(in.size()));
    for (size_t i = 0; i < in.size(); ++i) {
      if (!(p.scales[i] > 0))
        return n.error("scales must be positive");
      p.sizes.push_back(
          static_cast<int64_t>(std::floor(p.scales[i] * double(in[i]))));
    }
  } else {
    if (p.sizes.size() != in.size())
      return n.error("sizes has " + Twine(p.sizes.size()) +
                     " values for an input of rank " + Twine(in.size()));
    p.scales.clear();
    for (size_t i = 0; i < in.size(); ++i)
      p.scales.push_back(double(p.sizes[i]) / double(in[i]));
  }
  if (p.ctm != "tf_crop_and_resize")
    p.roi.clear();
  if (p.mode != "nearest")
    p.nearestMode = "round_prefer_floor"; // unused; keeps the IR canonical
  Value v = n.create<ResizeOp>(
      {n.input(0)},
      {n.named("mode", n.b.getStringAttr(p.mode)),
       n.named("coordinate_transformation_mode", n.b.getStringAttr(p.ctm)),
       n.named("nearest_mode", n.b.getStringAttr(p.nearestMode)),
       n.namedF32("cubic_coeff_a", p.cubicA),
       n.namedBool("exclude_outside", p.excludeOutside),
       n.namedF32("extrapolation_value", p.extrapolation),
       n.named("scales", n.b.getDenseF64ArrayAttr(p.scales)),
       n.named("roi", n.b.getDenseF64ArrayAttr(p.roi)),
       n.namedI64s("sizes", p.sizes)});
  n.setOutput(0, v);
  return bool(v);
}

/// Opset < 11 (Upsample, Resize-10): asymmetric coordinates, nearest rounds
/// down when upsampling and up when downsampling (what ONNX Runtime does).
bool legacyMode(NodeImporter &n, ResizeParams &p) {
  p.mode = n.attrString("mode", "nearest");
  if (p.mode == "bilinear")
    p.mode = "linear";
  if (p.mode != "nearest" && p.mode != "linear")
    return n.error("mode '" + p.mode + "' is not nearest or linear");
  p.ctm = "asymmetric";
  p.nearestMode = "simple";
  return true;
}

bool importResize(NodeImporter &n) {
  ResizeParams p;
  if (n.opset < 11) {
    if (!legacyMode(n, p))
      return false;
    auto scales = constValues(n, 1);
    if (!scales)
      return n.error("scales must be a compile-time constant (freeze it)");
    p.scales = *scales;
    return createResize(n, p);
  }
  p.mode = n.attrString("mode", "nearest");
  p.ctm = n.attrString("coordinate_transformation_mode", "half_pixel");
  p.nearestMode = n.attrString("nearest_mode", "round_prefer_floor");
  p.cubicA = n.attrFloat("cubic_coeff_a", -0.75f);
  p.excludeOutside = n.attrInt("exclude_outside", 0) != 0;
  p.extrapolation = n.attrFloat("extrapolation_value", 0.0f);
  if (n.attr("antialias") || n.attr("axes") ||
      n.attr("keep_aspect_ratio_policy"))
    return n.error("antialias, axes and keep_aspect_ratio_policy (opset 18) "
                   "are not supported");
  if (n.hasInput(1)) {
    auto roi = constValues(n, 1);
    if (!roi)
      return n.error("roi must be a compile-time constant (freeze it)");
    p.roi = *roi;
  }
  if (n.hasInput(2)) {
    auto scales = constValues(n, 2);
    if (!scales)
      return n.error("scales must be a compile-time constant (freeze it)");
    p.scales = *scales;
  }
  if (n.hasInput(3)) {
    auto sizes = constValues(n, 3);
    if (!sizes)
      return n.error("sizes must be a compile-time constant (freeze it)");
    for (double s : *sizes)
      p.sizes.push_back(static_cast<int64_t>(s));
  }
  if (!p.scales.empty() && !p.sizes.empty())
    return n.error("only one of scales and sizes may be given");
  if (p.scales.empty() && p.sizes.empty())
    return n.error("one of scales and sizes must be given");
  return createResize(n, p);
}

bool importUpsample(NodeImporter &n) {
  ResizeParams p;
  if (!legacyMode(n, p))
    return false;
  if (n.opset >= 9) {
    auto scales = constValues(n, 1);
    if (!scales)
      return n.error("scales must be a compile-time constant (freeze it)");
    p.scales = *scales;
  } else {
    const onnx::AttributeProto *a = n.attr("scales");
    if (!a)
      return n.error("the scales attribute is required");
    p.scales.assign(a->floats().begin(), a->floats().end());
  }
  return createResize(n, p);
}

bool importGridSample(NodeImporter &n) {
  Value v = n.create<GridSampleOp>(
      {n.input(0), n.input(1)},
      {n.named("mode", n.b.getStringAttr(n.attrString("mode", "bilinear"))),
       n.named("padding_mode",
               n.b.getStringAttr(n.attrString("padding_mode", "zeros"))),
       n.namedBool("align_corners", n.attrInt("align_corners", 0) != 0)});
  n.setOutput(0, v);
  return bool(v);
}

} // namespace

void registerResizeImporters(ImporterTable &table) {
  table["GridSample"] = importGridSample;
  table["Resize"] = importResize;
  table["Upsample"] = importUpsample;
}

} // namespace lathe
