// MANIFEST.sha256 of a run folder: digests from libcrypto (checked against the FIPS 180-2
// vectors), every file covered but the rebuildable views, and a folder's changes found by name.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "record/manifest.hpp"
#include "support/files.hpp"

using namespace pumprig;
namespace fs = std::filesystem;
using pumprig::test::read_file;
using pumprig::test::TempDir;

namespace {

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// A small run folder: data files, the views, and one file in a subfolder.
void make_folder(const fs::path& d) {
    write(d / "record.json", "{\"schema_version\": 1}\n");
    write(d / "samples.csv", "bench_ms,time,total_ul,flow_ul_h,status,sample,valid,stale\n1000,x,0.000,0.00,1,1,1,0\n");
    write(d / "trace.log", "pump> $1,HELLO*7613\n");
    write(d / "report.html", "<html></html>");
    write(d / "junit.xml", "<testsuites/>");
    fs::create_directories(d / "extra");
    write(d / "extra" / "note.txt", "n");
}

}  // namespace

TEST_CASE("sha256_hex gives the FIPS 180-2 digests") {
    CHECK(record::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(record::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    TempDir t;
    // A file longer than one read buffer hashes as its bytes do.
    const std::string big(200'000, 'a');
    write(t.path / "big", big);
    CHECK(record::sha256_file_hex(t.path / "big").value() == record::sha256_hex(big));
}

TEST_CASE("write_manifest lists every file but the views, sorted, in sha256sum format") {
    TempDir t;
    make_folder(t.path);
    const auto digest = record::write_manifest(t.path);
    REQUIRE(digest);
    const std::string text = read_file(t.path / record::kManifestFile);
    CHECK(*digest == record::sha256_hex(text));
    CHECK(text == record::sha256_hex("n") + "  extra/note.txt\n" + record::sha256_hex("{\"schema_version\": 1}\n") + "  record.json\n" +
                      record::sha256_file_hex(t.path / "samples.csv").value() + "  samples.csv\n" +
                      record::sha256_hex("pump> $1,HELLO*7613\n") + "  trace.log\n");
    const auto check = record::verify_manifest(t.path);
    REQUIRE(check);
    CHECK(check->intact());
    CHECK(check->manifest_sha256 == *digest);
}

TEST_CASE("verify_manifest names a changed byte, an added file and a missing file") {
    TempDir t;
    make_folder(t.path);
    REQUIRE(record::write_manifest(t.path));
    // One byte of samples.csv changed (a 0 became a 1 in the total).
    std::string samples = read_file(t.path / "samples.csv");
    const auto at = samples.find("0.000");
    REQUIRE(at != std::string::npos);
    samples[at] = '1';
    write(t.path / "samples.csv", samples);
    write(t.path / "forged.csv", "x");
    write(t.path / "samples.csv.tmp", "x");  // only a view's temporary file is left out
    fs::remove(t.path / "trace.log");
    // The views may be rebuilt at will: not a change.
    write(t.path / "report.html", "<html>rebuilt</html>");
    write(t.path / "record.rebuilt.json", "{}");
    write(t.path / "junit.xml.tmp", "<testsuites");  // a rebuild in progress
    const auto check = record::verify_manifest(t.path);
    REQUIRE(check);
    CHECK_FALSE(check->intact());
    CHECK(check->changed == std::vector<std::string>{"samples.csv"});
    CHECK(check->added == std::vector<std::string>{"forged.csv", "samples.csv.tmp"});
    CHECK(check->missing == std::vector<std::string>{"trace.log"});
}

TEST_CASE("a folder without a manifest is reported, and a malformed manifest names its line") {
    TempDir t;
    make_folder(t.path);
    auto none = record::verify_manifest(t.path);
    REQUIRE(none);
    CHECK_FALSE(none->has_manifest);
    CHECK_FALSE(none->intact());
    write(t.path / record::kManifestFile, record::sha256_hex("x") + "  record.json\nnot a digest line\n");
    auto bad = record::verify_manifest(t.path);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::BadInput);
    CHECK(bad.error().message.find("MANIFEST.sha256:2:") != std::string::npos);
}
