// The virtual-time replay sends a sample's ADVANCE without waiting for its answer (the
// simulator applies it before the meter read that follows: docs/simulator.md, "Control
// channel"). That is safe only if the run record stays what it was: each case of
// tests/data/replay-golden/cases.txt is run again and compared with the record that the build
// before the change wrote (tests/data/replay-golden/record.sh at commit 9272ae4), file by file.
#include <doctest/doctest.h>

#include <regex>

#include "peer_support.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

struct GoldenCase {
    std::string folder, scenario, rig, seed;
};

std::vector<GoldenCase> golden_cases(const fs::path& dir) {
    std::vector<GoldenCase> out;
    std::istringstream in(read_text(dir / "cases.txt"));
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream words(line);
        GoldenCase c;
        words >> c.folder >> c.scenario >> c.rig >> c.seed;
        REQUIRE_MESSAGE(!c.seed.empty(), "cases.txt: expected \"folder scenario rig seed\", got: " << line);
        out.push_back(c);
    }
    return out;
}

// What differs between two runs of the same case without the replay being any different (it
// did from one run to the next before the change too): the pseudo-terminal numbers the kernel
// hands out, the checkout the files were read from (record.sh wrote it as SOURCE/), and in the
// wire trace how the bytes of one instant were split between read() calls: consecutive lines
// of one instant, link and direction are joined.
std::string comparable(std::string text, bool trace = false) {
    static const std::regex pts("/dev/pts/[0-9]+");
    text = std::regex_replace(text, pts, "/dev/pts/N");
    const std::string root = source() + "/";
    for (std::size_t at; (at = text.find(root)) != std::string::npos;) text.replace(at, root.size(), "SOURCE/");
    if (!trace) return text;
    std::string out, last_key;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        // "<time> <link> <direction> <bytes>"
        std::size_t cut = 0;
        for (int spaces = 0; spaces < 3 && cut != std::string::npos; ++spaces) cut = line.find(' ', cut == 0 ? 0 : cut + 1);
        const std::string key = cut == std::string::npos ? line : line.substr(0, cut + 1);
        const std::string bytes = cut == std::string::npos ? "" : line.substr(cut + 1);
        if (!out.empty() && key == last_key) {
            out.pop_back();  // the newline: this line's bytes go on the last one
            out += bytes + "\n";
        } else {
            out += line + "\n";
        }
        last_key = key;
    }
    return out;
}

// record.json as compared: keys the golden record lacks are left out (a newer record may
// carry more of its own; wall-clock times it has none).
nlohmann::json comparable_record(const fs::path& file, const nlohmann::json& golden) {
    auto j = nlohmann::json::parse(comparable(read_text(file)));
    if (golden.is_object()) {
        for (auto it = j.begin(); it != j.end();) {
            if (!golden.contains(it.key())) {
                MESSAGE("record.json key not in the golden record, not compared: " << it.key());
                it = j.erase(it);
            } else {
                ++it;
            }
        }
    }
    return j;
}

}  // namespace

TEST_CASE("replay golden: every case of tests/data/replay-golden records what the build before the unconfirmed ADVANCE recorded") {
    const fs::path data = source() + "/tests/data/replay-golden";
    const auto cases = golden_cases(data);
    REQUIRE(cases.size() >= 3);  // cases.txt says why none has several channels
    TempDir tmp;
    for (const auto& c : cases) {
        CAPTURE(c.folder);
        const auto out = tmp.path / c.folder;
        const auto r = test::run_command({pumprig_binary(), "run", "--quiet", "--rig", (data / c.rig).string(), "--seed", c.seed,
                                          "--out", out.string(), (data / c.scenario).string()},
                                         600s);
        INFO(r.out << r.err);
        REQUIRE(r.exit_code >= 0);
        REQUIRE(r.exit_code <= 1);  // passed or failed its checks; either way a record
        std::size_t runs = 0;
        for (const auto& e : fs::directory_iterator(out)) {
            if (!fs::exists(e.path() / "record.json")) continue;
            ++runs;
            const auto record = nlohmann::json::parse(read_text(e.path() / "record.json"));
            const std::string channel = record["rig"].value("channel", "");
            CAPTURE(channel);
            const auto golden_dir = channel.empty() ? data / c.folder : data / c.folder / channel;
            REQUIRE(fs::exists(golden_dir / "record.json"));
            for (const char* f : {"samples.csv", "events.jsonl", "statuses.jsonl", "commands.jsonl", "trace.log"}) {
                CAPTURE(f);
                const bool trace = std::string(f) == "trace.log";
                const auto got = comparable(read_text(e.path() / f), trace);
                const auto want = comparable(read_text(golden_dir / f), trace);
                CHECK(got.size() == want.size());
                CHECK(got == want);
            }
            const auto golden = comparable_record(golden_dir / "record.json", nlohmann::json());
            CHECK(comparable_record(e.path() / "record.json", golden).dump(2) == golden.dump(2));
        }
        // A folder for every run the golden record holds (one, or one a channel).
        std::size_t golden_runs = fs::exists(data / c.folder / "record.json") ? 1 : 0;
        for (const auto& e : fs::directory_iterator(data / c.folder))
            if (e.is_directory() && fs::exists(e.path() / "record.json")) ++golden_runs;
        CHECK(runs == golden_runs);
    }
}
