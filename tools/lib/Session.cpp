#include "lathe/Session.h"

#include "codegen/cpu/CpuBackend.h"
#include "tools/lib/Compiler.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>

namespace lathe {

/// Holds the JIT code and the descriptor that points into it.
class CompiledModule {
public:
  std::unique_ptr<JitModule> jit;
  lathe_model_desc desc{};
  std::vector<lathe_tensor_desc> inputs, outputs;
  std::vector<std::string> names;
};

/// One thread pool per thread count, alive while a Session uses it: the
/// training step and its evaluation function, or many small models in one
/// process, must not each keep idle threads spinning. One thread needs no
/// pool (null: runs on the calling thread, without the context's lock).
static std::shared_ptr<lathe_context> sharedContext(int threads,
                                                    std::string &error) {
  if (threads < 0) {
    error = "the thread count must be at least 0 (0 = every core), got " +
            std::to_string(threads);
    return nullptr;
  }
  static std::mutex mutex;
  static std::map<int, std::weak_ptr<lathe_context>> pools;
  std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<lathe_context> pool = pools[threads].lock();
  if (pool)
    return pool;
  lathe_context *ctx = lathe_context_create(threads);
  if (!ctx) {
    error = "cannot start a pool of " + std::to_string(threads) + " threads";
    return nullptr;
  }
  if (lathe_context_threads(ctx) == 1) {
    lathe_context_destroy(ctx);
    return std::shared_ptr<lathe_context>();
  }
  pool.reset(ctx, lathe_context_destroy);
  pools[threads] = pool;
  return pool;
}

/// The kernels lathe-instrument-kernels described in the module attribute
/// and the counters it added (absent when @main calls no kernel).
static bool readProfileSlots(mlir::ModuleOp module, const JitModule &jit,
                             std::vector<KernelProfile> &kernels,
                             int64_t *&counters) {
  auto slots = module->getAttrOfType<mlir::ArrayAttr>(kProfileAttr);
  if (!slots)
    return false;
  for (mlir::Attribute slot : slots) {
    auto dict = mlir::dyn_cast<mlir::DictionaryAttr>(slot);
    if (!dict)
      return false;
    KernelProfile k;
    auto text = [&](const char *key) {
      auto s = dict.getAs<mlir::StringAttr>(key);
      return s ? s.getValue().str() : std::string();
    };
    k.kernel = text("kernel");
    k.ops = text("ops");
    k.fusion = text("fusion");
    if (auto flops = dict.getAs<mlir::IntegerAttr>("flops"))
      k.flops = flops.getInt();
    if (auto nodes = dict.getAs<mlir::ArrayAttr>("nodes"))
      for (auto n : nodes.getAsValueRange<mlir::StringAttr>())
        k.nodes.push_back(n.str());
    kernels.push_back(std::move(k));
  }
  if (kernels.empty())
    return true;
  counters = static_cast<int64_t *>(jit.lookup(kProfileCounters));
  return counters != nullptr;
}

std::vector<KernelProfile> Session::profile() const {
  std::vector<KernelProfile> out = kernels_;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].nanoseconds = profileCounters_[2 * i];
    out[i].calls = profileCounters_[2 * i + 1];
  }
  return out;
}

void Session::resetProfile() {
  if (profileCounters_)
    std::fill(profileCounters_, profileCounters_ + 2 * kernels_.size(), 0);
}

Session::Session() = default;

Session::~Session() { lathe_arena_free(arena_); }

const lathe_model_desc &Session::descriptor() const { return module_->desc; }

int Session::threads() const { return lathe_context_threads(context_.get()); }

static std::vector<TensorInfo> toInfo(const std::vector<ValueInfo> &values) {
  std::vector<TensorInfo> out;
  for (const auto &v : values)
    out.push_back({v.name, v.dtype, v.shape});
  return out;
}

std::unique_ptr<Session> Session::compile(const std::string &modelPath,
                                          const SessionOptions &options,
                                          std::string *error) {
  CompileRequest request;
  request.modelPath = modelPath;
  request.import.shapes = options.shapes;
  request.import.constantInputs = options.constantInputs;
  request.pipeline.optLevel = options.optLevel;
  request.printIRAfterAll = options.printIRAfterAll;
  request.gradients = options.gradients;
  request.trainingModeSeed = options.trainingModeSeed;
  request.threads = options.threads;
  request.pipeline.profile = options.profile;
  return SessionFactory::create(request, error);
}

