// The requirements catalogue read strictly, and the ids a scenario names checked against it.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/files.hpp"
#include "trace/catalogue.hpp"

using namespace pumprig;
namespace fs = std::filesystem;
using pumprig::test::TempDir;

namespace {

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::string error_of(const std::string& text) {
    TempDir t;
    write(t.path / "c.json", text);
    auto c = trace::read_catalogue(t.path / "c.json");
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == ErrorKind::BadInput);
    return c.error().message.substr(c.error().message.find("c.json"));
}

}  // namespace

TEST_CASE("the project's catalogue reads, and holds every id the scenario library names") {
    auto c = trace::read_catalogue(fs::path(PUMPRIG_SOURCE_DIR) / "requirements");
    REQUIRE(c);
    CHECK(c->files.size() >= 2);
    const auto* del = c->find("SRS-DEL-001");
    REQUIRE(del);
    CHECK(del->source.find("pump ICD section 9") != std::string::npos);
    REQUIRE(c->find("MTR-001"));
    CHECK(c->find("MTR-001")->source.find("meter ICD") != std::string::npos);
    for (const auto& e : fs::recursive_directory_iterator(fs::path(PUMPRIG_SOURCE_DIR) / "scenarios"))
        if (e.path().extension() == ".json") {
            INFO(e.path().string());
            CHECK(trace::unknown_requirement_ids(*c, e.path()).empty());
        }
}

TEST_CASE("catalogue errors name the file, line, column and pointer") {
    const auto dup = error_of("{\"requirements\": [{\"id\": \"A-1\", \"text\": \"t\", \"source\": \"s\"},\n"
                              "  {\"id\": \"A-1\", \"text\": \"u\", \"source\": \"s\"}]}");
    CHECK(dup.starts_with("c.json:2:10: at /requirements/1/id: requirement \"A-1\" is already defined at "));
    CHECK(dup.ends_with("c.json /requirements/0"));
    CHECK(error_of("{\"requirements\": [{\"id\": \"a-1\", \"text\": \"t\", \"source\": \"s\"}]}").starts_with(
        "c.json:1:26: at /requirements/0/id: \"a-1\": expected upper-case letters and digits"));
    CHECK(error_of("{\"requirements\": [{\"id\": \"A-1\", \"text\": \"t\", \"source\": \"s\", \"owner\": \"x\"}]}").starts_with(
        "c.json:1:70: at /requirements/0/owner: unknown key \"owner\""));
    CHECK(error_of("{\"requirements\": [{\"id\": \"A-1\", \"text\": \"  \", \"source\": \"s\"}]}").starts_with(
        "c.json:1:41: at /requirements/0/text: expected the requirement in a sentence"));
    CHECK(error_of("{\"requirements\": [{\"id\": \"A-1\", \"text\": \"t\"}]}").starts_with(
        "c.json:1:19: at /requirements/0: missing \"source\""));
    CHECK(error_of("{\"requirements\": {}}").starts_with("c.json:1:18: at /requirements: expected \"requirements\": an array"));
    CHECK(error_of("{\"requirements\": [}").starts_with("c.json:1:19: invalid JSON"));
}

TEST_CASE("ids across the files of a catalogue folder must be unique") {
    TempDir t;
    write(t.path / "a.json", "{\"requirements\": [{\"id\": \"A-1\", \"text\": \"t\", \"source\": \"s\"}]}");
    write(t.path / "b.json", "{\"title\": \"B\", \"requirements\": [{\"id\": \"A-1\", \"text\": \"t\", \"source\": \"s\"}]}");
    auto c = trace::read_catalogue(t.path);
    REQUIRE_FALSE(c);
    CHECK(c.error().message.find("b.json:1:40: at /requirements/0/id: requirement \"A-1\" is already defined at ") != std::string::npos);
    CHECK(c.error().message.find("a.json /requirements/0") != std::string::npos);
    auto missing = trace::read_catalogue(t.path / "nowhere");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("no such requirements catalogue") != std::string::npos);
}

TEST_CASE("a scenario naming ids the catalogue lacks gets one diagnostic per id, with its place") {
    TempDir t;
    write(t.path / "c.json", "{\"requirements\": [{\"id\": \"SRS-DEL-001\", \"text\": \"t\", \"source\": \"s\"}]}");
    auto c = trace::read_catalogue(t.path / "c.json");
    REQUIRE(c);
    write(t.path / "s.json",
          "{\"name\": \"x\",\n"
          " \"requirements\": [\"SRS-DEL-001\", \"SRS-NOPE-1\"],\n"
          " \"checks\": [{\"check\": \"volume\"},\n"
          "            {\"check\": \"volume\", \"requirements\": [\"SRS-DEL-001\", \"SRS-GONE-2\"]}]}\n");
    const auto d = trace::unknown_requirement_ids(*c, t.path / "s.json");
    REQUIRE(d.size() == 2);
    CHECK(d[0].pointer == "/requirements/1");
    CHECK(d[0].line == 2);
    CHECK(d[0].column == 34);
    CHECK(d[0].message.find("\"SRS-NOPE-1\" is not in the requirements catalogue") != std::string::npos);
    CHECK(d[1].pointer == "/checks/1/requirements/1");
    CHECK(d[1].line == 4);
    CHECK(d[1].message.find("\"SRS-GONE-2\"") != std::string::npos);
}
