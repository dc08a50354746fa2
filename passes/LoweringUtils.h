// Building blocks shared by the lathe → linalg lowerings. Internal to passes/.
#ifndef LATHE_PASSES_LOWERINGUTILS_H
#define LATHE_PASSES_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace lathe {

/// The windows (kernel_shape) of a max_pool_grad's linalg.generic
/// (passes/LowerConvPool.cpp), for lathe-vectorize-max-pool.
inline constexpr llvm::StringLiteral kMaxPoolGradAttr = "lathe.max_pool_grad";
/// A float max pool's linalg.generic with 2x2 windows at stride 2 over an
/// unpadded input, for the same pass.
inline constexpr llvm::StringLiteral kMaxPool2x2Attr = "lathe.max_pool_2x2";

using BodyFn = llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                              mlir::ValueRange)>;

/// Map from an operand broadcast by numpy rules into `outRank` loop dims.
mlir::AffineMap broadcastMap(mlir::MLIRContext *ctx,
                             llvm::ArrayRef<int64_t> inShape,
                             llvm::ArrayRef<int64_t> outShape);

/// An elementwise linalg.generic producing `outType` from `inputs`, each
/// broadcast to the output shape. `body` gets one scalar per input.
mlir::Value buildElementwise(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::RankedTensorType outType,
                             mlir::ValueRange inputs, BodyFn body);

/// tensor.empty of `type`, or a tensor filled with `value`.
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type);
mlir::Value filledTensor(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::RankedTensorType type, mlir::TypedAttr value);

/// Reshape through collapse/expand (views after bufferization).
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                      llvm::ArrayRef<int64_t> shape);

/// Pads the trailing spatial dims (all dims from 2) of an NC... tensor.
mlir::Value padSpatial(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                       llvm::ArrayRef<int64_t> low,
                       llvm::ArrayRef<int64_t> high, mlir::TypedAttr padValue);

mlir::TypedAttr floatAttr(mlir::Type t, double v);
mlir::Value floatConst(mlir::OpBuilder &b, mlir::Location loc, mlir::Type t,
                       double v);

llvm::SmallVector<mlir::utils::IteratorType> iterators(unsigned parallel,
                                                       unsigned reduction = 0);

/// ONNX's unsigned types are MLIR unsigned integers in the lathe dialect and
/// signless ones below it: the lowerings read signedness from the lathe op's
/// own types (isUnsigned) and build everything with signlessType.
mlir::Type signlessType(mlir::Type t);
/// The lowered (signless) type of op's result `i`.
mlir::RankedTensorType resultType(mlir::Operation *op, unsigned i = 0);
/// Whether the element type of `v` (a lathe-level value) is unsigned.
bool isUnsigned(mlir::Value v);

using IndexedBodyFn = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange args,
    mlir::ValueRange ivs)>;
/// A parallel linalg.generic producing `outType`; the body gets the scalars
/// of `inputs` (read through `inputMaps`) and the loop indices
/// (linalg.index), for gathers that read with tensor.extract.
mlir::Value buildIndexedGeneric(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::RankedTensorType outType,
                                mlir::ValueRange inputs,
                                llvm::ArrayRef<mlir::AffineMap> inputMaps,
                                IndexedBodyFn body);

/// An integer index (any width; `isUnsigned` for ONNX's unsigned types) as
/// `index`, counted from the end of a dim of size `dim` when negative.
mlir::Value normalisedIndex(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value idx, int64_t dim,
                            bool isUnsigned = false);

/// Replaces `op` by a tensor.empty when its result has no elements (no
/// computation is needed, and linalg's verifier rejects the out-of-range
/// maps some lowerings would build for it). Returns whether it did.
bool replaceIfEmpty(mlir::Operation *op,
                    mlir::ConversionPatternRewriter &rewriter);

// One populate function per family file (Lower<Family>.cpp). Patterns are
// built with the converter so that adaptors hand them signless operands.
using PopulateFn = void (*)(const mlir::TypeConverter &,
                            mlir::RewritePatternSet &);
void populateElementwiseLowering(const mlir::TypeConverter &,
                                 mlir::RewritePatternSet &);
void populateMatmulLowering(const mlir::TypeConverter &,
                            mlir::RewritePatternSet &);
void populateConvPoolLowering(const mlir::TypeConverter &,
                              mlir::RewritePatternSet &);
void populateShapeLowering(const mlir::TypeConverter &,
                           mlir::RewritePatternSet &);
void populateReductionLowering(const mlir::TypeConverter &,
                               mlir::RewritePatternSet &);
void populateIndexingLowering(const mlir::TypeConverter &,
                              mlir::RewritePatternSet &);
void populateNormalizationLowering(const mlir::TypeConverter &,
                                   mlir::RewritePatternSet &);
void populateResizeLowering(const mlir::TypeConverter &,
                            mlir::RewritePatternSet &);
void populateLossLowering(const mlir::TypeConverter &,
                          mlir::RewritePatternSet &);
void populateRandomLowering(const mlir::TypeConverter &,
                            mlir::RewritePatternSet &);
void populateRecurrentLowering(const mlir::TypeConverter &,
                               mlir::RewritePatternSet &);

} // namespace lathe

#endif // LATHE_PASSES_LOWERINGUTILS_H
