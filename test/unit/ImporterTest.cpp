// ONNX → lathe import: shape binding, the ImportResult, constants and
// initializers, opset-specific rewrites, and the one-line errors (file, node,
// every unsupported op).
#include "MlirTestUtils.h"
#include "frontend/Importer.h"
#include "ir/LatheOps.h"
#include "tools/lib/Compiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/raw_ostream.h"
#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using lathe::test::typeString;

class ImporterTest : public ::testing::Test {
protected:
  void SetUp() override {
    ctx = lathe::createCompilerContext();
    std::string tmpl = (fs::temp_directory_path() / "lathe-importer-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    ASSERT_NE(mkdtemp(buf.data()), nullptr);
    dir = buf.data();
  }
  void TearDown() override {
    module = nullptr;
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  std::string write(const std::string &name, const std::string &content) {
    std::string path = dir + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }

  /// Imports `path`; the module (if any) is owned by the fixture.
  bool import(const std::string &path, const lathe::ImportOptions &opts = {}) {
    result = lathe::ImportResult();
    error.clear();
    mlir::ModuleOp m = lathe::importOnnxFile(*ctx, path, opts, result, error);
    module = m;
    return bool(m);
  }

  mlir::func::FuncOp mainFunc() {
    return module->lookupSymbol<mlir::func::FuncOp>("main");
  }

  template <typename OpT> std::vector<OpT> opsOf() {
    std::vector<OpT> ops;
    module->walk([&](OpT op) { ops.push_back(op); });
    return ops;
  }

  std::vector<std::string> opNames() {
    std::vector<std::string> names;
    mainFunc().walk([&](mlir::Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() == "lathe")
        names.push_back(op->getName().getStringRef().str());
    });
    return names;
  }

  std::unique_ptr<mlir::MLIRContext> ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  lathe::ImportResult result;
  std::string error;
  std::string dir;
};

const char *kMatMulModel = R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[N,4] x) => (float[N,2] y) {
  w = Constant <value = float[4,2] {1,2,3,4,5,6,7,8}> ()
  y = MatMul (x, w)
}
)onnx";

//===----------------------------------------------------------------------===//
// Shapes, signature, ImportResult
//===----------------------------------------------------------------------===//