std::unique_ptr<Session> SessionFactory::create(const CompileRequest &request,
                                                std::string *error) {
  const std::string &modelPath = request.modelPath;
  std::string message;
  auto ctx = createCompilerContext();
  mlir::OwningOpRef<mlir::ModuleOp> module;
  ImportResult imported;
  std::unique_ptr<Session> session(new Session());
  double importSeconds = 0, passSeconds = 0;
  auto fail = [&]() -> std::unique_ptr<Session> {
    if (error)
      *error = message;
    return nullptr;
  };
  std::string poolError;
  session->context_ = sharedContext(request.threads, poolError);
  if (!poolError.empty()) {
    message = modelPath + ": " + poolError;
    return fail();
  }
  if (!compileModel(*ctx, request, module, imported, message, &importSeconds,
                    &passSeconds))
    return fail();
  auto start = std::chrono::steady_clock::now();
  auto compiled = std::make_unique<CompiledModule>();
  auto readBytes = [&](const char *name) -> uint64_t {
    if (auto a = (*module)->getAttrOfType<mlir::IntegerAttr>(name))
      return a.getInt();
    return 0;
  };
  uint64_t arenaBytes = readBytes("lathe.arena_bytes");
  uint64_t naiveBytes = readBytes("lathe.naive_bytes");
  compiled->jit =
      JitModule::create(*module, request.pipeline.entryName, message);
  if (!compiled->jit) {
    message = modelPath + ": " + message;
    return fail();
  }
  if (request.pipeline.profile &&
      !readProfileSlots(*module, *compiled->jit, session->kernels_,
                        session->profileCounters_)) {
    message = modelPath + ": the compiled code has no kernel profile";
    return fail();
  }
  session->path_ = modelPath;
  session->inputs_ = toInfo(imported.inputs);
  session->outputs_ = toInfo(imported.outputs);
  auto describe = [&](const std::vector<TensorInfo> &infos,
                      std::vector<lathe_tensor_desc> &descs) {
    for (const auto &info : infos)
      descs.push_back({info.name.c_str(), static_cast<int32_t>(info.dtype),
                       static_cast<int32_t>(info.shape.size()),
                       info.shape.data()});
  };
  describe(session->inputs_, compiled->inputs);
  describe(session->outputs_, compiled->outputs);
  lathe_model_desc &d = compiled->desc;
  d.abi_version = LATHE_ABI_VERSION;
  d.name = session->path_.c_str();
  d.num_inputs = static_cast<int32_t>(compiled->inputs.size());
  d.num_outputs = static_cast<int32_t>(compiled->outputs.size());
  d.inputs = compiled->inputs.data();
  d.outputs = compiled->outputs.data();
  d.arena_bytes = arenaBytes;
  d.naive_bytes = naiveBytes;
  d.param_bytes = imported.paramBytes;
  d.entry = compiled->jit->entry();
  session->module_ = std::move(compiled);
  session->arena_ = lathe_arena_alloc(&session->module_->desc);
  if (!session->arena_) {
    message = modelPath + ": cannot allocate the arena of " +
              std::to_string(arenaBytes) + " bytes";
    return fail();
  }
  double jitSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  session->stats_.importSeconds = importSeconds;
  session->stats_.compileSeconds = passSeconds + jitSeconds;
  session->stats_.arenaBytes = arenaBytes;
  session->stats_.naiveBytes = naiveBytes;
  session->stats_.paramBytes = imported.paramBytes;
  return session;
}

bool Session::run(const std::vector<Tensor> &inputs,
                  std::vector<Tensor> &outputs, std::string *error) {
  auto fail = [&](const std::string &message) {
    if (error)
      *error = path_ + ": " + message;
    return false;
  };
  if (inputs.size() != inputs_.size())
    return fail("expected " + std::to_string(inputs_.size()) + " inputs, got " +
                std::to_string(inputs.size()));
  std::vector<void *> in, out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorInfo &info = inputs_[i];
    if (inputs[i].dtype != info.dtype)
      return fail("input '" + info.name + "' must be " + dtypeName(info.dtype) +
                  ", got " + dtypeName(inputs[i].dtype));
    if (inputs[i].shape != info.shape)
      return fail("input '" + info.name + "' must have shape " +
                  shapeToString(info.shape) + ", got " +
                  shapeToString(inputs[i].shape));
    if (inputs[i].bytes() != inputs[i].numel() * dtypeSize(inputs[i].dtype))
      return fail("input '" + info.name + "' holds the wrong number of bytes");
    in.push_back(const_cast<uint8_t *>(inputs[i].data.data()));
  }
  outputs.clear();
  for (const TensorInfo &info : outputs_)
    outputs.emplace_back(info.dtype, info.shape);
  for (Tensor &t : outputs)
    out.push_back(t.data.data());
  char message[256] = {0};
  if (lathe_context_run(context_.get(), &module_->desc, arena_, in.data(),
                        out.data(), message, sizeof(message)) != LATHE_OK)
    return fail(message);
  return true;
}

bool Session::runBuffers(const void *const *inputs, void *const *outputs,
                         std::string *error) {
  char message[256] = {0};
  if (lathe_context_run(context_.get(), &module_->desc, arena_,
                        const_cast<void *const *>(inputs), outputs, message,
                        sizeof(message)) != LATHE_OK) {
    if (error)
      *error = path_ + ": " + message;
    return false;
  }
  return true;
}

} // namespace lathe
