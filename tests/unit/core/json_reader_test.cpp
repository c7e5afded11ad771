// The one strict JSON reader (src/core/json_reader.hpp): what nlohmann::json alone would take
// silently or crash on is refused, each problem with line, column and, once the text is JSON,
// the JSON pointer.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "core/json_reader.hpp"
#include "support/files.hpp"

using namespace pumprig;

TEST_CASE("json reader: a key written twice is refused at the second key, with its pointer") {
    const auto r = read_json_text("{\n  \"a\": {\"b\": 1,\n        \"b\": 2}\n}");
    REQUIRE_FALSE(r);
    CHECK(r.error().pointer == "/a/b");
    CHECK(r.error().at.line == 3);
    CHECK(r.error().at.column == 9);
    CHECK(r.error().message == "key written twice; expected each key once");
    // The same key in two different objects is no duplicate.
    CHECK(read_json_text(R"({"a": {"b": 1}, "c": {"b": 2}})"));
}

TEST_CASE("json reader: a number beyond a double is refused where it stands, not thrown") {
    const auto r = read_json_text("{\"x\": 1,\n \"y\": 1e999}");
    REQUIRE_FALSE(r);
    CHECK(r.error().at.line == 2);
    CHECK(r.error().at.column == 7);
    CHECK(r.error().message == "invalid JSON: number 1e999 is out of range; expected a number that fits a double (about 1e308)");
    // The largest double still reads.
    CHECK(read_json_text("[1.7976931348623157e308]"));
}

TEST_CASE("json reader: syntax errors give line and column of the offending byte") {
    const auto r = read_json_text("{\n  \"a\": 1\n  \"b\": 2\n}");
    REQUIRE_FALSE(r);
    CHECK(r.error().at.line == 3);
    CHECK(r.error().at.column == 5);  // nlohmann stops at the end of the unexpected token
    CHECK(r.error().pointer.empty());
    CHECK(r.error().message.starts_with("invalid JSON: syntax error while parsing object"));
}

TEST_CASE("json reader: nesting and size beyond the limits are refused before parsing") {
    JsonLimits limits;
    limits.max_depth = 3;
    CHECK(read_json_text("[[[1]]]", limits));
    const auto deep = read_json_text("[[[[1]]]]", limits);
    REQUIRE_FALSE(deep);
    CHECK(deep.error().at.column == 4);
    CHECK(deep.error().message == "nesting deeper than 3 levels; expected objects and arrays nested a few levels");
    // 100000 '[' do not overflow the stack with the default limit.
    const auto many = read_json_text(std::string(100000, '['));
    REQUIRE_FALSE(many);
    CHECK(many.error().at.column == 65);
    limits = {};
    limits.max_bytes = 10;
    const auto big = read_json_text("[1, 2, 3, 4, 5]", limits);
    REQUIRE_FALSE(big);
    CHECK(big.error().message == "15 bytes; expected at most 10 bytes");
}

TEST_CASE("json reader: positions of values and keys by JSON pointer, escapes included") {
    const auto r = read_json_text("\xEF\xBB\xBF{\"a/b\": [10,\n  {\"c~d\": true}]}");
    REQUIRE(r);
    CHECK(r->root()["a/b"][0] == 10);
    CHECK(r->value_at("/a~1b").line == 1);
    CHECK(r->value_at("/a~1b").column == 12);  // columns count bytes, the byte order mark's too
    CHECK(r->key_at("/a~1b").column == 5);
    CHECK(r->value_at("/a~1b/1/c~0d").line == 2);
    CHECK(r->value_at("/a~1b/1/c~0d").column == 11);
    // An absent member: its nearest ancestor.
    CHECK(r->value_at("/a~1b/1/missing").column == 3);
    CHECK(pointer_child("/x", "a/b~") == "/x/a~1b~0");
}

TEST_CASE("json reader: a file's problems are bad input naming file, line, column and pointer") {
    test::TempDir tmp;
    const auto f = tmp.path / "dup.json";
    std::ofstream(f) << "{\"a\": 1, \"a\": 2}";
    const auto r = read_json_file(f);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::BadInput);
    CHECK(r.error().message == f.string() + ":1:10: at /a: key written twice; expected each key once");
    const auto missing = read_json_file(tmp.path / "none.json");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::Io);
}