TEST_F(ImporterTest, SymbolicDimMustBeBound) {
  std::string path = write("matmul.onnxtxt", kMatMulModel);
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("'N'"), std::string::npos) << error;
  EXPECT_NE(error.find("--shape"), std::string::npos) << error;
  EXPECT_NE(error.find("'x'"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << "not one line: " << error;
}

TEST_F(ImporterTest, BoundShapeGivesStaticSignature) {
  std::string path = write("matmul.onnxtxt", kMatMulModel);
  lathe::ImportOptions opts;
  opts.shapes["x"] = {3, 4};
  ASSERT_TRUE(import(path, opts)) << error;
  auto func = mainFunc();
  ASSERT_TRUE(func);
  EXPECT_EQ(typeString(func.getFunctionType()),
            "(tensor<3x4xf32>) -> tensor<3x2xf32>");

  ASSERT_EQ(result.inputs.size(), 1u);
  EXPECT_EQ(result.inputs[0].name, "x");
  EXPECT_EQ(result.inputs[0].dtype, lathe::DType::F32);
  EXPECT_EQ(result.inputs[0].shape, (std::vector<int64_t>{3, 4}));
  ASSERT_EQ(result.outputs.size(), 1u);
  EXPECT_EQ(result.outputs[0].name, "y");
  EXPECT_EQ(result.outputs[0].dtype, lathe::DType::F32);
  EXPECT_EQ(result.outputs[0].shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(result.opset, 13);

  // A Constant node is a lathe.constant but not a parameter.
  auto consts = opsOf<lathe::ConstantOp>();
  ASSERT_EQ(consts.size(), 1u);
  EXPECT_EQ(typeString(consts[0].getType()), "tensor<4x2xf32>");
  EXPECT_EQ(result.paramBytes, 0u);
  EXPECT_EQ(opsOf<lathe::MatMulOp>().size(), 1u);
}

TEST_F(ImporterTest, BindingAnotherShapeReshapesTheGraph) {
  std::string path = write("matmul.onnxtxt", kMatMulModel);
  lathe::ImportOptions opts;
  opts.shapes["x"] = {7, 4};
  ASSERT_TRUE(import(path, opts)) << error;
  EXPECT_EQ(typeString(mainFunc().getFunctionType()),
            "(tensor<7x4xf32>) -> tensor<7x2xf32>");
  EXPECT_EQ(result.outputs[0].shape, (std::vector<int64_t>{7, 2}));
}

TEST_F(ImporterTest, ShapeForUnknownInputIsAnError) {
  std::string path = write("matmul.onnxtxt", kMatMulModel);
  lathe::ImportOptions opts;
  opts.shapes["x"] = {3, 4};
  opts.shapes["nope"] = {1};
  EXPECT_FALSE(import(path, opts));
  EXPECT_NE(error.find("'nope'"), std::string::npos) << error;
}

TEST_F(ImporterTest, ShapeContradictingFixedDimIsAnError) {
  std::string path = write("matmul.onnxtxt", kMatMulModel);
  lathe::ImportOptions opts;
  opts.shapes["x"] = {3, 5}; // the model fixes dim 1 at 4
  EXPECT_FALSE(import(path, opts));
  EXPECT_NE(error.find("'x'"), std::string::npos) << error;
  EXPECT_NE(error.find("4"), std::string::npos) << error;
  opts.shapes["x"] = {3, 4, 1}; // wrong rank
  EXPECT_FALSE(import(path, opts));
  EXPECT_NE(error.find("'x'"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST_F(ImporterTest, InitializerBecomesConstantAndCountsAsParameter) {
  std::string path = write("init.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[3,4] x, float[4,2] w = {1,2,3,4,5,6,7,8}, float[2] b = {0.5, -0.5}) => (float[3,2] y) {
  t = MatMul (x, w)
  y = Add (t, b)
}
)onnx");
  ASSERT_TRUE(import(path)) << error;
  // Initializers listed as graph inputs are not inputs of the compiled model.
  ASSERT_EQ(result.inputs.size(), 1u);
  EXPECT_EQ(result.inputs[0].name, "x");
  EXPECT_EQ(typeString(mainFunc().getFunctionType()),
            "(tensor<3x4xf32>) -> tensor<3x2xf32>");
  EXPECT_EQ(result.paramBytes, (8u + 2u) * sizeof(float));

  auto consts = opsOf<lathe::ConstantOp>();
  ASSERT_EQ(consts.size(), 2u);
  auto w = mlir::dyn_cast<mlir::DenseElementsAttr>(consts[0].getValue());
  ASSERT_TRUE(w);
  EXPECT_EQ(typeString(w.getType()), "tensor<4x2xf32>");
  std::vector<float> values(w.getValues<float>().begin(),
                            w.getValues<float>().end());
  EXPECT_EQ(values, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}));
  auto b = mlir::dyn_cast<mlir::DenseElementsAttr>(consts[1].getValue());
  ASSERT_TRUE(b);
  EXPECT_FLOAT_EQ(b.getValues<float>()[0], 0.5f);
  EXPECT_FLOAT_EQ(b.getValues<float>()[1], -0.5f);
  EXPECT_EQ(opsOf<lathe::AddOp>().size(), 1u);
}

TEST_F(ImporterTest, GemmAttributesAreCarried) {
  std::string path = write("gemm.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[4,3] a, float[5,4] b, float[5] c) => (float[3,5] y) {
  y = Gemm <alpha = 0.5, beta = 2.0, transA = 1, transB = 1> (a, b, c)
}
)onnx");
  ASSERT_TRUE(import(path)) << error;
  auto gemms = opsOf<lathe::GemmOp>();
  ASSERT_EQ(gemms.size(), 1u);
  EXPECT_TRUE(gemms[0].getTransA());
  EXPECT_TRUE(gemms[0].getTransB());
  EXPECT_FLOAT_EQ(gemms[0].getAlpha().convertToFloat(), 0.5f);
  EXPECT_FLOAT_EQ(gemms[0].getBeta().convertToFloat(), 2.0f);
  EXPECT_EQ(typeString(gemms[0].getType()), "tensor<3x5xf32>");
  ASSERT_EQ(result.inputs.size(), 3u);
  EXPECT_EQ(result.inputs[1].name, "b");
  EXPECT_EQ(result.inputs[2].shape, (std::vector<int64_t>{5}));
}

TEST_F(ImporterTest, ConvAutoPadIsResolved) {
  // SAME_UPPER on 5 with k=4, s=1: total 3 -> begin 1, end 2.
  std::string path = write("conv.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[1,2,5,5] x, float[3,2,4,4] w) => (float[1,3,5,5] y) {
  y = Conv <auto_pad = "SAME_UPPER"> (x, w)
}
)onnx");
  ASSERT_TRUE(import(path)) << error;
  auto convs = opsOf<lathe::ConvOp>();
  ASSERT_EQ(convs.size(), 1u);
  EXPECT_EQ(std::vector<int64_t>(convs[0].getPads().begin(),
                                 convs[0].getPads().end()),
            (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(typeString(convs[0].getType()), "tensor<1x3x5x5xf32>");
}

//===----------------------------------------------------------------------===//
// Opset-specific rewrites and Reshape
//===----------------------------------------------------------------------===//

TEST_F(ImporterTest, Opset11SoftmaxBecomesFlattenSoftmaxReshape) {
  std::string path = write("softmax11.onnxtxt", R"onnx(
<ir_version: 6, opset_import: ["" : 11]>
agraph (float[2,3,4] x) => (float[2,3,4] y) {
  y = Softmax <axis = 2> (x)
}
)onnx");
  ASSERT_TRUE(import(path)) << error;
  EXPECT_EQ(result.opset, 11);
  EXPECT_EQ(opNames(), (std::vector<std::string>{"lathe.flatten",
                                                 "lathe.softmax",
                                                 "lathe.reshape"}));
  auto flat = opsOf<lathe::FlattenOp>();
  ASSERT_EQ(flat.size(), 1u);
  EXPECT_EQ(typeString(flat[0].getType()), "tensor<6x4xf32>");
  auto sm = opsOf<lathe::SoftmaxOp>();
  ASSERT_EQ(sm.size(), 1u);
  EXPECT_EQ(static_cast<int64_t>(sm[0].getAxis()), 1);
  auto rs = opsOf<lathe::ReshapeOp>();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(typeString(rs[0].getType()), "tensor<2x3x4xf32>");
}

TEST_F(ImporterTest, Opset11SoftmaxDefaultAxisIsOne) {
  std::string path = write("softmax11d.onnxtxt", R"onnx(
<ir_version: 6, opset_import: ["" : 11]>
agraph (float[2,3,4] x) => (float[2,3,4] y) {
  y = LogSoftmax (x)
}
)onnx");
  ASSERT_TRUE(import(path)) << error;
  auto flat = opsOf<lathe::FlattenOp>();
  ASSERT_EQ(flat.size(), 1u);
  EXPECT_EQ(typeString(flat[0].getType()), "tensor<2x12xf32>");
  EXPECT_EQ(opsOf<lathe::LogSoftmaxOp>().size(), 1u);
}

TEST_F(ImporterTest, Opset13SoftmaxIsOneOp) {
  std::string path = write("softmax13.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] x) => (float[2,3,4] y) {
  y = Softmax <axis = 1> (x)
}
)onnx");
  ASSERT_TRUE(import(path)) << error;
  EXPECT_EQ(opNames(), (std::vector<std::string>{"lathe.softmax"}));
  EXPECT_EQ(static_cast<int64_t>(opsOf<lathe::SoftmaxOp>()[0].getAxis()), 1);
}

TEST_F(ImporterTest, ReshapeZeroAndMinusOneAreResolved) {
  std::string path = write("reshape.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] x) => (float[2,12] y) {
  s = Constant <value = int64[2] {0, -1}> ()
  y = Reshape (x, s)
}
)onnx");
  ASSERT_TRUE(import(path)) << error;
  auto rs = opsOf<lathe::ReshapeOp>();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(std::vector<int64_t>(rs[0].getShape().begin(), rs[0].getShape().end()),
            (std::vector<int64_t>{2, 12}));
  EXPECT_EQ(typeString(rs[0].getType()), "tensor<2x12xf32>");
  EXPECT_EQ(result.outputs[0].shape, (std::vector<int64_t>{2, 12}));
}

