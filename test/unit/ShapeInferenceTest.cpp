// Unit tests for the plain-C++ shape rules in ir/ShapeInference.h: numpy
// broadcasting, sliding-window output sizes, ONNX auto_pad and Reshape.
#include "ir/ShapeInference.h"

#include <gtest/gtest.h>

using lathe::Shape;

namespace {

//===----------------------------------------------------------------------===//
// broadcastShapes
//===----------------------------------------------------------------------===//

TEST(BroadcastShapes, EqualShapes) {
  auto r = lathe::broadcastShapes({2, 3, 4}, {2, 3, 4});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (Shape{2, 3, 4}));
}

TEST(BroadcastShapes, TrailingAlignment) {
  // numpy: (2,3) + (3,) -> (2,3)
  auto r = lathe::broadcastShapes({2, 3}, {3});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (Shape{2, 3}));
  // Symmetric.
  r = lathe::broadcastShapes({3}, {2, 3});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (Shape{2, 3}));
}

TEST(BroadcastShapes, OnesStretchOnBothSides) {
  // numpy: (8,1,6,1) + (7,1,5) -> (8,7,6,5)
  auto r = lathe::broadcastShapes({8, 1, 6, 1}, {7, 1, 5});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (Shape{8, 7, 6, 5}));
  // numpy: (5,1) + (1,4) -> (5,4)
  r = lathe::broadcastShapes({5, 1}, {1, 4});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (Shape{5, 4}));
}

TEST(BroadcastShapes, RankZero) {
  auto r = lathe::broadcastShapes({}, {4, 5});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (Shape{4, 5}));
  r = lathe::broadcastShapes({3}, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (Shape{3}));
  r = lathe::broadcastShapes({}, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->empty());
}

TEST(BroadcastShapes, ZeroSizedDims) {
  // numpy: (0,) + (1,) -> (0,); (2,0) + (2,1) -> (2,0)
  auto r = lathe::broadcastShapes({0}, {1});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (Shape{0}));
  r = lathe::broadcastShapes({2, 0}, {2, 1});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (Shape{2, 0}));
  // 0 against 3 is incompatible.
  EXPECT_FALSE(lathe::broadcastShapes({0}, {3}).has_value());
}

TEST(BroadcastShapes, Incompatible) {
  EXPECT_FALSE(lathe::broadcastShapes({3}, {4}).has_value());
  EXPECT_FALSE(lathe::broadcastShapes({2, 3}, {3, 2}).has_value());
  // numpy: (2,1) + (8,4,3) fails (2 vs 4).
  EXPECT_FALSE(lathe::broadcastShapes({2, 1}, {8, 4, 3}).has_value());
}

//===----------------------------------------------------------------------===//
// windowOutputSize
//===----------------------------------------------------------------------===//

TEST(WindowOutputSize, FloorMode) {
  // (5 - 3) / 1 + 1
  EXPECT_EQ(lathe::windowOutputSize(5, 3, 1, 1, 0, 0, false), 3);
  // (5 + 1 + 1 - 3) / 2 + 1 = 3
  EXPECT_EQ(lathe::windowOutputSize(5, 3, 2, 1, 1, 1, false), 3);
  // (6 - 2) / 2 + 1 = 3
  EXPECT_EQ(lathe::windowOutputSize(6, 2, 2, 1, 0, 0, false), 3);
  // floor((7 - 2) / 2) + 1 = 3
  EXPECT_EQ(lathe::windowOutputSize(7, 2, 2, 1, 0, 0, false), 3);
  // 32x32 with a 3x3 kernel, pad 1, stride 1: same size.
  EXPECT_EQ(lathe::windowOutputSize(32, 3, 1, 1, 1, 1, false), 32);
}

TEST(WindowOutputSize, CeilMode) {
  // ceil((7 - 2) / 2) + 1 = 4 (the last window covers input index 6 only).
  EXPECT_EQ(lathe::windowOutputSize(7, 2, 2, 1, 0, 0, true), 4);
  // Exact fit: ceil and floor agree.
  EXPECT_EQ(lathe::windowOutputSize(6, 2, 2, 1, 0, 0, true), 3);
  // ceil((5 - 3) / 3) + 1 = 2; the second window starts at 3 < 5.
  EXPECT_EQ(lathe::windowOutputSize(5, 3, 3, 1, 0, 0, true), 2);
  EXPECT_EQ(lathe::windowOutputSize(5, 3, 3, 1, 0, 0, false), 1);
}

