// The compilation pipeline from the lathe dialect to the LLVM dialect:
//   lathe  --(graph passes)-->  lathe
//          --lathe-lower-to-linalg, elementwise fusion-->  linalg on tensors
//          --one-shot bufferization, results to out-params-->  memrefs
//          --lathe-plan-arena-->  one arena argument
//          --linalg to loops, math approximation, to LLVM-->  LLVM dialect
//          --lathe-emit-entry-point-->  C ABI entry
#include "passes/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace lathe {

static LogicalResult linalgCopy(OpBuilder &b, Location loc, Value from,
                                Value to) {
  b.create<linalg::CopyOp>(loc, from, to);
  return success();
}

void buildPipeline(PassManager &pm, PipelineStage stage,
                   const PipelineOptions &options) {
  if (options.optLevel > 0) {
    pm.addPass(createFoldConstants());
    pm.addPass(createSimplify());
    pm.addPass(createFoldBatchNorm());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    pm.addPass(createFuseOps());
  }
  if (stage == PipelineStage::Lathe)
    return;

  pm.addPass(createLowerLatheToLinalg());
  if (options.optLevel > 0) {
    pm.addPass(createTransposeWeights());
    pm.addPass(createFuseGroups());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  pm.addPass(createWidenSmallFloats());
  if (stage == PipelineStage::Linalg)
    return;

  bufferization::OneShotBufferizationOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  bufferization.memCpyFn = linalgCopy;
  pm.addNestedPass<func::FuncOp>(createPrepareBufferization());
  if (options.optLevel > 0)
    pm.addNestedPass<func::FuncOp>(createPadInPlace());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  // Tiles of fused groups get their scratch buffers inside the tile loops;
  // hoisted to the function, the memory planner places them in the arena.
  pm.addNestedPass<func::FuncOp>(bufferization::createBufferLoopHoistingPass());
  bufferization::BufferResultsToOutParamsOpts outParams;
  outParams.hoistStaticAllocs = true;
  outParams.memCpyFn = linalgCopy;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createPlanArena());
  pm.addPass(createFlattenConstants());
  pm.addNestedPass<func::FuncOp>(createLowerCopies());
  if (options.optLevel > 0)
    pm.addNestedPass<func::FuncOp>(createFoldContractionInit());
  pm.addPass(createOutlineKernels());
  // Before lathe-parallelize: a kernel cut into tasks is timed as a whole.
  if (options.profile)
    pm.addPass(createInstrumentKernels());
  // Contractions become register-tiled vector code; -O0 keeps the plain
  // loop nests as the reference the optimised pipeline is compared with.
  if (options.optLevel > 0) {
    pm.addPass(createParallelize());
    pm.addPass(createTileMatmul());
    pm.addPass(createTileReductions());
    pm.addPass(createVectorizeMaxPool());
    pm.addPass(createVectorizeElementwise());
  }
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createApproximateMath());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createCanonicalizerPass());
  // Only lathe-tile-matmul's dot products reduce vectors; a tree of adds
  // instead of a chain of eight, the summation order of blocked BLAS.
  ConvertVectorToLLVMPassOptions vectorOptions;
  vectorOptions.reassociateFPReductions = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorOptions));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  // Math on vectors without an LLVM intrinsic or approximation (tanh and
  // erf on f64) becomes libm calls on extracted lanes: vector ops again.
  pm.addPass(createConvertVectorToLLVMPass(vectorOptions));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createLowerParallelCalls());
  EmitEntryPointOptions entry;
  entry.entryName = options.entryName;
  pm.addPass(createEmitEntryPoint(entry));
}

void registerLathePipelines() {
  registerLathePasses();
  PassPipelineRegistration<>(
      "lathe-to-llvm", "Run lathe's whole pipeline down to the LLVM dialect",
      [](OpPassManager &pm) {
        PassManager &top = static_cast<PassManager &>(pm);
        buildPipeline(top, PipelineStage::LLVMDialect, PipelineOptions());
      });
}

} // namespace lathe
