#include "tools/lathe/GraphInfo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace lathe::cli {

func::FuncOp graphFunction(ModuleOp module) {
  if (auto main = module.lookupSymbol<func::FuncOp>("main"))
    return main;
  for (auto f : module.getOps<func::FuncOp>())
    return f;
  return nullptr;
}

static std::string firstName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location l : fused.getLocations()) {
      std::string n = firstName(l);
      if (!n.empty())
        return n;
    }
  if (auto cs = dyn_cast<CallSiteLoc>(loc))
    return firstName(cs.getCallee());
  return "";
}

std::string nodeName(Operation *op) { return firstName(op->getLoc()); }

std::string typeString(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    for (int64_t d : tensor.getShape()) {
      if (ShapedType::isDynamic(d))
        os << "?";
      else
        os << d;
      os << "x";
    }
    tensor.getElementType().print(os);
  } else {
    type.print(os);
  }
  return text;
}

std::string resultTypes(Operation *op) {
  std::string text;
  for (Type t : op->getResultTypes())
    text += (text.empty() ? "" : ", ") + typeString(t);
  return text;
}

bool isConstant(Operation *op) {
  return op->getName().getStringRef() == "lathe.constant";
}

bool isFolded(Operation *op) { return op->hasAttr("lathe.folded"); }

int64_t constantElements(Operation *op) {
  if (op->getNumResults() != 1)
    return 0;
  auto type = dyn_cast<ShapedType>(op->getResult(0).getType());
  return type && type.hasStaticShape() ? type.getNumElements() : 0;
}

int64_t constantBytes(Operation *op) {
  if (op->getNumResults() != 1)
    return 0;
  auto type = dyn_cast<ShapedType>(op->getResult(0).getType());
  if (!type || !type.hasStaticShape())
    return 0;
  Type element = type.getElementType();
  int64_t bits = element.isIntOrFloat() ? element.getIntOrFloatBitWidth() : 64;
  return type.getNumElements() * ((bits + 7) / 8);
}

std::optional<int64_t> fusionGroup(Operation *op) {
  if (auto id = op->getAttrOfType<IntegerAttr>("lathe.fusion_group"))
    return id.getInt();
  return std::nullopt;
}

std::string fusionKind(Operation *op) {
  if (auto kind = op->getAttrOfType<StringAttr>("lathe.fusion_kind"))
    return kind.str();
  return "";
}

std::vector<FusionGroup> fusionGroups(func::FuncOp func) {
  std::vector<FusionGroup> groups;
  std::map<int64_t, size_t> index;
  func.walk([&](Operation *op) {
    std::optional<int64_t> id = fusionGroup(op);
    if (!id)
      return;
    auto [it, inserted] = index.try_emplace(*id, groups.size());
    if (inserted) {
      groups.emplace_back();
      groups.back().id = *id;
    }
    FusionGroup &group = groups[it->second];
    group.ops.push_back(op);
    std::string kind = fusionKind(op);
    if (kind.empty() ||
        ("+" + group.kind + "+").find("+" + kind + "+") != std::string::npos)
      return;
    group.kind += (group.kind.empty() ? "" : "+") + kind;
  });
  return groups;
}

std::vector<Operation *> computeOps(func::FuncOp func) {
  std::vector<Operation *> ops;
  for (Operation &op : func.getBody().front())
    if (!isConstant(&op) && !op.hasTrait<OpTrait::IsTerminator>())
      ops.push_back(&op);
  return ops;
}

} // namespace lathe::cli