TEST(WindowOutputSize, CeilDropsWindowStartingInEndPadding) {
  // in=5, k=2, s=2, pads 1/1: room = 5 + 2 - 2 = 5, ceil(5/2) + 1 = 4, but the
  // 4th window would start at padded index 6 >= in + padBegin (6): dropped.
  // (PyTorch: MaxPool1d(2, 2, padding=1, ceil_mode=True) on length 5 gives 3.)
  EXPECT_EQ(lathe::windowOutputSize(5, 2, 2, 1, 1, 1, true), 3);
  EXPECT_EQ(lathe::windowOutputSize(5, 2, 2, 1, 1, 1, false), 3);
  // in=4, k=3, s=2, pads 1/1: room = 3, ceil(3/2)+1 = 3, third window starts
  // at padded 4 < in + padBegin (5): kept.
  EXPECT_EQ(lathe::windowOutputSize(4, 3, 2, 1, 1, 1, true), 3);
  EXPECT_EQ(lathe::windowOutputSize(4, 3, 2, 1, 1, 1, false), 2);
}

TEST(WindowOutputSize, Dilation) {
  // span = (3 - 1) * 2 + 1 = 5; (7 - 5) / 1 + 1 = 3
  EXPECT_EQ(lathe::windowOutputSize(7, 3, 1, 2, 0, 0, false), 3);
  // span = 5, pads 2/2: (7 + 4 - 5) / 1 + 1 = 7
  EXPECT_EQ(lathe::windowOutputSize(7, 3, 1, 2, 2, 2, false), 7);
  // span = (2 - 1) * 3 + 1 = 4; (10 - 4) / 2 + 1 = 4
  EXPECT_EQ(lathe::windowOutputSize(10, 2, 2, 3, 0, 0, false), 4);
}

TEST(WindowOutputSize, WindowDoesNotFit) {
  EXPECT_LT(lathe::windowOutputSize(2, 3, 1, 1, 0, 0, false), 1);
  // Dilation makes a 3-wide kernel span 5 > 4.
  EXPECT_LT(lathe::windowOutputSize(4, 3, 1, 2, 0, 0, false), 1);
  // Padding can make it fit.
  EXPECT_EQ(lathe::windowOutputSize(2, 3, 1, 1, 1, 0, false), 1);
}

//===----------------------------------------------------------------------===//
// resolveAutoPad
//===----------------------------------------------------------------------===//

TEST(ResolveAutoPad, SameUpperPutsExtraAtEnd) {
  // in=5, k=4, s=1: out=5, total = 4*1 + 4 - 5 = 3 -> begin 1, end 2.
  // in=7, k=2, s=2: out=4, total = 3*2 + 2 - 7 = 1 -> begin 0, end 1.
  Shape pads;
  std::string err;
  ASSERT_TRUE(lathe::resolveAutoPad("SAME_UPPER", {5, 7}, {4, 2}, {1, 2},
                                    {1, 1}, pads, err))
      << err;
  EXPECT_EQ(pads, (Shape{1, 0, 2, 1}));
}

TEST(ResolveAutoPad, SameLowerPutsExtraAtBegin) {
  Shape pads;
  std::string err;
  ASSERT_TRUE(lathe::resolveAutoPad("SAME_LOWER", {5, 7}, {4, 2}, {1, 2},
                                    {1, 1}, pads, err))
      << err;
  EXPECT_EQ(pads, (Shape{2, 1, 1, 0}));
}

TEST(ResolveAutoPad, SameEvenTotalIsSymmetric) {
  // in=6, k=3, s=1: total 2 -> 1/1 for both modes.
  Shape upper, lower;
  std::string err;
  ASSERT_TRUE(
      lathe::resolveAutoPad("SAME_UPPER", {6}, {3}, {1}, {1}, upper, err));
  ASSERT_TRUE(
      lathe::resolveAutoPad("SAME_LOWER", {6}, {3}, {1}, {1}, lower, err));
  EXPECT_EQ(upper, (Shape{1, 1}));
  EXPECT_EQ(lower, (Shape{1, 1}));
}

