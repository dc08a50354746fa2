// Loads an ONNX model, validates it with libonnx, binds symbolic dims and
// walks the graph, delegating each node to its op importer (ImportOps.cpp).
// libonnx reports problems by throwing, so every call into it is wrapped here
// and turned into a one-line error; no exception escapes this file.
#include "frontend/Importer.h"
#include "frontend/ConstantEval.h"
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheDialect.h"
#include "ir/LatheOps.h"
#include "ir/Location.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "onnx/checker.h"
#include "onnx/defs/parser.h"
#include "onnx/shape_inference/implementation.h"

#include <fstream>
#include <set>
#include <sstream>

using namespace mlir;

namespace lathe {

//===----------------------------------------------------------------------===//
// NodeImporter helpers
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeImporter::attr(const std::string &name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeImporter::attrInt(const std::string &name, int64_t dflt) const {
  const auto *a = attr(name);
  return a ? a->i() : dflt;
}

float NodeImporter::attrFloat(const std::string &name, float dflt) const {
  const auto *a = attr(name);
  return a ? a->f() : dflt;
}

std::string NodeImporter::attrString(const std::string &name,
                                     const std::string &dflt) const {
  const auto *a = attr(name);
  return a ? a->s() : dflt;
}

std::optional<std::vector<int64_t>>
NodeImporter::attrInts(const std::string &name) const {
  const auto *a = attr(name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

bool NodeImporter::error(const Twine &message) const {
  emitError(loc) << message;
  return false;
}

Value NodeImporter::constant(const Tensor &t) {
  DenseElementsAttr attr = toElementsAttr(b.getContext(), t);
  if (!attr) {
    error(Twine("constant of type ") + dtypeName(t.dtype) +
          " is not supported");
    return nullptr;
  }
  return b.create<ConstantOp>(loc, attr);
}

Type toElementType(MLIRContext *ctx, int32_t onnxType) {
  Builder b(ctx);
  switch (onnxType) {
  case LATHE_DTYPE_FLOAT:
    return b.getF32Type();
  case LATHE_DTYPE_DOUBLE:
    return b.getF64Type();
  case LATHE_DTYPE_FLOAT16:
    return b.getF16Type();
  case LATHE_DTYPE_INT8:
    return b.getI8Type();
  case LATHE_DTYPE_INT16:
    return b.getIntegerType(16);
  case LATHE_DTYPE_INT32:
    return b.getI32Type();
  case LATHE_DTYPE_INT64:
    return b.getI64Type();
  case LATHE_DTYPE_BOOL:
    return b.getI1Type();
  case LATHE_DTYPE_BFLOAT16:
    return b.getBF16Type();
  case LATHE_DTYPE_UINT8:
    return IntegerType::get(ctx, 8, IntegerType::Unsigned);
  case LATHE_DTYPE_UINT16:
    return IntegerType::get(ctx, 16, IntegerType::Unsigned);
  case LATHE_DTYPE_UINT32:
    return IntegerType::get(ctx, 32, IntegerType::Unsigned);
  case LATHE_DTYPE_UINT64:
    return IntegerType::get(ctx, 64, IntegerType::Unsigned);
  default:
    return nullptr;
  }
}

DenseElementsAttr toElementsAttr(MLIRContext *ctx, const Tensor &t) {
  Type et = toElementType(ctx, static_cast<int32_t>(t.dtype));
  if (!et)
    return nullptr;
  auto type = RankedTensorType::get(t.shape, et);
  if (t.dtype == DType::Bool) {
    // MLIR packs i1 as bits; go through bools.
    SmallVector<bool> values(t.data.begin(), t.data.end());
    return DenseElementsAttr::get(type, values);
  }
  ArrayRef<char> raw(reinterpret_cast<const char *>(t.data.data()),
                     t.data.size());
  return DenseElementsAttr::getFromRawBuffer(type, raw);
}

//===----------------------------------------------------------------------===//
// Loading and validation
//===----------------------------------------------------------------------===//

namespace {

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// First line of a possibly multi-line libonnx message.
std::string firstLine(const std::string &s) {
  std::string line = s.substr(0, s.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
    line.pop_back();
  return line;
}

std::vector<int64_t> declaredShape(const onnx::ValueInfoProto &vi,
                                   std::string &symbolic) {
  std::vector<int64_t> shape;
  const auto &t = vi.type().tensor_type();
  for (const auto &d : t.shape().dim()) {
    if (d.has_dim_value() && d.dim_value() >= 0) {
      shape.push_back(d.dim_value());
    } else {
      shape.push_back(-1);
      if (symbolic.empty())
        symbolic = d.has_dim_param() ? d.dim_param() : "?";
    }
  }
  return shape;
}

/// Writes --shape bindings into the graph inputs so that ONNX shape
/// inference and the importer both see static shapes.
bool bindShapes(onnx::GraphProto &graph, const std::set<std::string> &inits,
                const ImportOptions &options, std::string &error) {
  std::set<std::string> inputNames;
  for (auto &in : *graph.mutable_input()) {
    if (inits.count(in.name()))
      continue;
    inputNames.insert(in.name());
    if (options.constantInputs.count(in.name()))
      continue;
    if (!in.type().has_tensor_type()) {
      error = "input '" + in.name() + "' is not a tensor";
      return false;
    }
    auto it = options.shapes.find(in.name());
    auto *tt = in.mutable_type()->mutable_tensor_type();
    if (it != options.shapes.end()) {
      const auto &dims = it->second;
      if (tt->has_shape()) {
        bool fits = tt->shape().dim_size() == static_cast<int>(dims.size());
        std::string declared;
        for (int i = 0; i < tt->shape().dim_size(); ++i) {
          const auto &d = tt->shape().dim(i);
          declared +=
              (i ? "x" : "") + (d.has_dim_value()
                                    ? std::to_string(d.dim_value())
                                    : (d.dim_param().empty() ? std::string("?")
                                                             : d.dim_param()));
          if (fits && d.has_dim_value() && d.dim_value() != dims[i])
            fits = false;
        }
        if (!fits) {
          error = "input '" + in.name() + "' is given shape " +
                  shapeToString(dims) + ", the model's input has shape " +
                  (declared.empty() ? "scalar" : declared);
          return false;
        }
      }
      tt->mutable_shape()->clear_dim();
      for (int64_t d : dims)
        tt->mutable_shape()->add_dim()->set_dim_value(d);
      continue;
    }
    if (!tt->has_shape()) {
      error = "input '" + in.name() + "' has no shape: give one with --shape " +
              in.name() + "=DIMS";
      return false;
    }
    std::string symbolic;
    declaredShape(in, symbolic);
    if (!symbolic.empty()) {
      error = "input '" + in.name() + "' has symbolic dim '" + symbolic +
              "': bind it with --shape " + in.name() + "=DIMS";
      return false;
    }
  }
  for (const auto &kv : options.shapes)
    if (!inputNames.count(kv.first)) {
      error =
          "a shape is given for '" + kv.first + "', which is not a model input";
      return false;
    }
  for (const auto &kv : options.constantInputs)
    if (!inputNames.count(kv.first)) {
      error =
          "a value is given for '" + kv.first + "', which is not a model input";
      return false;
    }
  return true;
}

int64_t defaultOpset(const onnx::ModelProto &model) {
  for (const auto &op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx")
      return op.version();
  return -1;
}

std::string nodeName(const onnx::NodeProto &node, int index) {
  if (!node.name().empty())
    return node.name();
  return node.op_type() + "#" + std::to_string(index);
}

} // namespace

//===----------------------------------------------------------------------===//
// Graph import
//===----------------------------------------------------------------------===//

const std::vector<std::string> &supportedOnnxOps() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> v;
    for (const auto &kv : opImporters())
      v.push_back(kv.first);
    return v;
  }();
  return ops;
}

bool loadOnnxModel(const std::string &path, onnx::ModelProto &model,
                   std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open file";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string bytes = buffer.str();
  if (endsWith(path, ".onnxtxt") || endsWith(path, ".txt")) {
    try {
      onnx::OnnxParser parser(bytes.c_str());
      auto status = parser.Parse(model);
      if (!status.IsOK()) {
        error = "cannot parse ONNX text syntax: " +
                firstLine(status.ErrorMessage());
        return false;
      }
    } catch (const std::exception &e) {
      error = "cannot parse ONNX text syntax: " + firstLine(e.what());
      return false;
    }
    return true;
  }
  if (bytes.empty()) {
    error = "file is empty";
    return false;
  }
  if (!model.ParseFromString(bytes) || !model.has_graph()) {
    error = "not an ONNX model (cannot parse the protobuf; truncated or "
            "another format?)";
    return false;
  }
  return true;
}

ModuleOp importOnnxFile(MLIRContext &ctx, const std::string &path,
                        const ImportOptions &options, ImportResult &result,
                        std::string &error) {
  ctx.loadDialect<LatheDialect, func::FuncDialect>();
  onnx::ModelProto model;
  auto fail = [&](const std::string &message) {
    error = path + ": " + message;
    return ModuleOp();
  };
  if (options.model)
    model = *options.model;
  else if (!loadOnnxModel(path, model, error))
    return fail(error);
  result.opset = defaultOpset(model);
  if (result.opset < 0)
    return fail("the model imports no default-domain (ai.onnx) opset");
  // Older opsets are accepted where an op's semantics did not change; the op
  // importers refuse the legacy attributes that changed them.
  if (result.opset < 1 || result.opset > 17)
    return fail("opset " + std::to_string(result.opset) +
                " is not supported (lathe supports opsets 1 to 17)");

  onnx::GraphProto &graph = *model.mutable_graph();
  std::set<std::string> inits;
  for (const auto &init : graph.initializer())
    inits.insert(init.name());
  if (!bindShapes(graph, inits, options, error))
    return fail(error);

  // Every unsupported op, with its node, in one message.
  std::string unsupported;
  int count = 0;
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto &node = graph.node(i);
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    if (defaultDomain && (opImporters().count(node.op_type()) ||
                          isConstantFoldable(node.op_type())))
      continue;
    std::string op =
        defaultDomain ? node.op_type() : node.domain() + "." + node.op_type();
    unsupported += std::string(count++ ? ", " : "") + op + " (node '" +
                   nodeName(node, i) + "')";
  }
  if (count)
    return fail("unsupported op" + std::string(count > 1 ? "s" : "") + ": " +
                unsupported);

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    return fail("invalid model: " + firstLine(e.what()));
  }
  // libonnx's shape inference fills in value_info for tools that read the
  // model; its disagreements are not fatal because lathe infers every type
  // itself and checks the declared outputs below (libonnx 1.12 differs from
  // ONNX Runtime and PyTorch on ceil-mode pooling, for example).
  std::map<std::string, onnx::ValueInfoProto> declaredOutputs;
  for (const auto &out : graph.output())
    declaredOutputs[out.name()] = out;
  try {
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception &) {
  }

  std::string dir = path.find('/') == std::string::npos
                        ? std::string(".")
                        : path.substr(0, path.find_last_of('/'));
  std::string diagnostic;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error && diagnostic.empty()) {
      std::string where = describeLocation(d.getLocation());
      diagnostic = (where.empty() ? path : where) + ": " + d.str();
    }
    return success();
  });

  OpBuilder b(&ctx);
  Location fileLoc = FileLineColLoc::get(&ctx, path, 0, 0);
  ModuleOp module = ModuleOp::create(fileLoc);
  auto failModule = [&](const std::string &message) {
    module.erase();
    error = message;
    return ModuleOp();
  };

  std::map<std::string, Value> values;
  std::map<std::string, Tensor> constants;
  SmallVector<Type> argTypes;
  for (const auto &in : graph.input()) {
    if (inits.count(in.name()) || options.constantInputs.count(in.name()))
      continue;
    std::string unused;
    int32_t et = in.type().tensor_type().elem_type();
    Type elementType = toElementType(&ctx, et);
    if (!elementType)
      return failModule(path + ": input '" + in.name() + "' has element type " +
                        onnx::TensorProto_DataType_Name(
                            static_cast<onnx::TensorProto_DataType>(et)) +
                        ", which lathe does not support yet");
    std::vector<int64_t> shape = declaredShape(in, unused);
    result.inputs.push_back({in.name(), static_cast<DType>(et), shape});
    argTypes.push_back(RankedTensorType::get(shape, elementType));
  }
  auto func =
      func::FuncOp::create(fileLoc, "main", b.getFunctionType(argTypes, {}));
  module.push_back(func);
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  for (size_t i = 0; i < result.inputs.size(); ++i) {
    values[result.inputs[i].name] = entry->getArgument(i);
    func.setArgAttr(i, "lathe.name", b.getStringAttr(result.inputs[i].name));
  }

  for (const auto &[name, t] : options.constantInputs) {
    DenseElementsAttr attr = toElementsAttr(&ctx, t);
    if (!attr)
      return failModule(path + ": frozen input '" + name +
                        "' has element type " + dtypeName(t.dtype) +
                        ", which lathe does not support yet");
    values[name] = b.create<ConstantOp>(nodeLocation(&ctx, path, name), attr);
    constants[name] = t;
  }
  for (const auto &init : graph.initializer()) {
    Tensor t;
    std::string message;
    if (!tensorFromProto(init, dir, t, message))
      return failModule(path + ": initializer: " + message);
    Location loc = nodeLocation(&ctx, path, init.name());
    DenseElementsAttr attr = toElementsAttr(&ctx, t);
    if (!attr)
      return failModule(path + ": initializer '" + init.name() +
                        "' has element type " + dtypeName(t.dtype) +
                        ", which lathe does not support yet");
    values[init.name()] = b.create<ConstantOp>(loc, attr);
    result.paramBytes += t.bytes();
    constants[init.name()] = std::move(t);
  }

  for (int i = 0; i < graph.node_size(); ++i) {
    const auto &node = graph.node(i);
    std::string name = nodeName(node, i);
    Location loc = nodeLocation(&ctx, path, name);
    std::vector<Value> inputs;
    std::vector<const Tensor *> constInputs;
    for (const auto &in : node.input()) {
      if (in.empty()) {
        inputs.push_back(nullptr);
        constInputs.push_back(nullptr);
        continue;
      }
      auto it = values.find(in);
      if (it == values.end())
        return failModule(path + ": node '" + name + "' (" + node.op_type() +
                          "): input '" + in + "' is not produced by any node");
      inputs.push_back(it->second);
      auto c = constants.find(in);
      constInputs.push_back(c == constants.end() ? nullptr : &c->second);
    }
    NodeImporter importer(node, result.opset, b, loc, std::move(inputs),
                          std::move(constInputs));
    // Nodes over constants are evaluated on the host (shape subgraphs).
    auto importFn = opImporters().find(node.op_type());
    bool ok = foldConstantNode(importer) ||
              (importFn != opImporters().end()
                   ? importFn->second(importer)
                   : importer.error(node.op_type() +
                                    " is supported only on compile-time "
                                    "constant inputs"));
    if (!ok || !diagnostic.empty()) {
      std::string message = diagnostic.empty() ? "import failed" : diagnostic;
      // Name the op type too: "file: node 'n' (Conv): ...".
      std::string prefix = path + ": node '" + name + "'";
      if (message.compare(0, prefix.size(), prefix) == 0)
        message = prefix + " (" + node.op_type() + ")" +
                  message.substr(prefix.size());
      return failModule(message);
    }
    for (int o = 0; o < node.output_size(); ++o) {
      if (node.output(o).empty())
        continue;
      Value v = importer.results()[o];
      if (!v)
        return failModule(path + ": node '" + name + "' (" + node.op_type() +
                          "): output " + std::to_string(o) +
                          " is not supported");
      values[node.output(o)] = v;
      if (auto &c = importer.constResults()[o])
        constants[node.output(o)] = std::move(*c);
    }
  }

  SmallVector<Value> results;
  for (const auto &out : graph.output()) {
    auto it = values.find(out.name());
    if (it == values.end())
      return failModule(path + ": graph output '" + out.name() +
                        "' is not produced by any node");
    auto type = cast<RankedTensorType>(it->second.getType());
    int32_t declared = out.type().tensor_type().elem_type();
    if (declared && toElementType(&ctx, declared) != type.getElementType())
      return failModule(path + ": graph output '" + out.name() +
                        "' is declared with another element type");
    std::string unusedSymbol;
    const onnx::ValueInfoProto &asDeclared = declaredOutputs[out.name()];
    std::vector<int64_t> declaredDims = declaredShape(asDeclared, unusedSymbol);
    bool shapeKnown = asDeclared.type().tensor_type().has_shape();
    if (shapeKnown) {
      bool same = declaredDims.size() == static_cast<size_t>(type.getRank());
      for (size_t d = 0; same && d < declaredDims.size(); ++d)
        same = declaredDims[d] < 0 || declaredDims[d] == type.getDimSize(d);
      if (!same)
        return failModule(path + ": graph output '" + out.name() +
                          "' is declared with shape " +
                          shapeToString(declaredDims) + ", lathe infers " +
                          shapeToString(std::vector<int64_t>(
                              type.getShape().begin(), type.getShape().end())));
    }
    int32_t dtype = declared;
    if (!dtype) {
      for (int32_t t : {1, 11, 10, 3, 5, 6, 7, 9})
        if (toElementType(&ctx, t) == type.getElementType())
          dtype = t;
    }
    result.outputs.push_back(
        {out.name(), static_cast<DType>(dtype),
         std::vector<int64_t>(type.getShape().begin(), type.getShape().end())});
    results.push_back(it->second);
  }
  b.create<func::ReturnOp>(fileLoc, results);
  func.setType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (size_t i = 0; i < result.outputs.size(); ++i)
    func.setResultAttr(i, "lathe.name",
                       b.getStringAttr(result.outputs[i].name));

  module->setAttr("lathe.num_inputs", b.getI64IntegerAttr(static_cast<int64_t>(
                                          result.inputs.size())));
  if (failed(verify(module)))
    return failModule(diagnostic.empty() ? path + ": the imported IR is invalid"
                                         : diagnostic);
  return module;
}

} // namespace lathe
