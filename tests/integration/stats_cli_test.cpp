// pumprig stats over a history filled by pumprig eol on simulated units drawn with known
// outcomes (conforming pumps with different meter noise seeds, pumps with a stalling motor):
// yield and a Cpk checked against figures computed here from the stored values; the page
// loads in headless Chromium.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "history/results_store.hpp"
#include "peer_support.hpp"
#include "support/chromium.hpp"

using namespace pumprig;
using namespace pumprig::peertest;

namespace {

// A simulated bench whose pump reports `serial`, with `defect` if given.
fs::path unit_rig(const fs::path& dir, const std::string& serial, const std::string& defect) {
    const auto f = dir / (serial + (defect.empty() ? "" : "-" + defect) + ".json");
    write_text(f, R"({"name": "sim-)" + serial + R"(", "simulator": {"time": "virtual", "pump_model": "ITB-40", "pump_serial": ")" +
                      serial + R"(", "line_tau_s": 20.0)" + (defect.empty() ? "" : R"(, "defects": [")" + defect + R"("])") + R"(},
      "pump": {"backend": "termios", "baud": 115200, "key": {"test_key": true}},
      "meter": {"link": "rtu", "baud": 19200, "parity": "none", "stop_bits": 1, "unit_id": 1,
                "profile": "fixtures/meters/lf-2000.json"}})");
    return f;
}

// Fields between separators, an empty last one included ("a,b," has three).
std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> out(1);
    for (char c : line) {
        if (c == sep) out.emplace_back();
        else out.back() += c;
    }
    return out;
}

}  // namespace

