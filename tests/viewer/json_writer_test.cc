#include "json_writer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace leakscope::viewer {
namespace {

TEST(JsonQuote, EscapesQuotesBackslashAndControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonQuote("\n\t\r\b\f"), R"("\n\t\r\b\f")");
  EXPECT_EQ(JsonQuote(std::string("\x01\x1f\x7f", 3)), R"("\u0001\u001f\u007f")");
  EXPECT_EQ(JsonQuote(std::string("a\0b", 3)), R"("a\u0000b")");
}

TEST(JsonQuote, KeepsValidUtf8) {
  EXPECT_EQ(JsonQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");            // é
  EXPECT_EQ(JsonQuote("\xe2\x82\xac"), "\"\xe2\x82\xac\"");          // €
  EXPECT_EQ(JsonQuote("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");  // U+1F600
}

TEST(JsonQuote, ReplacesEachInvalidByteWithReplacementCharacter) {
  EXPECT_EQ(JsonQuote("/tmp/\xff.so"), R"("/tmp/\ufffd.so")");                // not UTF-8 at all
  EXPECT_EQ(JsonQuote("x\xc3"), R"("x\ufffd")");                              // truncated sequence
  EXPECT_EQ(JsonQuote("\xc0\xaf"), R"("\ufffd\ufffd")");                      // overlong '/'
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");            // UTF-16 surrogate
  EXPECT_EQ(JsonQuote("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
}

TEST(JsonWriter, PrettyPrintsNestedContainers) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("name", "x");
  w.Field("count", uint64_t{18446744073709551615ull});
  w.Field("delta", int32_t{-3});
  w.Field("ok", true);
  w.Key("list");
  w.BeginArray();
  w.Uint(1);
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(out, R"({
  "name": "x",
  "count": 18446744073709551615,
  "delta": -3,
  "ok": true,
  "list": [
    1,
    {},
    []
  ]
}
)");
}

}  // namespace
}  // namespace leakscope::viewer

namespace leakscope::viewer {
namespace {

TEST(JsonWriterDouble, ShortestRoundTripAndNullForNonFinite) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (double v : {0.875, 1048576.0, 0.1, 1e30, std::nan(""), HUGE_VAL}) w.Double(v);
  w.EndArray();
  EXPECT_EQ(out, "[\n  0.875,\n  1048576,\n  0.1,\n  1e+30,\n  null,\n  null\n]\n");
}

}  // namespace
}  // namespace leakscope::viewer
