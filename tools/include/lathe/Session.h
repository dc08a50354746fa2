// The C++ API: compile an ONNX model for the host CPU and run it.
//
//   lathe::SessionOptions opts;
//   opts.shapes["x"] = {1, 3, 32, 32};          // bind symbolic dims
//   std::string err;
//   auto s = lathe::Session::compile("model.onnx", opts, &err);
//   if (!s) { /* err holds a one-line message */ }
//   std::vector<lathe::Tensor> outs;
//   if (!s->run({input}, outs, &err)) { ... }
//
// A Session owns the JIT-compiled code and one arena; run() is not reentrant
// (use one Session per thread).
#ifndef LATHE_SESSION_H
#define LATHE_SESSION_H

#include "lathe/Tensor.h"
#include "lathe/runtime.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

/// What to differentiate (SessionOptions::gradients): the gradient of the
/// output named `output` with respect to the inputs named in `wrt` (float
/// inputs). A non-scalar output is differentiated as the sum of its
/// elements.
struct GradientRequest {
  std::string output;
  std::vector<std::string> wrt;
};

struct SessionOptions {
  /// Static shapes for inputs whose ONNX shape has symbolic or unknown dims.
  std::map<std::string, std::vector<int64_t>> shapes;
  /// Inputs frozen to a value at compile time; they are constants of the
  /// compiled code and no longer inputs of run().
  std::map<std::string, Tensor> constantInputs;
  /// Graph optimisation level (0 = none).
  int optLevel = 1;
  /// Print the IR after every pass to stderr (like mlir-opt).
  bool printIRAfterAll = false;
  /// When set, the compiled Session returns the model's outputs followed by
  /// one gradient per `wrt` input, named `grad_<input>`, of that input's
  /// shape and dtype (reverse-mode autodiff, pass lathe-autodiff): saliency
  /// maps, adversarial examples, gradient checks.
  std::optional<GradientRequest> gradients;
  /// When set, the model is compiled in training form (pass
  /// lathe-training-mode) with this dropout seed: Dropout draws inverted
  /// dropout masks keyed by (seed, step, op), BatchNormalization uses batch
  /// statistics. run() then takes one more input, `lathe.step` (int64
  /// scalar, last), and returns after the model's outputs the updated
  /// running mean and variance of each BatchNormalization, each named like
  /// the input it updates (those must be model inputs, not initializers).
  /// Applied before `gradients`.
  std::optional<uint64_t> trainingModeSeed;
  /// Threads that run the compiled code's parallel loops (the runtime's
  /// thread pool); 0 = one per core the process may use. Sessions with one
  /// thread count share one pool, and their runs take turns on it (runs of
  /// single-threaded Sessions never wait for each other).
  int threads = 0;
  /// Time every kernel of the compiled code (Session::profile(); pass
  /// lathe-instrument-kernels): two clock reads per kernel call, tens of
  /// nanoseconds. Off, the compiled code has no trace of it.
  bool profile = false;
};

/// One kernel of a Session compiled with SessionOptions::profile: a loop
/// nest of the compiled code (a fusion group or one op) and its time.
struct KernelProfile {
  std::string kernel;             // the compiled function, lathe_kernel_N
  std::vector<std::string> nodes; // the ONNX nodes it computes
  std::string ops;                // its linalg ops, e.g. "conv_2d_nchw_fchw"
  std::string fusion;             // its fusion group's kind, "" if none
  int64_t flops = -1;             // float ops per call; -1: not static
  int64_t calls = 0;              // calls since compile or resetProfile()
  int64_t nanoseconds = 0;        // wall time of those calls
};

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

struct CompileStats {
  double importSeconds = 0;
  double compileSeconds = 0; // passes + LLVM + JIT
  uint64_t arenaBytes = 0;
  uint64_t naiveBytes = 0;
  uint64_t paramBytes = 0;
};

class CompiledModule; // JIT state (opaque; lives in codegen/cpu)

class Session {
public:
  /// Compiles an ONNX model file (binary .onnx, or ONNX text syntax for
  /// .onnxtxt/.txt). Returns null and sets *error (one line, naming the file
  /// and, where there is one, the ONNX node) on failure.
  static std::unique_ptr<Session> compile(const std::string &modelPath,
                                          const SessionOptions &options,
                                          std::string *error);
  ~Session();

  const std::vector<TensorInfo> &inputs() const { return inputs_; }
  const std::vector<TensorInfo> &outputs() const { return outputs_; }
  const CompileStats &stats() const { return stats_; }
  const lathe_model_desc &descriptor() const;
  /// Threads the compiled code runs on (SessionOptions::threads resolved).
  int threads() const;

  /// Runs the model. `inputs` are matched by position; dtype and shape must
  /// equal inputs()[i]. Fills `outputs` in the order of outputs().
  bool run(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs,
           std::string *error);

  /// Runs the model on caller-owned buffers, without copies or checks:
  /// `inputs[i]` and `outputs[i]` must hold inputs()[i] and outputs()[i]
  /// exactly (dtype, shape, dense row-major). For hot loops (a training
  /// step) where the buffers were checked once.
  bool runBuffers(const void *const *inputs, void *const *outputs,
                  std::string *error);

  /// The kernels' times since compile or the last resetProfile(), in the
  /// order @main calls them (empty unless compiled with
  /// SessionOptions::profile).
  std::vector<KernelProfile> profile() const;
  void resetProfile();

private:
  friend class SessionFactory; // tools/lib/Compiler.h
  Session();
  std::string path_;
  std::vector<TensorInfo> inputs_, outputs_;
  CompileStats stats_;
  std::unique_ptr<CompiledModule> module_;
  void *arena_ = nullptr;
  std::shared_ptr<lathe_context> context_; // null: the calling thread only
  std::vector<KernelProfile> kernels_;     // SessionOptions::profile
  int64_t *profileCounters_ = nullptr;     // [kernels_.size()][2]: ns, calls
};

} // namespace lathe

#endif // LATHE_SESSION_H
