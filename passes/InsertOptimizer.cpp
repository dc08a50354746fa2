// lathe-insert-optimizer: appends the optimizer update to a gradient
// function (Passes.td has the contract). The update is ordinary lathe ops
// after the backward graph, so fusion puts it into the kernels that compute
// the gradients, and memory planning treats the state like any value.
#include "ir/LatheOps.h"
#include "ir/VJPUtils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_INSERTOPTIMIZER
#include "passes/Passes.h.inc"

namespace {

enum class Kind { SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam, Unknown };

/// The state slots each optimizer keeps per parameter.
SmallVector<StringRef> slotsOf(Kind kind) {
  switch (kind) {
  case Kind::Momentum:
  case Kind::Nesterov:
    return {"velocity"};
  case Kind::AdaGrad:
    return {"sum_sq"};
  case Kind::RMSProp:
    return {"sq_avg"};
  case Kind::Adam:
    return {"m", "v"};
  default:
    return {};
  }
}

struct InsertOptimizerPass : impl::InsertOptimizerBase<InsertOptimizerPass> {
  using InsertOptimizerBase::InsertOptimizerBase;

  void runOnOperation() override {
    if (failed(insert()))
      signalPassFailure();
  }

  LogicalResult insert() {
    ModuleOp module = getOperation();
    std::string funcName = this->funcName;
    Kind k = llvm::StringSwitch<Kind>(std::string(kind))
                 .Case("sgd", Kind::SGD)
                 .Case("momentum", Kind::Momentum)
                 .Case("nesterov", Kind::Nesterov)
                 .Case("adagrad", Kind::AdaGrad)
                 .Case("rmsprop", Kind::RMSProp)
                 .Case("adam", Kind::Adam)
                 .Default(Kind::Unknown);
    if (k == Kind::Unknown)
      return module.emitError("lathe-insert-optimizer: unknown kind '")
             << std::string(kind) << "'";
    auto fn = module.lookupSymbol<func::FuncOp>(funcName);
    if (!fn || fn.isExternal() || !fn.getBody().hasOneBlock())
      return module.emitError("lathe-insert-optimizer: no single-block "
                              "function @")
             << funcName;
    size_t numParams = wrt.size();
    if (numParams == 0 || numParams > fn.getNumResults())
      return fn.emitError("lathe-insert-optimizer: ")
             << numParams << " parameters but " << fn.getNumResults()
             << " results";
    Block &body = fn.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    size_t keep = fn.getNumResults() - numParams;
    SmallVector<Value> params, grads, rawGrads;
    SmallVector<std::string> names;
    for (size_t i = 0; i < numParams; ++i) {
      int64_t index = wrt[i];
      if (index < 0 || index >= fn.getNumArguments())
        return fn.emitError("lathe-insert-optimizer: wrt ")
               << index << " is not an argument index";
      Value p = body.getArgument(index), g = ret.getOperand(keep + i);
      auto type = dyn_cast<RankedTensorType>(p.getType());
      if (!type || !type.getElementType().isF32() || g.getType() != type)
        return fn.emitError("lathe-insert-optimizer: argument ")
               << index << " must be an f32 tensor with a gradient result of "
               << "its type";
      auto name = fn.getArgAttrOfType<StringAttr>(index, "lathe.name");
      params.push_back(p);
      grads.push_back(g);
      names.push_back(name ? name.str() : "arg" + std::to_string(index));
    }

    rawGrads = grads;
    OpBuilder b(ret);
    Location loc = ret.getLoc();
    Type f32 = b.getF32Type();
    auto scalarType = RankedTensorType::get({}, f32);
    auto c = [&](double v) { return vjp::scalar(b, loc, f32, v); };
    SmallVector<std::string> newArgNames;
    auto addArg = [&](Type type, const std::string &name) {
      newArgNames.push_back(name);
      return body.addArgument(type, loc);
    };
    Value lr = addArg(scalarType, "lathe.lr");

    // Gradient transformations, in the documented order.
    if (weightDecay != 0)
      for (size_t i = 0; i < numParams; ++i)
        grads[i] = b.create<AddOp>(
            loc, grads[i], b.create<MulOp>(loc, c(weightDecay), params[i]));
    if (clipValue > 0)
      for (Value &g : grads)
        g = b.create<MaxOp>(loc,
                            b.create<MinOp>(loc, g, c(clipValue)).getResult(),
                            c(-clipValue));
    if (clipGlobalNorm > 0) {
      Value total;
      for (Value g : grads) {
        auto rank = cast<RankedTensorType>(g.getType()).getRank();
        SmallVector<int64_t> all;
        for (int64_t d = 0; d < rank; ++d)
          all.push_back(d);
        Value sq = b.create<ReduceSumSquareOp>(loc, g, all, /*keepdims=*/false);
        total = total ? b.create<AddOp>(loc, total, sq).getResult() : sq;
      }
      // norm 0 gives clip / 0 = inf and a scale of 1.
      Value scale = b.create<MinOp>(
          loc, c(1.0),
          b.create<DivOp>(loc, c(clipGlobalNorm),
                          b.create<SqrtOp>(loc, total).getResult())
              .getResult());
      for (Value &g : grads)
        g = b.create<MulOp>(loc, g, scale);
    }

    SmallVector<Value> newParams, newState;
    SmallVector<std::string> stateNames;
    Value tNew, correction1, correction2; // adam: 1 - beta^t
    if (k == Kind::Adam) {
      Value t = addArg(scalarType, "optimizer/t");
      tNew = b.create<AddOp>(loc, t, c(1.0));
      correction1 = b.create<SubOp>(
          loc, c(1.0), b.create<PowOp>(loc, c(beta1), tNew).getResult());
      correction2 = b.create<SubOp>(
          loc, c(1.0), b.create<PowOp>(loc, c(beta2), tNew).getResult());
    }
    for (size_t i = 0; i < numParams; ++i) {
      Value p = params[i], g = grads[i];
      SmallVector<Value> state;
      for (StringRef slot : slotsOf(k)) {
        std::string name = "optimizer/" + names[i] + "/" + slot.str();
        state.push_back(addArg(p.getType(), name));
        stateNames.push_back(name);
      }
      auto mul = [&](Value x, Value y) {
        return b.create<MulOp>(loc, x, y).getResult();
      };
      auto add = [&](Value x, Value y) {
        return b.create<AddOp>(loc, x, y).getResult();
      };
      auto sub = [&](Value x, Value y) {
        return b.create<SubOp>(loc, x, y).getResult();
      };
      auto div = [&](Value x, Value y) {
        return b.create<DivOp>(loc, x, y).getResult();
      };
      auto sqrt = [&](Value x) { return b.create<SqrtOp>(loc, x).getResult(); };
      Value step; // what is subtracted from p, before the learning rate
      switch (k) {
      case Kind::SGD:
        step = g;
        break;
      case Kind::Momentum:
      case Kind::Nesterov: {
        Value v = add(mul(c(momentum), state[0]), g);
        newState.push_back(v);
        step = k == Kind::Momentum ? v : add(g, mul(c(momentum), v));
        break;
      }
      case Kind::AdaGrad:
      case Kind::RMSProp: {
        Value s = k == Kind::AdaGrad
                      ? add(state[0], mul(g, g))
                      : add(mul(c(rho), state[0]), mul(c(1 - rho), mul(g, g)));
        newState.push_back(s);
        step = div(g, add(sqrt(s), c(eps)));
        break;
      }
      case Kind::Adam: {
        Value m = add(mul(c(beta1), state[0]), mul(c(1 - beta1), g));
        Value v = add(mul(c(beta2), state[1]), mul(c(1 - beta2), mul(g, g)));
        newState.push_back(m);
        newState.push_back(v);
        step = div(div(m, correction1), add(sqrt(div(v, correction2)), c(eps)));
        break;
      }
      default:
        llvm_unreachable("kind checked above");
      }
      newParams.push_back(sub(p, mul(lr, step)));
    }
    if (k == Kind::Adam) {
      newState.push_back(tNew);
      stateNames.push_back("optimizer/t");
    }

    // Results: the kept ones, the parameters, the state; each new one named
    // after the argument it is the next value of.
    SmallVector<Value> results(ret.getOperands().take_front(keep));
    SmallVector<DictionaryAttr> resultAttrs;
    for (size_t i = 0; i < keep; ++i)
      resultAttrs.push_back(fn.getResultAttrDict(i) ? fn.getResultAttrDict(i)
                                                    : b.getDictionaryAttr({}));
    auto named = [&](const std::string &name) {
      return b.getDictionaryAttr(
          {b.getNamedAttr("lathe.name", b.getStringAttr(name))});
    };
    for (size_t i = 0; i < numParams; ++i) {
      results.push_back(newParams[i]);
      resultAttrs.push_back(named(names[i]));
    }
    for (size_t i = 0; i < newState.size(); ++i) {
      results.push_back(newState[i]);
      resultAttrs.push_back(named(stateNames[i]));
    }
    if (keepGradients)
      for (size_t i = 0; i < numParams; ++i) {
        results.push_back(rawGrads[i]);
        resultAttrs.push_back(named("grad/" + names[i]));
      }
    b.create<func::ReturnOp>(loc, results);
    ret.erase();
    SmallVector<DictionaryAttr> argAttrs;
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      argAttrs.push_back(fn.getArgAttrDict(i) ? fn.getArgAttrDict(i)
                                              : b.getDictionaryAttr({}));
    for (const std::string &name : newArgNames)
      argAttrs.push_back(named(name));
    fn.setType(b.getFunctionType(body.getArgumentTypes(),
                                 ValueRange(results).getTypes()));
    fn.setAllArgAttrs(argAttrs);
    fn.setAllResultAttrs(resultAttrs);
    return success();
  }
};

} // namespace
} // namespace lathe
