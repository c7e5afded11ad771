// mbpoll (Debian package), a Modbus master nobody here wrote, reads and writes the simulated
// LF-2000 over a pseudo-terminal (RTU, 8N1: docs/platform.md) and over loopback TCP.
#include <doctest/doctest.h>

#include <map>
#include <regex>

#include "meter_fixtures.hpp"

using namespace pumprig;
using namespace pumprig::meter;
using namespace std::chrono_literals;

namespace {

MeterProfile lf2000() {
    auto p = load_meter_profile(itest::source_dir() + "/fixtures/meters/lf-2000.json");
    REQUIRE(p.has_value());
    return *p;
}

// A served meter with known values: 22.5 uL/h for 40 measurements (noise off), 0.625 nL each.
struct MbpollBench {
    itest::PtyPair pty;
    itest::ServedMeter meter;
    int tcp_port = 0;
    MbpollBench() : meter(lf2000(), [] {
        sim::Lf2000Options o;
        o.serial = "LF0099";
        o.noise = false;
        return o;
    }()) {
        meter.with_model([](sim::Lf2000Model& m) {
            for (int i = 0; i < 40; ++i) m.measure(volume_over(FlowRate::from_ul_per_h(22.5), Millis{100}));
            return 0;
        });
        meter.serve_rtu(pty.master);
        tcp_port = meter.serve_tcp();
        meter.start();
    }
    // mbpoll [options] device [values to write]
    std::vector<std::string> rtu(std::vector<std::string> args, std::vector<std::string> write = {}) const {
        std::vector<std::string> argv{"mbpoll", "-m", "rtu", "-a", "1", "-b", "19200", "-P", "none", "-o", "2", "-1"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back(pty.slave_path);
        argv.insert(argv.end(), write.begin(), write.end());
        return argv;
    }
    std::vector<std::string> tcp(std::vector<std::string> args, std::vector<std::string> write = {}) const {
        std::vector<std::string> argv{"mbpoll", "-m", "tcp", "-a", "1", "-p", std::to_string(tcp_port), "-o", "2", "-1"};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("127.0.0.1");
        argv.insert(argv.end(), write.begin(), write.end());
        return argv;
    }
};

struct Run {
    std::string output;
    int status;
};

Run run(const std::vector<std::string>& argv) {
    itest::Child child(argv, /*merge_stderr=*/true);
    auto [out, status] = child.finish(15s);
    return {out, status};
}

// "[N]: \tvalue" lines of an mbpoll poll, by 1-based reference.
std::map<int, std::string> values(const std::string& out) {
    std::map<int, std::string> v;
    static const std::regex line(R"(\[(\d+)\]:\s+(\S+))");
    for (std::sregex_iterator it(out.begin(), out.end(), line), end; it != end; ++it)
        v[std::stoi((*it)[1])] = (*it)[2];
    return v;
}

}  // namespace

TEST_CASE("mbpoll reads the simulated meter's input registers over a pty") {
    MbpollBench bench;
    const auto r = run(bench.rtu({"-t", "3", "-r", "1", "-c", "8"}));  // -r is 1-based: address 0
    INFO(r.output);
    REQUIRE(r.status == 0);
    const auto block = bench.meter.with_model([](sim::Lf2000Model& m) { return m.input_block(); });
    const auto v = values(r.output);
    REQUIRE(v.size() == 8);
    for (int i = 0; i < 8; ++i) CHECK(v.at(i + 1) == std::to_string(block[static_cast<std::size_t>(i)]));
    CHECK(v.at(4) == "25");    // total: 40 x 0.625 nL
    CHECK(v.at(5) == "1");     // VALID
    CHECK(v.at(6) == "2200");  // 22.00 degC
    CHECK(v.at(7) == "40");    // sample counter
    CHECK(v.at(8) == "100");   // period
}

TEST_CASE("mbpoll reads the flow as a big-endian float over a pty") {
    MbpollBench bench;
    const auto r = run(bench.rtu({"-t", "3:float", "-B", "-r", "1", "-c", "1"}));
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK(values(r.output).at(1) == "22.5");
}

TEST_CASE("mbpoll reads the flow and the total over TCP") {
    MbpollBench bench;
    const auto f = run(bench.tcp({"-t", "3:float", "-B", "-r", "1", "-c", "1"}));
    INFO(f.output);
    REQUIRE(f.status == 0);
    CHECK(values(f.output).at(1) == "22.5");
    const auto t = run(bench.tcp({"-t", "3:int", "-B", "-r", "3", "-c", "1"}));
    INFO(t.output);
    REQUIRE(t.status == 0);
    CHECK(values(t.output).at(3) == "25");
}

TEST_CASE("mbpoll reads the identification over a pty") {
    MbpollBench bench;
    const auto r = run(bench.rtu({"-u"}));
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK(r.output.find("Id    : 0x4C") != std::string::npos);
    CHECK(r.output.find("Data  : LF-2000,SN=LF0099,FW=1.00") != std::string::npos);
}

TEST_CASE("mbpoll writes the filter time and is refused a filter of 50 ms") {
    MbpollBench bench;
    const auto ok = run(bench.rtu({"-t", "4", "-r", "102"}, {"2500"}));  // holding 101 is 40102
    INFO(ok.output);
    REQUIRE(ok.status == 0);
    CHECK(bench.meter.with_model([](sim::Lf2000Model& m) { return m.filter(); }) == Millis{2500});
    const auto refused = run(bench.tcp({"-t", "4", "-r", "102"}, {"50"}));
    INFO(refused.output);
    CHECK(refused.status != 0);
    CHECK(refused.output.find("Illegal data value") != std::string::npos);
    CHECK(bench.meter.with_model([](sim::Lf2000Model& m) { return m.filter(); }) == Millis{2500});
}

TEST_CASE("mbpoll reading address 8 gets exception 02") {
    MbpollBench bench;
    const auto r = run(bench.rtu({"-t", "3", "-r", "9", "-c", "1"}));
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK(r.output.find("Illegal data address") != std::string::npos);
}
