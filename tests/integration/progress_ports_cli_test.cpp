// Progress as a CI log and a terminal see it (pumprig run on the simulated bench, stderr a pipe
// or a pseudo-terminal from script(1)), --quiet, and pumprig ports on this host.
#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "peer_support.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

// 2 h of bench time on the simulated bench (virtual time: seconds of wall time).
fs::path two_hours(const fs::path& dir) { return short_eol(dir, "", "2 h") / "eol-short.json"; }

}  // namespace

TEST_CASE("pumprig run without a terminal prints a plain progress line at every 5 percent, none with --quiet") {
    TempDir tmp;
    const auto sc = two_hours(tmp.path);
    auto r = test::run_command({pumprig_binary(), "run", sc.string(), "--out", (tmp.path / "runs").string()}, 300s);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find('\r') == std::string::npos);
    // "progress eol-short: 45 %, bench time 55m 00s of 2h 00m, step 5/7 wait, ~3s left"
    const std::regex line(R"(progress eol-short: (\d+) %, bench time [^,]+ of 2h 00m, step \d/7 [a-z_]+, [^\n]+)");
    std::set<int> buckets;
    for (std::sregex_iterator it(r.err.begin(), r.err.end(), line), end; it != end; ++it) buckets.insert(std::stoi((*it)[1]) / 5);
    CHECK(buckets.size() == 21);  // 0 %, 5 %, ... 100 %: every step of 5 % shows
    CHECK(buckets.count(0) == 1);
    CHECK(buckets.count(20) == 1);

    auto q = test::run_command({pumprig_binary(), "run", sc.string(), "--out", (tmp.path / "quiet").string(), "--quiet"}, 300s);
    INFO(q.err);
    REQUIRE(q.exit_code == 0);
    CHECK(q.err.empty());
    CHECK(q.out.find("1 of 1 scenarios passed") != std::string::npos);
}

TEST_CASE("pumprig run on a terminal draws one live line in place") {
    TempDir tmp;
    const auto sc = two_hours(tmp.path);
    // script(1) gives the command a pseudo-terminal; what it wrote there comes back on stdout.
    const std::string cmd = pumprig_binary() + " run " + sc.string() + " --out " + (tmp.path / "runs").string();
    auto r = test::run_command({"/usr/bin/script", "-qefc", cmd, "/dev/null"}, 300s);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\reol-short  ") != std::string::npos);
    CHECK(r.out.find("\x1b[K") != std::string::npos);
    CHECK(r.out.find("step 5/7 wait") != std::string::npos);
    CHECK(r.out.find("progress eol-short:") == std::string::npos);  // no plain lines on a terminal
}

TEST_CASE("pumprig ports lists this host's serial ports, or says there are none, and refuses an unknown port") {
    auto r = test::run_command({pumprig_binary(), "ports"}, 60s);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    if (r.out.rfind("no serial ports on this host", 0) == 0) {
        MESSAGE("this host has no serial port libserialport lists");
    } else {
        // Every port named exists.
        std::istringstream in(r.out);
        std::string l;
        while (std::getline(in, l))
            if (!l.empty() && l[0] == '/') CHECK(fs::exists(l.substr(0, l.find(' '))));
    }
    auto bad = test::run_command({pumprig_binary(), "ports", "--snippet", "/dev/ttyNOPE9"}, 60s);
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--snippet /dev/ttyNOPE9: expected one of this host's serial ports") != std::string::npos);
    auto role = test::run_command({pumprig_binary(), "ports", "--snippet", "/dev/ttyS0", "--as", "valve"}, 60s);
    CHECK(role.exit_code == 2);
    CHECK(role.err.find("--as valve: expected pump or meter") != std::string::npos);
}
