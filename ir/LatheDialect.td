//===- LatheDialect.td - the lathe dialect -----------------*- tablegen -*-===//
//
// The graph-level dialect that ONNX models are imported into. Ops are close to
// ONNX operators but normalised: every attribute is explicit (auto_pad is
// resolved to pads, opset-specific semantics are rewritten by the importer),
// and every shape is static.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_DIALECT_TD
#define LATHE_DIALECT_TD

include "mlir/IR/OpBase.td"

def Lathe_Dialect : Dialect {
  let name = "lathe";
  let summary = "Neural-network graph operations imported from ONNX";
  let description = [{
    The `lathe` dialect holds a model as a graph of tensor operations with
    static shapes. Its ops carry ONNX semantics with every attribute made
    explicit, so that passes and lowerings never consult opset versions.
    Node names from the ONNX graph are kept as op locations.
  }];
  let cppNamespace = "::lathe";
  let useDefaultAttributePrinterParser = 0;
  let useDefaultTypePrinterParser = 0;
  let hasConstantMaterializer = 1;
}

class Lathe_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lathe_Dialect, mnemonic, traits>;

#endif // LATHE_DIALECT_TD