TEST_F(ImporterTest, ReshapeShapeFromInitializer) {
  std::string path = write("reshape_init.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] x, int64[3] s = {-1, 0, 2}) => (float[4,3,2] y) {
  y = Reshape (x, s)
}
)onnx");
  ASSERT_TRUE(import(path)) << error;
  auto rs = opsOf<lathe::ReshapeOp>();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(std::vector<int64_t>(rs[0].getShape().begin(), rs[0].getShape().end()),
            (std::vector<int64_t>{4, 3, 2}));
}

TEST_F(ImporterTest, ReshapeNonConstantShapeIsAnError) {
  std::string path = write("reshape_dyn.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] x, int64[2] s) => (float[A,B] y) {
  y = Reshape (x, s)
}
)onnx");
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find("Reshape"), std::string::npos) << error;
  EXPECT_NE(error.find("constant"), std::string::npos) << error;
}

TEST_F(ImporterTest, ReshapeImpossibleShapeNamesTheNode) {
  std::string path = write("reshape_bad.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] x) => (float[5,5] y) {
  s = Constant <value = int64[2] {5, 5}> ()
  y = Reshape (x, s)
}
)onnx");
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("node 'Reshape#1'"), std::string::npos) << error;
  EXPECT_NE(error.find("24"), std::string::npos) << error;
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST_F(ImporterTest, AllUnsupportedOpsInOneError) {
  std::string path = write("unsupported.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3] x) => (float[2,3] y) {
  a = NonZero (x)
  b = Relu (a)
  y = Unique (b)
}
)onnx");
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("unsupported ops"), std::string::npos) << error;
  EXPECT_NE(error.find("NonZero"), std::string::npos) << error;
  EXPECT_NE(error.find("Unique"), std::string::npos) << error;
  EXPECT_EQ(error.find("Relu"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST_F(ImporterTest, ConvGroupNotDividingChannelsNamesTheNode) {
  std::string path = write("conv_group.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[1,4,5,5] x, float[3,1,3,3] w) => (float[1,3,3,3] y) {
  r = Relu (x)
  y = Conv <group = 3> (r, w)
}
)onnx");
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  // Unnamed nodes are named by op type and index.
  EXPECT_NE(error.find("node 'Conv#1'"), std::string::npos) << error;
  EXPECT_NE(error.find("(Conv)"), std::string::npos) << error;
  EXPECT_NE(error.find("group 3"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST_F(ImporterTest, TransposeBadPermNamesTheNode) {
  std::string path = write("transpose.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3] x) => (float[2,2] y) {
  y = Transpose <perm = [0, 0]> (x)
}
)onnx");
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("node 'Transpose#0'"), std::string::npos) << error;
  EXPECT_NE(error.find("not a permutation"), std::string::npos) << error;
}

TEST_F(ImporterTest, BadAutoPadNamesTheNode) {
  std::string path = write("autopad.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[1,1,4,4] x) => (float[a,b,c,d] y) {
  y = MaxPool <kernel_shape = [2, 2], auto_pad = "SAME"> (x)
}
)onnx");
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find("node 'MaxPool#0'"), std::string::npos) << error;
  EXPECT_NE(error.find("SAME"), std::string::npos) << error;
}

