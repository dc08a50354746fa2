#include "ir/Location.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;

namespace lathe {

Location nodeLocation(MLIRContext *ctx, const std::string &path,
                      const std::string &nodeName) {
  Location file = FileLineColLoc::get(ctx, path, 0, 0);
  if (nodeName.empty())
    return file;
  return NameLoc::get(StringAttr::get(ctx, nodeName), file);
}

static void collect(Location loc, std::string &file, std::string &node) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    if (node.empty())
      node = name.getName().str();
    collect(name.getChildLoc(), file, node);
  } else if (auto flc = dyn_cast<FileLineColLoc>(loc)) {
    if (file.empty())
      file = flc.getFilename().str();
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location l : fused.getLocations())
      collect(l, file, node);
  } else if (auto cs = dyn_cast<CallSiteLoc>(loc)) {
    collect(cs.getCallee(), file, node);
  }
}

std::string describeLocation(Location loc) {
  std::string file, node;
  collect(loc, file, node);
  if (node.empty())
    return file;
  return (file.empty() ? "" : file + ": ") + "node '" + node + "'";
}

} // namespace lathe
