// lathe run MODEL: compile for the host CPU, run on given or random inputs,
// print a summary of each output, optionally save them as .npz.
#include "tools/lathe/Cli.h"

#include "lathe/Npy.h"
#include "lathe/Session.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

namespace lathe::cli {

static const char *kRunHelp =
    "usage: lathe run MODEL [options]\n"
    "\n"
    "Compiles MODEL (.onnx, or ONNX text syntax as .onnxtxt) for this CPU and\n"
    "runs it once.\n"
    "\n"
    "options:\n"
    "  --input NAME=FILE.npy  value of input NAME (random when not given)\n"
    "  --shape NAME=DIMS      bind the dims of input NAME, e.g. x=1x3x32x32\n"
    "  --freeze NAME=FILE.npy compile input NAME as this constant (e.g. a\n"
    "                         Reshape's shape given as an input)\n"
    "  --output OUT.npz       write every output, keyed by its ONNX name\n"
    "  --seed S               seed of the random inputs (default 0)\n"
    "  -O0                    skip graph optimisation\n"
    "  --threads N            threads of the compiled code (default 0 =\n"
    "                         every core)\n"
    "  --print-ir-after-all   print the IR after every pass to stderr\n"
    "  --grad OUTPUT          also compute the gradient of OUTPUT (a float\n"
    "                         output; summed when it has several elements)\n"
    "                         with respect to the inputs named by --wrt;\n"
    "                         they follow the outputs as grad_<INPUT>, e.g.\n"
    "                         a saliency map: --grad logit --wrt image\n"
    "  --wrt INPUT[,INPUT]    the float inputs to differentiate with respect\n"
    "                         to (needed by --grad)\n";

static Tensor randomTensor(const TensorInfo &info, std::mt19937_64 &rng) {
  Tensor t(info.dtype, info.shape);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (int64_t i = 0; i < t.numel(); ++i) {
    switch (t.dtype) {
    case DType::F32:
      t.as<float>()[i] = static_cast<float>(uniform(rng));
      break;
    case DType::F64:
      t.as<double>()[i] = uniform(rng);
      break;
    case DType::I64:
      t.as<int64_t>()[i] = static_cast<int64_t>(rng() % 10);
      break;
    case DType::I32:
      t.as<int32_t>()[i] = static_cast<int32_t>(rng() % 10);
      break;
    case DType::Bool:
    case DType::U8:
    case DType::I8:
      t.as<uint8_t>()[i] = static_cast<uint8_t>(rng() % 2);
      break;
    default:
      break; // zero-filled
    }
  }
  return t;
}

static void printSummary(const TensorInfo &info, const Tensor &t) {
  std::printf("  %s: %s[%s]", info.name.c_str(), dtypeName(t.dtype),
              shapeToString(t.shape).c_str());
  int64_t n = t.numel();
  if (n == 0) {
    std::printf("\n");
    return;
  }
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  int64_t argmax = 0;
  for (int64_t i = 0; i < n; ++i) {
    double v = t.valueAt(i);
    if (v > hi)
      argmax = i;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  std::printf("  min %.6g  max %.6g (at %lld)  mean %.6g\n", lo, hi,
              static_cast<long long>(argmax), sum / n);
  std::printf("    values:");
  for (int64_t i = 0; i < std::min<int64_t>(n, 8); ++i)
    std::printf(" %.6g", t.valueAt(i));
  std::printf(n > 8 ? " ...\n" : "\n");
}

int runCommand(int argc, char **argv) {
  std::string model, outputPath, gradOutput;
  std::vector<std::string> gradWrt;
  std::vector<std::pair<std::string, std::string>> inputFiles;
  SessionOptions options;
  uint64_t seed = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *flag) -> const char * {
      if (i + 1 >= argc) {
        fail(kBadUsage, std::string(flag) + " needs a value");
        return nullptr;
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kRunHelp, stdout);
      return kOk;
    } else if (arg == "--input") {
      const char *v = value("--input");
      std::string name, file;
      if (!v)
        return kBadUsage;
      if (!splitAssignment(v, name, file))
        return fail(kBadUsage, "--input expects NAME=FILE.npy, got '" +
                                   std::string(v) + "'");
      inputFiles.push_back({name, file});
    } else if (arg == "--freeze") {
      const char *v = value("--freeze");
      std::string name, file, error;
      if (!v)
        return kBadUsage;
      if (!splitAssignment(v, name, file))
        return fail(kBadUsage, "--freeze expects NAME=FILE.npy, got '" +
                                   std::string(v) + "'");
      Tensor t;
      if (!readNpy(file, t, &error))
        return fail(kBadInput, error);
      options.constantInputs[name] = std::move(t);
    } else if (arg == "--shape") {
      const char *v = value("--shape");
      if (!v || !addShape(v, options.shapes))
        return kBadUsage;
    } else if (arg == "--output" || arg == "-o") {
      const char *v = value("--output");
      if (!v)
        return kBadUsage;
      outputPath = v;
    } else if (arg == "--seed") {
      const char *v = value("--seed");
      if (!v)
        return kBadUsage;
      char *end = nullptr;
      seed = std::strtoull(v, &end, 10);
      if (*end)
        return fail(kBadUsage, "--seed expects an integer");
    } else if (arg == "-O0") {
      options.optLevel = 0;
    } else if (arg == "--threads") {
      const char *v = value("--threads");
      if (!v || !parseThreads("run", v, options.threads))
        return kBadUsage;
    } else if (arg == "--print-ir-after-all") {
      options.printIRAfterAll = true;
    } else if (arg == "--grad") {
      const char *v = value("--grad");
      if (!v)
        return kBadUsage;
      gradOutput = v;
    } else if (arg == "--wrt") {
      const char *v = value("--wrt");
      if (!v)
        return kBadUsage;
      std::string list = v;
      for (size_t pos = 0; pos <= list.size();) {
        size_t comma = std::min(list.find(',', pos), list.size());
        if (comma == pos)
          return fail(kBadUsage,
                      "--wrt expects INPUT[,INPUT...], got '" + list + "'");
        gradWrt.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else if (!arg.empty() && arg[0] == '-') {
      return fail(kBadUsage, "run: unknown option '" + arg + "'");
    } else if (model.empty()) {
      model = arg;
    } else {
      return fail(kBadUsage, "run: more than one model given");
    }
  }
  if (model.empty())
    return fail(kBadUsage, "run: no model given (usage: lathe run MODEL ...)");
  if (gradOutput.empty() != gradWrt.empty())
    return fail(kBadUsage, "run: --grad and --wrt go together");
  if (!gradOutput.empty())
    options.gradients = GradientRequest{gradOutput, gradWrt};

  std::map<std::string, Tensor> given;
  for (const auto &[name, file] : inputFiles) {
    Tensor t;
    std::string error;
    if (!readNpy(file, t, &error))
      return fail(kBadInput, error);
    // An input file binds the input's shape unless --shape says otherwise.
    if (!options.shapes.count(name))
      options.shapes[name] = t.shape;
    given[name] = std::move(t);
  }

  std::string error;
  auto session = Session::compile(model, options, &error);
  if (!session)
    return fail(kBadInput, error);
  const CompileStats &stats = session->stats();
  std::printf("compiled %s in %.1f ms (import %.1f ms, passes + LLVM + JIT "
              "%.1f ms)\n",
              model.c_str(), 1e3 * (stats.importSeconds + stats.compileSeconds),
              1e3 * stats.importSeconds, 1e3 * stats.compileSeconds);
  std::printf("  parameters %llu bytes, arena %llu bytes\n",
              static_cast<unsigned long long>(stats.paramBytes),
              static_cast<unsigned long long>(stats.arenaBytes));

  std::mt19937_64 rng(seed);
  std::vector<Tensor> inputs;
  std::printf("inputs:\n");
  for (const TensorInfo &info : session->inputs()) {
    auto it = given.find(info.name);
    bool random = it == given.end();
    inputs.push_back(random ? randomTensor(info, rng) : std::move(it->second));
    std::printf("  %s: %s[%s] %s\n", info.name.c_str(), dtypeName(info.dtype),
                shapeToString(info.shape).c_str(),
                random ? "(random)" : "(from file)");
    if (!random)
      given.erase(it);
  }
  if (!given.empty())
    return fail(kBadInput, model + ": --input names '" + given.begin()->first +
                               "', which is not a model input");

  std::vector<Tensor> outputs;
  auto start = std::chrono::steady_clock::now();
  if (!session->run(inputs, outputs, &error))
    return fail(kBadInput, error);
  double ms = 1e3 * std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  std::printf("ran in %.3f ms\noutputs:\n", ms);
  for (size_t i = 0; i < outputs.size(); ++i)
    printSummary(session->outputs()[i], outputs[i]);

  if (!outputPath.empty()) {
    std::vector<std::pair<std::string, Tensor>> arrays;
    for (size_t i = 0; i < outputs.size(); ++i)
      arrays.push_back({session->outputs()[i].name, std::move(outputs[i])});
    if (!writeNpz(outputPath, arrays, &error))
      return fail(kBadInput, error);
    std::printf("wrote %s\n", outputPath.c_str());
  }
  return kOk;
}

} // namespace lathe::cli