TEST_CASE("pumprig stats: yield, failures and Cpk of a history filled by eol runs of simulated units") {
    TempDir tmp;
    const std::string history = "sqlite:" + (tmp.path / "history.sqlite").string();
    const auto scenarios = short_eol(tmp.path / "eol");
    struct Test {
        std::string serial, defect, station;
        int seed;
        int exit;
    };
    // Four conforming units; SN-05 fails with a stalled motor and passes its retest; SN-06 fails
    // twice; SN-09 and SN-10 deliver 8 % more and less (inside the meter check's band) and fail on
    // the rate they report. SN-07 is tested on another station (left out by --station).
    const std::vector<Test> tests = {{"SN-01", "", "EOL-7", 11, 0},
                                     {"SN-02", "", "EOL-7", 12, 0},
                                     {"SN-05", "motor_stall_unreported", "EOL-7", 13, 1},
                                     {"SN-03", "", "EOL-7", 14, 0},
                                     {"SN-06", "motor_stall_unreported", "EOL-7", 15, 1},
                                     {"SN-09", "rate_high_8pct", "EOL-7", 20, 1},
                                     {"SN-04", "", "EOL-7", 16, 0},
                                     {"SN-10", "rate_low_8pct", "EOL-7", 21, 1},
                                     {"SN-05", "", "EOL-7", 17, 0},
                                     {"SN-06", "motor_stall_unreported", "EOL-7", 18, 1},
                                     {"SN-07", "", "EOL-8", 19, 0}};
    for (const auto& t : tests) {
        auto r = test::run_command({pumprig_binary(), "eol", "--serial", t.serial, "--station", t.station, "--operator", "Ana",
                                    "--history", history, "--out", (tmp.path / "runs").string(), "--scenarios", scenarios.string(),
                                    "--rig", unit_rig(tmp.path, t.serial, t.defect).string(), "--seed", std::to_string(t.seed),
                                    "--quiet"},
                                   300s);
        INFO(t.serial << " " << t.defect << "\n" << r.err << r.out);
        REQUIRE(r.exit_code == t.exit);
        if (t.exit == 0) CHECK(r.err.empty());  // --quiet: nothing but the one line when all went well
    }

    const auto html = tmp.path / "stats.html";
    const auto csv = tmp.path / "stats.csv";
    auto s = test::run_command({pumprig_binary(), "stats", "--history", history, "--station", "EOL-7", "--html", html.string(), "--csv",
                                csv.string()},
                               120s);
    INFO(s.err);
    INFO(s.out);
    REQUIRE(s.exit_code == 0);
    // 8 units: 4 pass at once, SN-05 on its retest, SN-06, SN-09, SN-10 never: 4/8 first pass,
    // 5/8 final.
    CHECK(s.out.find("units tested 8, first-pass yield 50.0 % (4), final yield 62.5 % (5), 10 attempts, 2 retests, 0 station errors") !=
          std::string::npos);
    // The two rate defects fail the reported rate, the stalled motor the volume (three times).
    auto pareto_count = [&](const std::string& check) {
        const auto at = s.out.find("%  eol-short: " + check + "\n");
        if (at == std::string::npos) return std::string("absent");
        const auto line = s.out.rfind('\n', at) + 1;
        return s.out.substr(line, 7);
    };
    CHECK(pareto_count("status.rate") == "      2");
    CHECK(pareto_count("volume.1") == "      3");
    CHECK(s.out.find("eol-short: volume.") != std::string::npos);

    // The volume check's values, as stored, give Cp and Cpk computed here independently.
    auto store = history::open_store(history);
    REQUIRE(store);
    auto runs = (*store)->runs_matching({"EOL-7", "", "", ""}, true);
    REQUIRE(runs);
    REQUIRE(runs->size() == 10);
    std::vector<double> x;
    std::optional<double> lsl, usl;
    std::string check_id;
    std::size_t failed_volume = 0;
    for (const auto& run : *runs)
        for (const auto& m : run.measurements)
            if (m.name == "volume delivered") {
                x.push_back(*m.measured);
                lsl = m.lower;
                usl = m.upper;
                check_id = m.check_id;
                failed_volume += m.verdict == "FAIL";
            }
    REQUIRE(x.size() == 10);
    REQUIRE(lsl);
    REQUIRE(usl);
    CHECK(failed_volume == 3);  // every stalled run fails the volume check; 8 % off passes it
    double mean = 0, mr = 0;
    for (double v : x) mean += v / 10;
    for (std::size_t i = 1; i < x.size(); ++i) mr += std::fabs(x[i] - x[i - 1]) / 9;
    const double sigma = mr / 1.128;
    const double cp = (*usl - *lsl) / (6 * sigma);
    const double cpk = std::min(*usl - mean, mean - *lsl) / (3 * sigma);
    CHECK(cpk < 1.0);  // three units far below the lower limit: not capable

    const auto rows = split(test::read_file(csv), '\n');
    REQUIRE(rows.size() >= 2);
    const auto header = split(rows[0].substr(0, rows[0].size() - 1), ',');
    auto column = [&](const std::string& name) {
        return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    };
    bool found = false;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto cells = split(rows[i].substr(0, rows[i].size() - 1), ',');
        if (cells.size() != header.size() || cells[1] != check_id) continue;
        found = true;
        CHECK(cells[column("n")] == "10");
        CHECK(std::stod(cells[column("mean")]) == doctest::Approx(mean).epsilon(1e-9));
        CHECK(std::stod(cells[column("cp")]) == doctest::Approx(cp).epsilon(1e-9));
        CHECK(std::stod(cells[column("cpk")]) == doctest::Approx(cpk).epsilon(1e-9));
        CHECK(cells[column("not_passed")] == "3");
    }
    CHECK(found);

    // The page stands alone and loads in a browser: yield, the failure bars, the plots.
    const auto dom = test::chromium_dom(html);
    CHECK(dom.find("Line statistics") != std::string::npos);
    CHECK(dom.find("50.0 %") != std::string::npos);
    CHECK(dom.find("bar-fail") != std::string::npos);
    CHECK(dom.find("individuals chart: eol-short: " + check_id) != std::string::npos);

    // Filters: another station alone, a date range with nothing in it, a bad date.
    auto other = test::run_command({pumprig_binary(), "stats", "--history", history, "--station", "EOL-8"}, 60s);
    CHECK(other.exit_code == 0);
    CHECK(other.out.find("units tested 1, first-pass yield 100.0 % (1)") != std::string::npos);
    auto none = test::run_command({pumprig_binary(), "stats", "--history", history, "--to", "2000-01-01"}, 60s);
    CHECK(none.exit_code == 0);
    CHECK(none.out.find("units tested 0, first-pass yield -") != std::string::npos);
    const auto missing = tmp.path / "no-such-history.sqlite";
    auto absent = test::run_command({pumprig_binary(), "stats", "--history", "sqlite:" + missing.string()}, 60s);
    CHECK(absent.exit_code == 2);
    CHECK(absent.err.find("no results history at " + missing.string()) != std::string::npos);
    CHECK_FALSE(fs::exists(missing));  // reading statistics never creates a history
    auto bad = test::run_command({pumprig_binary(), "stats", "--history", history, "--from", "31.01.2026"}, 60s);
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--from 31.01.2026: expected a UTC date YYYY-MM-DD") != std::string::npos);
}