TEST_F(ImporterTest, GarbageBinaryFile) {
  std::string garbage = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff not onnx";
  std::string path = write("garbage.onnx", garbage);
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("not an ONNX model"), std::string::npos) << error;
}

TEST_F(ImporterTest, EmptyFile) {
  std::string path = write("empty.onnx", "");
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("empty"), std::string::npos) << error;
}

TEST_F(ImporterTest, TextSyntaxError) {
  std::string path = write("broken.onnxtxt", "<ir_version: 8, opset_import: [");
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("ONNX text syntax"), std::string::npos) << error;
}

TEST_F(ImporterTest, MissingFile) {
  std::string path = dir + "/does_not_exist.onnx";
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

TEST_F(ImporterTest, UnsupportedOpsetIsAnError) {
  std::string path = write("opset99.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 99]>
agraph (float[2,3] x) => (float[2,3] y) {
  y = Relu (x)
}
)onnx");
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find("opset 99"), std::string::npos) << error;
}

TEST_F(ImporterTest, SupportedOpsAreSorted) {
  const auto &ops = lathe::supportedOnnxOps();
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
  for (const char *op : {"Conv", "Gemm", "Softmax", "MatMul", "MaxPool",
                         "AveragePool", "Reshape", "Transpose", "Concat"})
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
  EXPECT_EQ(std::find(ops.begin(), ops.end(), "NonZero"), ops.end());
  EXPECT_EQ(std::adjacent_find(ops.begin(), ops.end()), ops.end());
}