TEST(ResolveAutoPad, SameWithDilation) {
  // in=6, k=3, d=2 -> span 5, s=1: out 6, total = 5 + 5 - 6 = 4 -> 2/2.
  Shape pads;
  std::string err;
  ASSERT_TRUE(
      lathe::resolveAutoPad("SAME_UPPER", {6}, {3}, {1}, {2}, pads, err));
  EXPECT_EQ(pads, (Shape{2, 2}));
  // The padded output size is ceil(in / stride).
  EXPECT_EQ(lathe::windowOutputSize(6, 3, 1, 2, pads[0], pads[1], false), 6);
}

TEST(ResolveAutoPad, SameOutputIsCeilOfInputOverStride) {
  for (int64_t in : {5, 6, 7, 8, 9})
    for (int64_t k : {1, 2, 3})
      for (int64_t s : {1, 2, 3}) {
        Shape pads;
        std::string err;
        ASSERT_TRUE(
            lathe::resolveAutoPad("SAME_LOWER", {in}, {k}, {s}, {1}, pads, err));
        EXPECT_EQ(lathe::windowOutputSize(in, k, s, 1, pads[0], pads[1], false),
                  (in + s - 1) / s)
            << "in=" << in << " k=" << k << " s=" << s;
      }
}

TEST(ResolveAutoPad, Valid) {
  Shape pads = {3, 3, 3, 3};
  std::string err;
  ASSERT_TRUE(lathe::resolveAutoPad("VALID", {5, 5}, {3, 3}, {1, 1}, {1, 1},
                                    pads, err));
  EXPECT_EQ(pads, (Shape{0, 0, 0, 0}));
}

TEST(ResolveAutoPad, NotSetWithoutPadsIsZeros) {
  Shape pads;
  std::string err;
  ASSERT_TRUE(lathe::resolveAutoPad("NOTSET", {5, 5, 5}, {3, 3, 3}, {1, 1, 1},
                                    {1, 1, 1}, pads, err));
  EXPECT_EQ(pads, (Shape{0, 0, 0, 0, 0, 0}));
  // The empty string means NOTSET too.
  Shape pads2;
  ASSERT_TRUE(
      lathe::resolveAutoPad("", {5}, {3}, {1}, {1}, pads2, err));
  EXPECT_EQ(pads2, (Shape{0, 0}));
}

TEST(ResolveAutoPad, NotSetKeepsGivenPads) {
  Shape pads = {1, 2, 3, 4};
  std::string err;
  ASSERT_TRUE(lathe::resolveAutoPad("NOTSET", {5, 5}, {3, 3}, {1, 1}, {1, 1},
                                    pads, err));
  EXPECT_EQ(pads, (Shape{1, 2, 3, 4}));
}

TEST(ResolveAutoPad, NotSetWithWrongPadCountFails) {
  Shape pads = {1, 1, 1};
  std::string err;
  EXPECT_FALSE(lathe::resolveAutoPad("NOTSET", {5, 5}, {3, 3}, {1, 1}, {1, 1},
                                     pads, err));
  EXPECT_NE(err.find("pads"), std::string::npos) << err;
}

TEST(ResolveAutoPad, NegativePadsFail) {
  Shape pads = {0, -1};
  std::string err;
  EXPECT_FALSE(
      lathe::resolveAutoPad("NOTSET", {5}, {3}, {1}, {1}, pads, err));
  EXPECT_NE(err.find("negative"), std::string::npos) << err;
}

TEST(ResolveAutoPad, BadStringFails) {
  Shape pads;
  std::string err;
  EXPECT_FALSE(lathe::resolveAutoPad("SAME", {5}, {3}, {1}, {1}, pads, err));
  EXPECT_NE(err.find("'SAME'"), std::string::npos) << err;
  err.clear();
  EXPECT_FALSE(
      lathe::resolveAutoPad("same_upper", {5}, {3}, {1}, {1}, pads, err));
  EXPECT_NE(err.find("same_upper"), std::string::npos) << err;
}

//===----------------------------------------------------------------------===//
// resolveReshape
//===----------------------------------------------------------------------===//