//===----------------------------------------------------------------------===//
// Binary models built with the ONNX protobuf classes (named nodes)
//===----------------------------------------------------------------------===//

/// A float tensor value; a dim < 0 becomes a symbolic dim.
void addTensorValue(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> *list,
                    const std::string &name, std::vector<int64_t> dims) {
  onnx::ValueInfoProto *v = list->Add();
  v->set_name(name);
  auto *tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto *shape = tt->mutable_shape();
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] >= 0)
      shape->add_dim()->set_dim_value(dims[i]);
    else
      shape->add_dim()->set_dim_param("d" + std::to_string(i));
  }
}

onnx::ModelProto convModel(int64_t group, const std::string &nodeName) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("lathe-unit-test");
  auto *opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  onnx::GraphProto *g = model.mutable_graph();
  g->set_name("g");
  addTensorValue(g->mutable_input(), "x", {1, 4, 5, 5});
  addTensorValue(g->mutable_output(), "y", {-1, -1, -1, -1});

  onnx::TensorProto *w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  std::vector<int64_t> wdims = {6, 4 / group, 3, 3};
  if (4 % group != 0)
    wdims = {6, 1, 3, 3};
  int64_t n = 1;
  for (int64_t d : wdims) {
    w->add_dims(d);
    n *= d;
  }
  for (int64_t i = 0; i < n; ++i)
    w->add_float_data(0.01f * static_cast<float>(i % 7));

  onnx::NodeProto *node = g->add_node();
  node->set_name(nodeName);
  node->set_op_type("Conv");
  node->add_input("x");
  node->add_input("w");
  node->add_output("y");
  auto *a = node->add_attribute();
  a->set_name("group");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(group);
  return model;
}

TEST_F(ImporterTest, BinaryModelImports) {
  std::string bytes;
  ASSERT_TRUE(convModel(2, "myconv").SerializeToString(&bytes));
  std::string path = write("conv_ok.onnx", bytes);
  ASSERT_TRUE(import(path)) << error;
  EXPECT_EQ(typeString(mainFunc().getFunctionType()),
            "(tensor<1x4x5x5xf32>) -> tensor<1x6x3x3xf32>");
  EXPECT_EQ(result.paramBytes, 6u * 2u * 3u * 3u * sizeof(float));
  auto convs = opsOf<lathe::ConvOp>();
  ASSERT_EQ(convs.size(), 1u);
  EXPECT_EQ(static_cast<int64_t>(convs[0].getGroup()), 2);
  // The node name becomes the op's location.
  std::string loc;
  llvm::raw_string_ostream os(loc);
  convs[0].getLoc().print(os);
  os.flush();
  EXPECT_NE(loc.find("myconv"), std::string::npos) << loc;
}

TEST_F(ImporterTest, BinaryModelErrorNamesTheNode) {
  std::string bytes;
  ASSERT_TRUE(convModel(3, "myconv").SerializeToString(&bytes));
  std::string path = write("conv_bad.onnx", bytes);
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("node 'myconv'"), std::string::npos) << error;
  EXPECT_NE(error.find("group 3"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST_F(ImporterTest, BinaryModelUnsupportedOpsListNodeNames) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto *opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  onnx::GraphProto *g = model.mutable_graph();
  g->set_name("g");
  addTensorValue(g->mutable_input(), "x", {2, 3});
  addTensorValue(g->mutable_output(), "y", {2, 3});
  const char *ops[][4] = {{"NonZero", "x", "a", "first_bad"},
                          {"Relu", "a", "b", "fine"},
                          {"Unique", "b", "y", "second_bad"}};
  for (auto &o : ops) {
    onnx::NodeProto *node = g->add_node();
    node->set_op_type(o[0]);
    node->add_input(o[1]);
    node->add_output(o[2]);
    node->set_name(o[3]);
  }
  std::string bytes;
  ASSERT_TRUE(model.SerializeToString(&bytes));
  std::string path = write("unsupported.onnx", bytes);
  EXPECT_FALSE(import(path));
  EXPECT_NE(error.find("NonZero (node 'first_bad')"), std::string::npos)
      << error;
  EXPECT_NE(error.find("Unique (node 'second_bad')"), std::string::npos)
      << error;
  EXPECT_EQ(error.find("fine"), std::string::npos) << error;
}

} // namespace