TEST(ResolveReshape, PlainShape) {
  Shape out;
  std::string err;
  ASSERT_TRUE(lathe::resolveReshape({2, 3, 4}, {4, 6}, false, out, err)) << err;
  EXPECT_EQ(out, (Shape{4, 6}));
}

TEST(ResolveReshape, ZeroCopiesInputDim) {
  Shape out;
  std::string err;
  ASSERT_TRUE(lathe::resolveReshape({2, 3, 4}, {0, 12}, false, out, err)) << err;
  EXPECT_EQ(out, (Shape{2, 12}));
  ASSERT_TRUE(lathe::resolveReshape({2, 3, 4}, {0, 0, 4}, false, out, err))
      << err;
  EXPECT_EQ(out, (Shape{2, 3, 4}));
}

TEST(ResolveReshape, ZeroBeyondInputRankFails) {
  Shape out;
  std::string err;
  EXPECT_FALSE(lathe::resolveReshape({6}, {6, 0}, false, out, err));
  EXPECT_FALSE(err.empty());
}

TEST(ResolveReshape, AllowZeroKeepsZero) {
  Shape out;
  std::string err;
  // allowzero: 0 is a real zero-sized dim; element counts 0 == 0.
  ASSERT_TRUE(lathe::resolveReshape({0, 4}, {4, 0}, true, out, err)) << err;
  EXPECT_EQ(out, (Shape{4, 0}));
  // Without allowzero the 0 would copy 4 and the count 16 != 0 fails.
  EXPECT_FALSE(lathe::resolveReshape({0, 4}, {4, 0}, false, out, err));
  // allowzero with a non-empty input: 0 is not a copy, so the counts differ.
  err.clear();
  EXPECT_FALSE(lathe::resolveReshape({2, 3}, {0, 6}, true, out, err));
  EXPECT_FALSE(err.empty());
}

TEST(ResolveReshape, InfersMinusOne) {
  Shape out;
  std::string err;
  ASSERT_TRUE(lathe::resolveReshape({2, 3, 4}, {-1, 4}, false, out, err)) << err;
  EXPECT_EQ(out, (Shape{6, 4}));
  ASSERT_TRUE(lathe::resolveReshape({2, 3, 4}, {2, -1}, false, out, err)) << err;
  EXPECT_EQ(out, (Shape{2, 12}));
  ASSERT_TRUE(lathe::resolveReshape({2, 3, 4}, {-1}, false, out, err)) << err;
  EXPECT_EQ(out, (Shape{24}));
  // 0 and -1 together: 0 copies 2, -1 becomes 12.
  ASSERT_TRUE(lathe::resolveReshape({2, 3, 4}, {0, -1}, false, out, err)) << err;
  EXPECT_EQ(out, (Shape{2, 12}));
}

TEST(ResolveReshape, TwoMinusOnesFail) {
  Shape out;
  std::string err;
  EXPECT_FALSE(lathe::resolveReshape({2, 3, 4}, {-1, -1}, false, out, err));
  EXPECT_NE(err.find("-1"), std::string::npos) << err;
}

TEST(ResolveReshape, MinusOneThatDoesNotDivideFails) {
  Shape out;
  std::string err;
  EXPECT_FALSE(lathe::resolveReshape({2, 3, 4}, {5, -1}, false, out, err));
  EXPECT_NE(err.find("24"), std::string::npos) << err;
}

TEST(ResolveReshape, ElementCountMismatchFails) {
  Shape out;
  std::string err;
  EXPECT_FALSE(lathe::resolveReshape({2, 3, 4}, {5, 5}, false, out, err));
  EXPECT_NE(err.find("25"), std::string::npos) << err;
  EXPECT_NE(err.find("24"), std::string::npos) << err;
}

TEST(ResolveReshape, InvalidNegativeDimFails) {
  Shape out;
  std::string err;
  EXPECT_FALSE(lathe::resolveReshape({2, 3, 4}, {-2, 12}, false, out, err));
  EXPECT_FALSE(err.empty());
}

TEST(NumElements, Products) {
  EXPECT_EQ(lathe::numElements({}), 1);
  EXPECT_EQ(lathe::numElements({2, 3, 4}), 24);
  EXPECT_EQ(lathe::numElements({5, 0, 3}), 0);
}

} // namespace
