// pumprig-bench: measures pumprig's own paths against baselines measured in the same run, on
// the simulated bench, and prints one table (project issue 8; docs/performance.md):
//   1. meter sampling (read, decode, track, record) vs a bare libmodbus loop, mbpoll and a
//      pymodbus client loop, over a pseudo-terminal and over loopback TCP;
//   2. pump STATUS round trips through the pump driver vs a bare loop of the same frames;
//   3. the 24-hour accuracy scenario replayed in virtual time, against a bare libmodbus loop of
//      as many reads (one per sample) on the same meter pseudo-terminal;
//   4. every check and the trumpet curve over 7 days of 1 s samples (time and peak memory,
//      in a child process so nothing else inflates its peak);
//   5. sampling period jitter of the run engine at 10 Hz against a real-time simulator.
//   6. the same on eight channels at once, with the CPU time per channel-hour.
//   7. the main job's library (pumprig run scenarios/ on rig/sim.json) one scenario at a time
//      and with --jobs 2, as a user runs it (the pumprig program).
// Figures are ratios against baselines of the same run; nothing here is a pass/fail test.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <sched.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <modbus/modbus.h>
#include <nlohmann/json.hpp>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench/bench.hpp"
#include "bench/rig.hpp"
#include "bench/sim_process.hpp"
#include "core/realtime.hpp"
#include "child_process.hpp"
#include "meter/meter_driver.hpp"
#include "meter/total_tracker.hpp"
#include "pump/codec/frame.hpp"
#include "pump/driver/pump_driver.hpp"
#include "record/folder.hpp"
#include "record/recorder.hpp"
#include "run/engine.hpp"
#include "scenario/expected.hpp"
#include "scenario/scenario.hpp"
#include "transport/byte_stream.hpp"
#include "verify/checks.hpp"

namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace pumprig;
using Steady = std::chrono::steady_clock;

namespace {

// ------------------------------------------------------------------------------- settings

struct Config {
    bool quick = false;
    int block = 250;             // iterations per block when two loops are interleaved
    int meter_reads_pty = 10000;  // per method
    int meter_reads_tcp = 40000;
    int mbpoll_polls = 300;
    int python_reads_pty = 2000;
    int python_reads_tcp = 5000;
    int pump_round_trips = 5000;
    bool replay_full_day = true;
    int analysis_days = 7;
    int jitter_seconds = 120;
    std::string sim_binary;
    std::string pumprig_binary;  // item 7
    std::string python = "/usr/bin/python3";
    std::string source_dir = PUMPRIG_SOURCE_DIR;
    fs::path work_dir;  // temporary run folders
};

Config quick_config(Config c) {
    c.quick = true;
    c.block = 50;
    c.meter_reads_pty = 300;
    c.meter_reads_tcp = 300;
    c.mbpoll_polls = 30;
    c.python_reads_pty = 300;
    c.python_reads_tcp = 300;
    c.pump_round_trips = 300;
    c.replay_full_day = false;
    c.analysis_days = 1;
    c.jitter_seconds = 5;
    return c;
}

double seconds_since(Steady::time_point t0) { return std::chrono::duration<double>(Steady::now() - t0).count(); }

std::string fmt(const char* f, double v) {
    // Sized by a first pass: some row labels are longer than any fixed buffer we would pick.
    const int n = std::snprintf(nullptr, 0, f, v);
    if (n <= 0) return {};
    std::string out(static_cast<std::size_t>(n) + 1, '\0');
    std::snprintf(out.data(), out.size(), f, v);
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// One line of the table.
struct Row {
    std::string item;      // "1 meter sampling", ...
    std::string what;      // what was measured
    std::string value;     // the figure
    std::string ratio;     // against the item's reference baseline, or empty
    std::string target;    // the issue's target, or empty
    std::string verdict;   // "met", "MISSED", or empty
    std::string note;      // what limits it
};

// A measured rate, or why there is none.
struct Rate {
    double per_s = 0;
    int ok = 0;
    int failed = 0;
    std::string error;
    explicit operator bool() const { return error.empty() && per_s > 0; }
};

// A loop under test: runs n iterations, returns how many succeeded.
struct Loop {
    virtual ~Loop() = default;
    virtual int run(int n) = 0;
};

// Runs `total` iterations of each loop in alternating blocks (a b, b a, a b, ...), so load from
// elsewhere on this shared machine, and the scheduling mode of the link (both ends on one core
// or on two: on a pseudo-terminal that alone changes the rate threefold), hit both alike. Each
// rate is from the summed time of its blocks.
std::pair<Rate, Rate> interleave(Loop& a, Loop& b, int total, int block) {
    Rate ra, rb;
    double ta = 0, tb = 0;
    auto timed = [](Loop& l, int n, Rate& r, double& t) {
        const auto t0 = Steady::now();
        const int ok = l.run(n);
        t += seconds_since(t0);
        r.ok += ok;
        r.failed += n - ok;
    };
    for (int done = 0, k = 0; done < total; done += block, ++k) {
        const int n = std::min(block, total - done);
        if (k % 2 == 0) {
            timed(a, n, ra, ta);
            timed(b, n, rb, tb);
        } else {
            timed(b, n, rb, tb);
            timed(a, n, ra, ta);
        }
    }
    ra.per_s = ta > 0 ? ra.ok / ta : 0;
    rb.per_s = tb > 0 ? rb.ok / tb : 0;
    return {ra, rb};
}

std::string rate_text(const Rate& r, const char* unit) {
    if (!r) return "n/a (" + r.error + ")";
    std::string s = fmt("%.0f", r.per_s) + " " + unit;
    if (r.failed) s += " (" + std::to_string(r.failed) + " failed)";
    return s;
}

// ------------------------------------------------------------------- 1. meter sampling

struct MeterTarget {
    std::string name;  // "pty" or "tcp"
    meter::MeterLink link;
    int reads = 0;
    int python_reads = 0;
};

// pumprig's sampling path, as src/run/engine.cpp Runner::sample_once does it: read the block
// through the driver (retry policy, decode), unwrap the total, keep the sample and record it.
class PumprigSampling final : public Loop {
public:
    static std::unique_ptr<PumprigSampling> open(const meter::MeterLink& link, const meter::MeterProfile& profile,
                                                 const fs::path& dir, std::string& error) {
        auto driver = meter::MeterDriver::open(link, profile);
        if (!driver) {
            error = driver.error().describe();
            return nullptr;
        }
        auto rec = record::RunRecorder::create(dir);
        if (!rec) {
            error = rec.error().describe();
            return nullptr;
        }
        if (!driver->read()) {
            error = "the warm-up read failed";
            return nullptr;
        }
        return std::unique_ptr<PumprigSampling>(new PumprigSampling(std::move(*driver), std::move(*rec), profile));
    }
    int run(int n) override {
        int ok = 0;
        for (int i = 0; i < n; ++i) {
            t_ += Millis{1000};
            auto reading = driver_.read();
            if (!reading) continue;
            // The run engine's own sample path (Runner::sample_once): to_sample, then the record,
            // committed each bench second as on a real-time bench.
            recorder_.sample(run::to_sample(t_, *reading, tracker_.update(*reading)));
            recorder_.commit(t_);
            ++ok;
        }
        return ok;
    }

private:
    PumprigSampling(meter::MeterDriver d, record::RunRecorder r, const meter::MeterProfile& p)
        : driver_(std::move(d)), recorder_(std::move(r)), tracker_(p) {}
    meter::MeterDriver driver_;
    record::RunRecorder recorder_;
    meter::TotalTracker tracker_;
    BenchTime t_{std::chrono::hours(24 * 20454)};
};

// The baseline: libmodbus alone, the same block read in a loop, nothing decoded or kept; the
// same response timeout as the driver.
class BareModbus final : public Loop {
public:
    static std::unique_ptr<BareModbus> open(const meter::MeterLink& l, int address, int count, std::string& error) {
        modbus_t* ctx = l.kind == meter::MeterLink::Tcp ? modbus_new_tcp(l.host.c_str(), l.port)
                                                         : modbus_new_rtu(l.device.c_str(), l.baud, l.parity, l.data_bits, l.stop_bits);
        if (!ctx) {
            error = std::string("modbus_new: ") + modbus_strerror(errno);
            return nullptr;
        }
        std::unique_ptr<BareModbus> b(new BareModbus(ctx, address, count));
        modbus_set_slave(ctx, l.unit_id);
        modbus_set_response_timeout(ctx, 0, static_cast<std::uint32_t>(l.response_timeout.count() * 1000));
        if (modbus_connect(ctx) != 0) {
            error = std::string("modbus_connect: ") + modbus_strerror(errno);
            return nullptr;
        }
        modbus_flush(ctx);
        b->run(1);  // warm-up
        return b;
    }
    ~BareModbus() override {
        modbus_close(ctx_);
        modbus_free(ctx_);
    }
    int run(int n) override {
        int ok = 0;
        for (int i = 0; i < n; ++i)
            if (modbus_read_input_registers(ctx_, address_, count_, regs_.data()) == count_) ++ok;
        return ok;
    }

private:
    BareModbus(modbus_t* ctx, int address, int count)
        : ctx_(ctx), address_(address), count_(count), regs_(static_cast<std::size_t>(count)) {}
    modbus_t* ctx_;
    int address_, count_;
    std::vector<std::uint16_t> regs_;
};

// mbpoll has no repeat count: it polls every -l ms (10 at least) until stopped. Its polls are
// timed from the first to the last one seen on its (line-buffered) output; then it is ended by
// pid.
Rate mbpoll_loop(const MeterTarget& m, int polls, int block_address, int block_count) {
    std::vector<std::string> argv{"stdbuf", "-oL", "mbpoll", "-a", std::to_string(m.link.unit_id), "-t", "3",
                                  "-r", std::to_string(block_address + 1), "-c", std::to_string(block_count),
                                  "-l", "10", "-o", "1"};
    if (m.link.kind == meter::MeterLink::Tcp) {
        for (const char* a : {"-m", "tcp", "-p"}) argv.push_back(a);
        argv.push_back(std::to_string(m.link.port));
        argv.push_back(m.link.host);
    } else {
        for (const char* a : {"-m", "rtu", "-b"}) argv.push_back(a);
        argv.push_back(std::to_string(m.link.baud));
        argv.push_back("-P");
        argv.push_back("none");
        argv.push_back(m.link.device);
    }
    std::string error;
    auto child = benchmark::ChildProcess::start(argv, error);
    if (!child) return Rate{0, 0, 0, error};
    // A complete poll prints the last register's line "[N]: value".
    const std::string last = "[" + std::to_string(block_address + block_count) + "]:";
    Rate r;
    std::optional<Steady::time_point> first;
    Steady::time_point last_at{};
    int complete = 0;
    const auto deadline = Steady::now() + std::chrono::seconds(10 + polls / 20);
    while (complete < polls + 1 && Steady::now() < deadline) {
        auto line = child->read_line(std::chrono::seconds(3));
        if (!line) break;
        if (line->find(last) != std::string::npos) {
            if (!first) first = Steady::now();
            last_at = Steady::now();
            ++complete;
        } else if (line->find("failed") != std::string::npos) {
            ++r.failed;
        }
    }
    child->stop();
    if (complete < 2) return Rate{0, 0, r.failed, "mbpoll completed " + std::to_string(complete) + " polls"};
    r.ok = complete - 1;
    r.per_s = r.ok / std::chrono::duration<double>(last_at - *first).count();
    return r;
}

// A python3-pymodbus client reading the same block in a loop (its own timing, after a warm-up
// read). pymodbus 3.0: `slave=` names the unit; the RTU framer is passed explicitly.
constexpr const char* kPythonLoop = R"PY(
import sys, time
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.framer.rtu_framer import ModbusRtuFramer
kind, target, n, unit, addr, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
if kind == "rtu":
    c = ModbusSerialClient(port=target, framer=ModbusRtuFramer, baudrate=19200, parity="N", stopbits=1, bytesize=8, timeout=1)
else:
    host, port = target.rsplit(":", 1)
    c = ModbusTcpClient(host, port=int(port), timeout=1)
if not c.connect():
    print("ERROR cannot connect to " + target)
    sys.exit(2)
c.read_input_registers(addr, count, slave=unit)
ok = failed = 0
t0 = time.perf_counter()
for i in range(n):
    r = c.read_input_registers(addr, count, slave=unit)
    if r.isError():
        failed += 1
    else:
        ok += 1
t1 = time.perf_counter()
c.close()
print("RESULT ok=%d failed=%d seconds=%.6f" % (ok, failed, t1 - t0))
)PY";

Rate python_loop(const Config& cfg, const MeterTarget& m, int block_address, int block_count) {
    const bool tcp = m.link.kind == meter::MeterLink::Tcp;
    std::vector<std::string> argv{cfg.python, "-c", kPythonLoop, tcp ? "tcp" : "rtu",
                                  tcp ? m.link.host + ":" + std::to_string(m.link.port) : m.link.device,
                                  std::to_string(m.python_reads), std::to_string(m.link.unit_id),
                                  std::to_string(block_address), std::to_string(block_count)};
    std::string error;
    auto child = benchmark::ChildProcess::start(argv, error);
    if (!child) return Rate{0, 0, 0, error};
    std::string out;
    const int status = child->finish(std::chrono::seconds(120), &out);
    Rate r;
    const auto at = out.find("RESULT ");
    double secs = 0;
    if (status != 0 || at == std::string::npos ||
        std::sscanf(out.c_str() + at, "RESULT ok=%d failed=%d seconds=%lf", &r.ok, &r.failed, &secs) != 3 || secs <= 0) {
        std::string first_line = out.substr(0, out.find('\n'));
        return Rate{0, 0, 0, "pymodbus loop: exit " + std::to_string(status) + ": " + first_line.substr(0, 120)};
    }
    r.per_s = r.ok / secs;
    return r;
}

void meter_sampling(const Config& cfg, std::vector<Row>& rows) {
    auto sim = bench::SimProcess::start(cfg.sim_binary, {"--time", "virtual", "--seed", "1", "--meter-tcp", "0"});
    if (!sim) {
        rows.push_back({"1 meter sampling", "simulator", "n/a", "", "", "", sim.error().describe()});
        return;
    }
    auto profile = meter::load_meter_profile(cfg.source_dir + "/fixtures/meters/lf-2000.json");
    if (!profile) {
        rows.push_back({"1 meter sampling", "profile", "n/a", "", "", "", profile.error().describe()});
        return;
    }
    // Let the meter model measure for a while so readings carry real values.
    (void)sim->advance(Millis{10'000});

    std::vector<MeterTarget> targets;
    MeterTarget pty{"pseudo-terminal (RTU 19200 8N1)", {}, cfg.meter_reads_pty, cfg.python_reads_pty};
    pty.link.kind = meter::MeterLink::Rtu;
    pty.link.device = sim->ready().at("meter");
    pty.link.parity = 'N';  // pseudo-terminals do not keep parity (docs/platform.md)
    targets.push_back(pty);
    const auto& hp = sim->ready().at("meter_tcp");
    MeterTarget tcp{"loopback TCP", {}, cfg.meter_reads_tcp, cfg.python_reads_tcp};
    tcp.link.kind = meter::MeterLink::Tcp;
    tcp.link.host = hp.substr(0, hp.rfind(':'));
    tcp.link.port = std::stoi(hp.substr(hp.rfind(':') + 1));
    targets.push_back(tcp);

    const int addr = profile->block_address, count = profile->block_count;
    int index = 0;
    for (const auto& m : targets) {
        std::fprintf(stderr, "  meter over %s\n", m.name.c_str());
        Rate o, b;
        std::string error;
        auto own = PumprigSampling::open(m.link, *profile, cfg.work_dir / ("meter-" + std::to_string(index++)), error);
        auto bare = own ? BareModbus::open(m.link, addr, count, error) : nullptr;
        if (own && bare) {
            std::tie(o, b) = interleave(*own, *bare, m.reads, cfg.block);
        } else {
            o.error = b.error = error;
        }
        own.reset();
        bare.reset();
        const Rate p = python_loop(cfg, m, addr, count);
        const Rate mp = mbpoll_loop(m, cfg.mbpoll_polls, addr, count);
        auto ratio = [&](const Rate& x) { return (x && b) ? fmt("%.3f", x.per_s / b.per_s) : std::string(); };
        const std::string item = "1 meter sampling, " + m.name;
        const bool tcp_link = m.link.kind == meter::MeterLink::Tcp;
        const std::string link_note = tcp_link ? "loopback TCP: the simulator's Modbus server and the 2 shared cores"
                                               : "pseudo-terminal: kernel tty layer and the simulator's RTU server";
        rows.push_back({item, "pumprig sampling path (read, decode, track, record)", rate_text(o, "reads/s"), ratio(o),
                        ">= 0.97 of bare libmodbus (issue 19)", (o && b) ? (o.per_s >= 0.97 * b.per_s ? "met" : "MISSED") : "",
                        link_note});
        rows.push_back({item, "bare libmodbus loop (reference)", rate_text(b, "reads/s"), b ? "1.00" : "", "", "", link_note});
        rows.push_back({item, "mbpoll (-l 10)", rate_text(mp, "reads/s"), ratio(mp), "", "",
                        "mbpoll's minimum poll interval (10 ms, ~95 polls/s): a slow baseline by design"});
        rows.push_back({item, "python3-pymodbus client loop", rate_text(p, "reads/s"), ratio(p), "", "",
                        tcp_link ? "the Python interpreter" : "the Python interpreter and pymodbus's RTU inter-frame waits at 19200 baud"});
    }
    sim->stop();
}

// ------------------------------------------------------------------ 2. pump round trips

// termios raw mode on a pseudo-terminal, like transport::open_termios does.
int open_raw_tty(const std::string& path) {
    const int fd = open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -1;
    termios t{};
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        cfsetispeed(&t, B115200);
        cfsetospeed(&t, B115200);
        t.c_cc[VMIN] = 0;
        t.c_cc[VTIME] = 0;
        tcsetattr(fd, TCSANOW, &t);
    }
    return fd;
}

// The baseline: the same STATUS frames (all encoded before the clock starts) written to the
// pseudo-terminal and the answers read back with poll/read, nothing parsed beyond finding the
// response's SEQ. libserialport cannot open a pseudo-terminal (docs/platform.md), so this is a
// bare termios loop.
class BareStatus final : public Loop {
public:
    BareStatus(int fd, std::uint32_t first_seq, int total) : fd_(fd) {
        std::uint32_t seq = first_seq;
        for (int i = 0; i < total; ++i) {
            frames_.push_back(pump::codec::encode_frame(std::to_string(seq) + ",STATUS"));
            std::string prefix(1, '$');  // appended piecewise: g++ 12 warns falsely on "$" + string
            prefix += std::to_string(seq);
            prefix += ',';
            prefixes_.push_back(std::move(prefix));
            seq = seq >= 65535 ? 1 : seq + 1;
        }
    }
    ~BareStatus() override { close(fd_); }
    int run(int n) override {
        int ok = 0;
        char chunk[1024];
        for (int i = 0; i < n && next_ < frames_.size(); ++i, ++next_) {
            const auto& f = frames_[next_];
            if (write(fd_, f.data(), f.size()) != static_cast<ssize_t>(f.size())) continue;
            bool answered = false;
            while (!answered) {
                pollfd p{fd_, POLLIN, 0};
                if (poll(&p, 1, 300) <= 0) break;
                const ssize_t got = read(fd_, chunk, sizeof chunk);
                if (got <= 0) break;
                buf_.append(chunk, static_cast<std::size_t>(got));
                std::size_t nl;
                while ((nl = buf_.find('\n')) != std::string::npos) {
                    if (buf_.compare(0, prefixes_[next_].size(), prefixes_[next_]) == 0) answered = true;
                    buf_.erase(0, nl + 1);
                }
            }
            if (answered) ++ok;
        }
        return ok;
    }

private:
    int fd_;
    std::vector<std::string> frames_, prefixes_;
    std::size_t next_ = 0;
    std::string buf_;
};

class DriverStatus final : public Loop {
public:
    explicit DriverStatus(pump::PumpDriver& d) : d_(d) {}
    int run(int n) override {
        int ok = 0;
        for (int i = 0; i < n; ++i)
            if (d_.status()) ++ok;
        return ok;
    }

private:
    pump::PumpDriver& d_;
};

void pump_round_trips(const Config& cfg, std::vector<Row>& rows) {
    const std::string item = "2 pump STATUS round trips, pseudo-terminal";
    auto sim = bench::SimProcess::start(cfg.sim_binary, {"--time", "virtual", "--seed", "1"});
    if (!sim) {
        rows.push_back({item, "simulator", "n/a", "", "", "", sim.error().describe()});
        return;
    }
    const std::string pty = sim->ready().at("pump");
    auto stream = transport::open_termios(pty, transport::SerialSettings{});
    const int fd = open_raw_tty(pty);
    if (!stream || fd < 0) {
        rows.push_back({item, "pump link", "n/a", "", "", "", !stream ? stream.error().describe() : "cannot open " + pty});
        if (fd >= 0) close(fd);
        return;
    }
    pump::DriverOptions opt;
    opt.seed = 1;
    pump::PumpDriver driver(std::move(*stream), opt);
    // STATUS needs no session (ICD section 3). The BOOT event is taken and acknowledged first.
    (void)driver.poll_events(Millis{50});
    (void)driver.status();
    DriverStatus own(driver);
    // Both loops talk to the same pump, one at a time. The bare loop's SEQs are 30000 away from
    // the driver's, so neither is taken for a retry of the other's last request (ICD section 2).
    BareStatus bare(fd, (driver.next_seq() + 30000 - 1) % 65535 + 1, cfg.pump_round_trips);
    std::fprintf(stderr, "  pump STATUS\n");
    const auto [o, b] = interleave(own, bare, cfg.pump_round_trips, cfg.block);
    sim->stop();
    rows.push_back({item, "pump driver status() (frame, CRC, SEQ, parse)", rate_text(o, "round trips/s"),
                    (o && b) ? fmt("%.3f", o.per_s / b.per_s) : "", "", "",
                    "the simulator's pump model answering on a pseudo-terminal"});
    rows.push_back({item, "bare termios loop, same frames (reference; libserialport cannot open a pty)",
                    rate_text(b, "round trips/s"), b ? "1.00" : "", "", "", "kernel tty layer, simulator"});
}

}  // namespace

namespace {

// ------------------------------------------------------------------ 3. virtual-time replay

Result<scenario::Scenario> scenario_from_json(const nlohmann::json& j, const Config& cfg, const std::string& name) {
    auto sc = scenario::parse_scenario_text(j.dump(), name, cfg.source_dir + "/fixtures");
    if (!sc) {
        std::string msg = "scenario " + name + ":";
        for (const auto& d : sc.error()) msg += " " + scenario::format(d);
        return fail(ErrorKind::BadInput, msg);
    }
    return std::move(*sc);
}

Result<bench::RigDescription> sim_rig(const Config& cfg) {
    auto rig = bench::load_rig(cfg.source_dir + "/rig/sim.json", cfg.source_dir);
    if (!rig) return std::unexpected(rig.error());
    return *rig;
}

void replay(const Config& cfg, std::vector<Row>& rows) {
    const std::string file = cfg.source_dir + "/scenarios/long/accuracy-24h.json";
    std::string item = "3 virtual-time replay, accuracy-24h (1 s sampling)";
    std::ifstream in(file);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) {
        rows.push_back({item, "scenario", "n/a", "", "", "", "cannot read " + file});
        return;
    }
    if (!cfg.replay_full_day) {
        // --quick: the same scenario cut to 30 min of delivery (the accuracy check needs 23 h).
        item += " cut to 0.5 h (--quick)";
        for (auto& step : j["steps"])
            if (step.value("do", "") == "wait") step["for"] = "30 min";
        nlohmann::json checks = nlohmann::json::array();
        for (auto& c : j["checks"])
            if (c.value("check", "") != "accuracy") checks.push_back(c);
        j["checks"] = checks;
    }
    auto sc = scenario_from_json(j, cfg, file);
    auto rig = sim_rig(cfg);
    if (!sc || !rig) {
        rows.push_back({item, "setup", "n/a", "", "", "", !sc ? sc.error().message : rig.error().message});
        return;
    }
    bench::BenchOptions bo;
    bo.seed = 1;
    bo.sim_binary = cfg.sim_binary;
    auto b = bench::Bench::open(*rig, bo);
    if (!b) {
        rows.push_back({item, "bench", "n/a", "", "", "", b.error().describe()});
        return;
    }
    run::RunOptions ro;
    ro.out_root = cfg.work_dir / "replay";
    ro.seed = 1;
    // The link's floor: a bare libmodbus loop of as many reads as the replay takes samples, on
    // the same meter pseudo-terminal of the same simulator, half before the replay and half
    // after it (load that comes or goes during the run hits both alike).
    const auto profile = meter::load_meter_profile(rig->meter.profile.string());
    meter::MeterLink link;
    link.kind = meter::MeterLink::Rtu;
    link.device = (*b)->simulator()->ready().at("meter");
    link.parity = 'N';
    link.response_timeout = Millis{rig->meter.response_timeout_ms};
    link.unit_id = rig->meter.unit_id;
    // As many reads as samples: half planned before, the rest once the record says how many.
    const int planned = static_cast<int>(run::plan_bench_time(*sc, Millis{0}).total.count() / sc->settings.sample_period.count());
    std::string error;
    auto bare = profile ? BareModbus::open(link, profile->block_address, profile->block_count, error) : nullptr;
    if (!profile) error = profile.error().describe();
    double bare_wall = 0;
    int bare_ok = 0;
    auto bare_half = [&](int n) {
        if (!bare) return;
        const auto t0 = Steady::now();
        bare_ok += bare->run(n);
        bare_wall += seconds_since(t0);
    };
    bare_half(planned / 2);
    const BenchTime bench0 = (*b)->clock().now();
    const auto t0 = Steady::now();
    const auto r = run::run_scenario(**b, *sc, ro);
    const double wall = seconds_since(t0);
    int reads = 0;
    {
        std::ifstream csv(r.dir / "samples.csv");
        for (std::string line; std::getline(csv, line);) ++reads;
        reads = std::max(0, reads - 1);  // the header
    }
    bare_half(std::max(0, reads - planned / 2));
    bare.reset();
    const double bench_h = std::chrono::duration<double, std::ratio<3600>>((*b)->clock().now() - bench0).count();
    const double per_day = wall / bench_h * 24.0;
    const bool floor_known = bare_wall > 0 && reads > planned / 2 && bare_ok == reads;
    const double to_floor = floor_known ? wall / bare_wall : 0;
    rows.push_back({item, std::string("run_scenario, outcome ") + run::to_string(r.outcome),
                    fmt("%.2f s wall", wall) + fmt(" for %.2f bench h", bench_h),
                    floor_known ? fmt("%.2f x the bare loop", to_floor) : std::string(), "<= 1.2 x the bare loop of as many reads",
                    floor_known ? (to_floor <= 1.2 ? "met" : "MISSED") : "",
                    fmt("%.2f s per bench day", per_day) + fmt(" (%.1f bench h per wall s); ", bench_h / wall) +
                        "the meter read per sample, an ADVANCE sent with it unconfirmed, the simulator's models (10 steps a sample)"});
    rows.push_back({item, fmt("bare libmodbus loop, %.0f reads (one per sample of the replay) on the same pseudo-terminal (reference)", reads),
                    floor_known ? fmt("%.2f s wall", bare_wall) : "n/a (" + (error.empty() ? std::to_string(reads - bare_ok) + " reads failed" : error) + ")",
                    floor_known ? "1.00" : "", "", "", "pseudo-terminal: kernel tty layer and the simulator's RTU server"});
}

// ---------------------------------------------------------------------------- 4. analysis

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long max_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;  // KiB on Linux
}

// Runs in a child process of its own (--analysis-child), so its peak memory is the analysis's:
// synthetic 1 s samples of a constant-rate run (the expected meter total, seeded noise) over
// `days` days, statuses every minute, events and answers, then run::judge (every check,
// the IEC 60601-2-24 analysis at a 1 s sample interval, trumpet windows up to 8 h) is timed.
int analysis_child(const Config& cfg, int days) {
    const int hours = 24 * days;
    nlohmann::json j = {
        {"name", "analysis-" + std::to_string(days) + "d"},
        {"pump_profile", "itb-40"},
        {"drug", "baclofen"},
        {"concentration", "500 ug/mL"},
        {"settings", {{"sample_period", "1 s"}, {"status_period", "60 s"}, {"start_time_of_day", "00:30"}}},
        {"steps",
         {{{"do", "set_clock"}},
          {{"do", "refill"}, {"volume", "20 mL"}, {"concentration", "500 ug/mL"}},
          {{"do", "program"}, {"schedule", {{{"start", "00:00"}, {"dose", "1000 ug/day"}}}}},
          {{"do", "start"}, {"label", "started"}},
          {{"do", "wait"}, {"for", std::to_string(hours) + " h"}},
          {{"do", "stop"}, {"label", "stopped"}}}},
        {"checks",
         {{{"check", "volume"}, {"name", "volume"}, {"from", "started"}, {"to", "stopped"}},
          {{"check", "accuracy"},
           {"name", "IEC 60601-2-24 at 1 s"},
           {"from", "started"},
           {"sample_interval", "1 s"},
           {"startup_period", "2 h"},
           {"analysis_period", std::to_string(hours - 3) + " h"},
           {"windows", {"2 min", "5 min", "11 min", "19 min", "31 min", "1 h", "8 h"}},
           {"limits", {{"mean_error", "15 %"}, {"trumpet_max", "15 %"}, {"trumpet_min", "-15 %"}}}}}}};
    auto sc = scenario_from_json(j, cfg, "analysis scenario");
    if (!sc) {
        std::printf("ERROR %s\n", sc.error().message.c_str());
        return 2;
    }
    const BenchTime start{Millis{1767227400000}};  // 2026-01-01T00:30:00Z, the start time of day
    run::RecordedRun data;
    data.times = scenario::nominal_execution(*sc, start);
    const auto plan = scenario::expand(*sc, data.times);
    const Millis tau{20'000};
    data.line_tau = tau;
    // A pump that stopped at the end, as every conforming run ends (check stop.end).
    data.safe_stop = record::SafeStopInfo{true, true, true, "pump stopped (STATUS state=STOPPED)", ""};

    std::mt19937_64 rng(1);
    std::normal_distribution<double> total_noise(0.0, 0.01), flow_noise(0.0, 0.005);
    const std::size_t n = static_cast<std::size_t>(days) * 86'400;
    data.samples.reserve(n);
    std::size_t seg = 0;
    std::uint16_t counter = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const BenchTime t = start + Millis{static_cast<long long>(i) * 1000};
        while (seg + 1 < plan.segments.size() && plan.segments[seg].end <= t) ++seg;
        const double rate = plan.segments.empty() ? 0.0 : plan.segments[seg].rate.ul_per_h;
        verify::Sample s;
        s.t = t;
        s.total = Volume::from_ul(std::max(0.0, verify::expected_meter_total(plan.segments, t, tau).ul + total_noise(rng)));
        s.flow = FlowRate::from_ul_per_h(rate * (1.0 + flow_noise(rng)));
        s.status = 1;
        counter = static_cast<std::uint16_t>(counter + 10);
        s.counter = counter;
        s.valid = true;
        data.samples.push_back(s);
        if (i % 60 == 0) {
            const double delivered_ml = verify::expected_delivered(plan.segments, t).ul / 1000.0;
            verify::PumpStatusRecord st;
            st.bench_t = t;
            st.pump_t = static_cast<double>(t.time_since_epoch().count()) / 1000.0;
            st.state = "RUNNING";
            st.res_ml = std::max(0.0, 20.0 - delivered_ml);
            st.conc_ug_ml = 500;
            st.rate_ml_day = rate * 24.0 / 1000.0;
            st.deliv_ml = delivered_ml;
            st.step = 1;
            st.batt_pct = 100;
            st.bolus = "NONE";
            data.statuses.push_back(st);
        }
    }
    std::uint32_t ev = 0;
    for (const auto& s : plan.states)
        data.events.push_back({s.t, static_cast<double>(s.t.time_since_epoch().count()) / 1000.0, ++ev, "STATE", {{"state", s.state}}});
    for (const auto& c : plan.step_changes)
        data.events.push_back({c.t, static_cast<double>(c.t.time_since_epoch().count()) / 1000.0, ++ev, "STEP", {{"step", std::to_string(c.step)}}});
    std::sort(data.events.begin(), data.events.end(), [](const auto& a, const auto& b) { return a.bench_t < b.bench_t; });
    for (std::size_t i = 0; i < sc->steps.size(); ++i) {
        if (!scenario::is_command(sc->steps[i].action) || !data.times.steps[i].at) continue;
        data.commands.push_back({*data.times.steps[i].at, std::string(scenario::step_name(sc->steps[i].action)),
                                 std::string(scenario::step_name(sc->steps[i].action)), record::Answer::ok(), record::Answer::ok()});
    }
    data.last_data = data.samples.back().t;

    const long rss_before = max_rss_kib();
    const double cpu0 = cpu_seconds();
    const auto t0 = Steady::now();
    const auto checks = run::judge(*sc, data);
    const double secs = seconds_since(t0);
    const double cpu = cpu_seconds() - cpu0;
    const long rss_peak = max_rss_kib();
    const auto sum = verify::summarise(checks);
    std::printf("ANALYSIS samples=%zu seconds=%.6f cpu=%.6f rss_before_kib=%ld rss_peak_kib=%ld checks=%zu pass=%zu fail=%zu inconclusive=%zu\n", n,
                secs, cpu, rss_before, rss_peak, checks.size(), sum.pass, sum.fail, sum.inconclusive);
    for (const auto& c : checks)
        if (c.verdict != verify::Verdict::Pass) std::printf("  %s %s %s\n", verify::to_string(c.verdict), c.id.c_str(), c.detail.c_str());
    return 0;
}

void analysis(const Config& cfg, const std::string& self, std::vector<Row>& rows) {
    const std::string item = "4 analysis, " + std::to_string(cfg.analysis_days) + " days of 1 s samples";
    std::string error;
    auto child = benchmark::ChildProcess::start(
        {self, "--analysis-child", "--analysis-days", std::to_string(cfg.analysis_days), "--source-dir", cfg.source_dir}, error);
    if (!child) {
        rows.push_back({item, "child", "n/a", "", "", "", error});
        return;
    }
    std::string out;
    const int status = child->finish(std::chrono::seconds(300), &out);
    std::size_t n = 0, checks = 0, pass = 0, failed = 0, inconclusive = 0;
    double secs = 0, cpu = 0;
    long before = 0, peak = 0;
    const auto at = out.find("ANALYSIS ");
    if (status != 0 || at == std::string::npos ||
        std::sscanf(out.c_str() + at, "ANALYSIS samples=%zu seconds=%lf cpu=%lf rss_before_kib=%ld rss_peak_kib=%ld checks=%zu pass=%zu fail=%zu inconclusive=%zu",
                    &n, &secs, &cpu, &before, &peak, &checks, &pass, &failed, &inconclusive) != 9) {
        rows.push_back({item, "child", "n/a", "", "", "", "analysis child exit " + std::to_string(status) + ": " + out.substr(0, 200)});
        return;
    }
    if (failed || inconclusive) std::fprintf(stderr, "analysis child:\n%s", out.c_str());
    const std::string verdicts = std::to_string(checks) + " checks: " + std::to_string(pass) + " pass, " + std::to_string(failed) +
                                 " fail, " + std::to_string(inconclusive) + " inconclusive";
    rows.push_back({item, "run::judge (every check + IEC 60601-2-24 at S = 1 s), " + std::to_string(n) + " samples",
                    fmt("%.3f s wall", secs) + fmt(" (%.3f s CPU)", cpu), "", "< 1 s", secs < 1.0 ? "met" : "MISSED",
                    "one thread; wall time grows with the machine's load, CPU time does not; " + verdicts});
    const double peak_mib = peak / 1024.0, added_mib = std::max(0L, peak - before) / 1024.0;
    rows.push_back({item, "peak memory of the analysis process (samples held + analysis)",
                    fmt("%.1f MiB", peak_mib) + fmt(" (analysis adds %.1f MiB)", added_mib), "", "< 64 MiB",
                    peak_mib < 64.0 ? "met" : "MISSED",
                    fmt("ru_maxrss of a child process; the samples alone are %.1f MiB", n * sizeof(verify::Sample) / 1048576.0)});
}

// ---------------------------------------------------------------------- 5. real-time jitter

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    const double pos = p * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const auto hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// Relays the meter's RTU bytes between a pseudo-terminal of its own (which the engine opens as
// the meter) and the simulator's meter pseudo-terminal, noting the steady-clock time at which
// each block read (function 4) from the engine arrives: the sampling instants, to the
// microsecond, without touching the engine. The relay's own wake-up latency is in the figure.
class MeterTap {
public:
    static std::unique_ptr<MeterTap> open(const std::string& meter_pty, std::string& error) {
        int master = -1, slave = -1;
        if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
            error = std::string("openpty: ") + std::strerror(errno);
            return nullptr;
        }
        termios t{};
        tcgetattr(master, &t);
        cfmakeraw(&t);
        tcsetattr(master, TCSANOW, &t);
        const std::string slave_path = ttyname(slave) ? ttyname(slave) : "";
        const int device = open_raw_tty(meter_pty);
        if (device < 0 || slave_path.empty()) {
            error = "cannot open " + meter_pty;
            close(master);
            close(slave);
            if (device >= 0) close(device);
            return nullptr;
        }
        std::unique_ptr<MeterTap> tap(new MeterTap(master, slave, device, slave_path));
        tap->thread_ = std::thread([p = tap.get()] { p->relay(); });
        return tap;
    }
    ~MeterTap() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        close(master_);
        close(slave_);
        close(device_);
    }
    const std::string& path() const { return slave_path_; }
    bool realtime_priority() const { return fifo_; }
    std::vector<Steady::time_point> reads() {
        std::lock_guard lock(mutex_);
        return reads_;
    }

private:
    MeterTap(int master, int slave, int device, std::string path)
        : master_(master), slave_(slave), device_(device), slave_path_(std::move(path)) {}
    void relay() {
        // A real-time priority for the tap alone (root or CAP_SYS_NICE), so its timestamps stay
        // true on a loaded machine; the engine keeps its ordinary priority.
        sched_param sp{};
        sp.sched_priority = 60;  // above the engine's --rt-priority 50 in item 5
        fifo_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
        char buf[512];
        Steady::time_point last{};
        while (!stop_) {
            pollfd p[2] = {{master_, POLLIN, 0}, {device_, POLLIN, 0}};
            if (poll(p, 2, 50) <= 0) continue;
            const auto now = Steady::now();
            if (p[0].revents & POLLIN) {
                const ssize_t n = read(master_, buf, sizeof buf);
                if (n > 0) {
                    // A new block read: function 4 at the start of a chunk, after a quiet gap.
                    if (n >= 2 && buf[1] == 0x04 && now - last > std::chrono::milliseconds(20)) {
                        std::lock_guard lock(mutex_);
                        reads_.push_back(now);
                        last = now;
                    }
                    (void)!write(device_, buf, static_cast<std::size_t>(n));
                }
            }
            if (p[1].revents & POLLIN) {
                const ssize_t n = read(device_, buf, sizeof buf);
                if (n > 0) (void)!write(master_, buf, static_cast<std::size_t>(n));
            }
        }
    }
    int master_, slave_, device_;
    std::string slave_path_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> fifo_{false};
    std::mutex mutex_;
    std::vector<Steady::time_point> reads_;
    std::thread thread_;
};

struct Spread {
    std::size_t n = 0;
    double median = NAN, p99 = NAN, max = NAN;
};
Spread spread(const std::vector<double>& periods_ms) {
    Spread s;
    std::vector<double> dev;
    for (double p : periods_ms) dev.push_back(std::fabs(p - 100.0));
    s.n = dev.size();
    s.median = percentile(dev, 0.5);
    s.p99 = percentile(dev, 0.99);
    s.max = dev.empty() ? NAN : *std::max_element(dev.begin(), dev.end());
    return s;
}

// The run engine itself (run_scenario) sampling every 100 ms for the whole wait, against a
// simulator running in real time (speed 1) and started as a separate bench, so that the
// meter link can pass through the tap above. Periods are taken twice: from the tap (us) and
// from the recorded samples' bench times (1 ms, the record's resolution).
void jitter_once(const Config& cfg, int priority, std::vector<Row>& rows) {
    const std::string item = "5 real-time sampling at 10 Hz, " + std::to_string(cfg.jitter_seconds) + " s, " +
                             (priority > 0 ? "--rt-priority " + std::to_string(priority) : std::string("normal priority"));
    nlohmann::json j = {{"name", "jitter-10hz"},
                        {"pump_profile", "itb-40"},
                        {"settings", {{"sample_period", "100 ms"}, {"status_period", "10 s"}}},
                        {"steps", {{{"do", "wait"}, {"for", std::to_string(cfg.jitter_seconds) + " s"}}}}};
    auto sc = scenario_from_json(j, cfg, "jitter scenario");
    auto rig = sim_rig(cfg);
    if (!sc || !rig) {
        rows.push_back({item, "setup", "n/a", "", "", "", !sc ? sc.error().message : rig.error().message});
        return;
    }
    auto sim = bench::SimProcess::start(cfg.sim_binary, {"--time", "realtime", "--speed", "1", "--seed", "1"});
    if (!sim) {
        rows.push_back({item, "simulator", "n/a", "", "", "", sim.error().describe()});
        return;
    }
    std::string error;
    auto tap = MeterTap::open(sim->ready().at("meter"), error);
    if (!tap) {
        rows.push_back({item, "meter tap", "n/a", "", "", "", error});
        return;
    }
    // The simulated bench's links, as a separately started bench (rig/separate-sim.example.json).
    rig->simulator.enabled = false;
    rig->time_scale = 1.0;
    rig->pump.backend = bench::PumpLinkConfig::Backend::Termios;
    rig->pump.device = sim->ready().at("pump");
    rig->meter.kind = bench::MeterLinkConfig::Kind::Rtu;
    rig->meter.device = tap->path();
    rig->meter.parity = 'N';
    bench::BenchOptions bo;
    bo.seed = 1;
    auto b = bench::Bench::open(*rig, bo);
    if (!b) {
        rows.push_back({item, "bench", "n/a", "", "", "", b.error().describe()});
        return;
    }
    run::RunOptions ro;
    ro.out_root = cfg.work_dir / "jitter";
    ro.seed = 1;
    ro.realtime_priority = priority;
    bool engine_fifo = false;
    if (priority > 0) engine_fifo = RealtimePriority(priority).active();  // can this process have it?
    const auto start = Steady::now();
    const auto r = run::run_scenario(**b, *sc, ro);
    const auto end = Steady::now();
    b->reset();
    auto reads = tap->reads();
    const bool tap_fifo = tap->realtime_priority();
    tap.reset();
    sim->stop();

    // Tap: the block reads made while the scenario ran (the engine's first sample included).
    std::vector<double> tap_periods;
    std::optional<Steady::time_point> prev;
    for (const auto& t : reads) {
        if (t < start || t > end) continue;
        if (prev) tap_periods.push_back(std::chrono::duration<double, std::milli>(t - *prev).count());
        prev = t;
    }
    if (std::getenv("PUMPRIG_BENCH_DEBUG")) {
        for (std::size_t i = 0; i < tap_periods.size(); ++i)
            if (std::fabs(tap_periods[i] - 100.0) > 0.5) std::fprintf(stderr, "period %zu: %.3f ms\n", i, tap_periods[i]);
    }
    std::vector<double> record_periods;
    if (auto samples = record::read_samples_csv(r.dir / "samples.csv")) {
        for (std::size_t i = 1; i < samples->items.size(); ++i)
            record_periods.push_back(static_cast<double>((samples->items[i].t - samples->items[i - 1].t).count()));
    }
    const std::string limits = std::string(priority == 0 ? "engine at normal priority: the scheduler of 2 cores shared with other work; "
                                                      : engine_fifo ? "engine's sampling thread at SCHED_FIFO; "
                                                                    : "SCHED_FIFO refused (not root): engine at normal priority; ") +
                               "the meter read by a thread of its own (run/sampler.hpp): a condition variable, then clock_nanosleep to the absolute instant";
    for (const auto& [what, periods, note] :
         {std::tuple{std::string("run engine, abs(period - 100 ms), sampling instants from a meter-link tap (us)"), tap_periods,
                     std::string(tap_fifo ? "tap thread at SCHED_FIFO 60; " : "tap thread at normal priority (no SCHED_FIFO): its wake-up latency is in the figure; ") + limits},
          std::tuple{std::string("the same run, from the record's sample times (1 ms resolution)"), record_periods,
                     std::string("whole-ms timestamps: a period reads up to 1 ms off")}}) {
        const Spread s = spread(periods);
        if (s.n < 2) {
            rows.push_back({item, what, "n/a (too few periods)", "", "", "", note});
            continue;
        }
        rows.push_back({item, what + ", " + std::to_string(s.n) + " periods",
                        fmt("median %.2f ms", s.median) + fmt(", p99 %.2f ms", s.p99) + fmt(", max %.2f ms", s.max), "",
                        "p99 < 2 ms", s.p99 < 2.0 ? "met" : "MISSED", note});
    }
}

void jitter(const Config& cfg, std::vector<Row>& rows) {
    // Normal priority first (what a run gets by default), then what --rt-priority buys.
    jitter_once(cfg, 0, rows);
    jitter_once(cfg, 50, rows);
}

// ------------------------------------------------------ 6. a full bench: 8 channels in real time

// Eight channels at once, as a full multi-channel bench runs: one simulator serving eight pumps
// and meters in real time, eight engines (one thread each, as `pumprig run` on a bench of
// several channels), each channel's meter link through its own tap. Per channel: the sampling
// period's spread, and the CPU time its engine thread used per hour of bench time.
void eight_channels_once(const Config& cfg, int priority, std::vector<Row>& rows) {
    constexpr int kChannels = 8;
    const std::string item = "6 eight channels at 10 Hz in real time, " + std::to_string(cfg.jitter_seconds) + " s, " +
                             (priority > 0 ? "--rt-priority " + std::to_string(priority) : std::string("normal priority"));
    nlohmann::json j = {{"name", "eight-channels-10hz"},
                        {"pump_profile", "itb-40"},
                        {"settings", {{"sample_period", "100 ms"}, {"status_period", "10 s"}}},
                        {"steps", {{{"do", "wait"}, {"for", std::to_string(cfg.jitter_seconds) + " s"}}}}};
    auto sc = scenario_from_json(j, cfg, "eight-channel scenario");
    auto rig = sim_rig(cfg);
    if (!sc || !rig) {
        rows.push_back({item, "setup", "n/a", "", "", "", !sc ? sc.error().message : rig.error().message});
        return;
    }
    auto sim = bench::SimProcess::start(cfg.sim_binary, {"--time", "realtime", "--speed", "1", "--seed", "1", "--channels",
                                                         std::to_string(kChannels)});
    if (!sim) {
        rows.push_back({item, "simulator", "n/a", "", "", "", sim.error().describe()});
        return;
    }
    std::vector<std::unique_ptr<MeterTap>> taps;
    std::vector<std::unique_ptr<bench::Bench>> benches;
    for (int k = 1; k <= kChannels; ++k) {
        const auto pump = sim->ready().find("pump." + std::to_string(k));
        const auto meter = sim->ready().find("meter." + std::to_string(k));
        if (pump == sim->ready().end() || meter == sim->ready().end()) {
            rows.push_back({item, "simulator", "n/a", "", "", "", "READY line lacks pump." + std::to_string(k) + "/meter." + std::to_string(k)});
            return;
        }
        std::string error;
        auto tap = MeterTap::open(meter->second, error);
        if (!tap) {
            rows.push_back({item, "meter tap", "n/a", "", "", "", error});
            return;
        }
        auto channel = *rig;
        channel.simulator.enabled = false;
        channel.time_scale = 1.0;
        channel.pump.backend = bench::PumpLinkConfig::Backend::Termios;
        channel.pump.device = pump->second;
        channel.meter.kind = bench::MeterLinkConfig::Kind::Rtu;
        channel.meter.device = tap->path();
        channel.meter.parity = 'N';
        bench::BenchOptions bo;
        bo.seed = static_cast<std::uint64_t>(k);
        auto b = bench::Bench::open(channel, bo);
        if (!b) {
            rows.push_back({item, "bench", "n/a", "", "", "", "channel " + std::to_string(k) + ": " + b.error().describe()});
            return;
        }
        taps.push_back(std::move(tap));
        benches.push_back(std::move(*b));
    }
    struct ChannelFigures {
        run::RunResult result;
        double cpu_s = 0;
        Steady::time_point start, end;
    };
    std::vector<ChannelFigures> figures(kChannels);
    std::vector<std::thread> threads;
    for (int k = 0; k < kChannels; ++k)
        threads.emplace_back([&, k] {
            run::RunOptions ro;
            ro.out_root = cfg.work_dir / ("eight-" + std::to_string(k + 1));
            ro.seed = static_cast<std::uint64_t>(k + 1);
            ro.realtime_priority = priority;
            timespec c0{}, c1{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
            figures[k].start = Steady::now();
            figures[k].result = run::run_scenario(*benches[k], *sc, ro);
            figures[k].end = Steady::now();
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
            // The engine thread and the meter's own sampling thread (run/sampler.hpp).
            figures[k].cpu_s = static_cast<double>(c1.tv_sec - c0.tv_sec) + 1e-9 * static_cast<double>(c1.tv_nsec - c0.tv_nsec) +
                               figures[k].result.sampler_cpu_s;
        });
    for (auto& t : threads) t.join();
    benches.clear();
    std::vector<std::vector<Steady::time_point>> reads;
    bool all_fifo = true;
    for (auto& tap : taps) {
        reads.push_back(tap->reads());
        all_fifo &= tap->realtime_priority();
    }
    taps.clear();
    sim->stop();

    double worst_p99 = 0, cpu_sum = 0;
    int met = 0;
    std::string per_channel;
    for (int k = 0; k < kChannels; ++k) {
        std::vector<double> periods;
        std::optional<Steady::time_point> prev;
        for (const auto& t : reads[static_cast<std::size_t>(k)]) {
            if (t < figures[k].start || t > figures[k].end) continue;
            if (prev) periods.push_back(std::chrono::duration<double, std::milli>(t - *prev).count());
            prev = t;
        }
        const Spread s = spread(periods);
        worst_p99 = std::max(worst_p99, std::isnan(s.p99) ? INFINITY : s.p99);
        met += s.n >= 2 && s.p99 < 2.0 ? 1 : 0;
        const double bench_h = std::chrono::duration<double, std::ratio<3600>>(figures[k].end - figures[k].start).count();
        cpu_sum += bench_h > 0 ? figures[k].cpu_s / bench_h : 0;
        per_channel += (k ? ", " : "") + fmt("%.2f", s.p99);
    }
    const std::string note = std::string(all_fifo ? "tap threads at SCHED_FIFO 60; " : "tap threads at normal priority; ") +
                             "one simulator serving 8 channels in real time, 8 engine threads and 8 taps on 2 cores";
    rows.push_back({item, "p99 of abs(period - 100 ms) per channel (ms): " + per_channel, fmt("worst p99 %.2f ms", worst_p99), "",
                    "p99 < 2 ms on every channel", met == kChannels ? std::string("met") : "MISSED (" + std::to_string(met) + " of 8 met)", note});
    rows.push_back({item, "CPU time of one channel's engine and sampling threads per channel-hour (mean of 8)", fmt("%.1f s per channel-hour", cpu_sum / kChannels),
                    fmt("%.4f of one core", cpu_sum / kChannels / 3600.0), "", "", "CLOCK_THREAD_CPUTIME_ID around run_scenario, plus the sampling thread's own"});
}

void eight_channels(const Config& cfg, std::vector<Row>& rows) {
    eight_channels_once(cfg, 0, rows);
    eight_channels_once(cfg, 50, rows);
}

// ----------------------------------------------------------------- 7. the library in parallel

// Wall seconds of `pumprig run --quiet --jobs N` over `paths`, and its summary's last line; a
// negative time when it did not end with 0 or 1 (a failed check is still a timed run).
std::pair<double, std::string> timed_library_run(const Config& cfg, int jobs, const std::vector<std::string>& paths) {
    std::vector<std::string> argv{cfg.pumprig_binary, "run", "--quiet", "--sim-binary", cfg.sim_binary, "--jobs", std::to_string(jobs),
                                  "--out", (cfg.work_dir / ("library-jobs" + std::to_string(jobs))).string()};
    argv.insert(argv.end(), paths.begin(), paths.end());
    std::string error;
    const auto t0 = Steady::now();
    auto child = benchmark::ChildProcess::start(argv, error);
    if (!child) return {-1, error};
    std::string out;
    const int status = child->finish(std::chrono::minutes(30), &out);
    const double wall = seconds_since(t0);
    const auto last = out.find_last_of('\n', out.size() >= 2 ? out.size() - 2 : 0);
    const std::string summary = out.substr(last == std::string::npos ? 0 : last + 1);
    if (status != 0 && status != 1) return {-1, "exit " + std::to_string(status) + ": " + summary};
    return {wall, summary.substr(0, summary.find('\n'))};
}

void library_in_parallel(const Config& cfg, std::vector<Row>& rows) {
    std::string item = "7 the main job's library (scenarios/ on rig/sim.json), wall time";
    std::vector<std::string> paths{cfg.source_dir + "/scenarios"};
    if (cfg.quick) {
        item = "7 four short scenarios (--quick), wall time";
        paths.clear();
        for (const char* s : {"continuous", "range-refusals", "stop-start", "patient-bolus"})
            paths.push_back(cfg.source_dir + "/scenarios/functions/" + s + ".json");
    }
    const auto [sequential, seq_summary] = timed_library_run(cfg, 1, paths);
    const auto [parallel, par_summary] = timed_library_run(cfg, 2, paths);
    if (sequential <= 0 || parallel <= 0) {
        rows.push_back({item, "pumprig run", "n/a", "", "", "", sequential <= 0 ? seq_summary : par_summary});
        return;
    }
    const double speedup = sequential / parallel;
    const std::string limit = std::string("two cores shared by pumprig, a simulator per job and the machine's other work; ") +
                              (cfg.quick ? "a simulator's start-up per scenario" : "the longest scenario (accuracy-24h) alone is a floor");
    rows.push_back({item, "pumprig run --jobs 1 (reference): " + seq_summary, fmt("%.1f s", sequential), "1.00", "", "", limit});
    // The target is the library's; four short scenarios (--quick) are mostly simulator start-up.
    const std::string target = cfg.quick ? "" : ">= 1.7x faster than --jobs 1";
    const std::string verdict = cfg.quick ? "" : speedup >= 1.7 ? "met" : "MISSED";
    rows.push_back({item, "pumprig run --jobs 2: " + par_summary, fmt("%.1f s", parallel), fmt("%.2fx faster", speedup), target, verdict, limit});
}

// ---------------------------------------------------------------------------------- table

void print_table(std::FILE* out, const std::vector<Row>& rows) {
    std::fprintf(out, "| item | measured | figure | ratio to reference | target | target met | limited by |\n");
    std::fprintf(out, "|---|---|---|---|---|---|---|\n");
    for (const auto& r : rows)
        std::fprintf(out, "| %s | %s | %s | %s | %s | %s | %s |\n", r.item.c_str(), r.what.c_str(), r.value.c_str(), r.ratio.c_str(),
                     r.target.c_str(), r.verdict.c_str(), r.note.c_str());
}

// The 1-minute load average: the other work on this shared machine, for reading the figures.
std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    in >> one;
    return one.empty() ? "unknown" : one;
}

std::string default_sim_binary() {
    if (const char* env = std::getenv("PUMPRIG_SIM_BINARY"); env && *env) return env;
#ifdef PUMPRIG_BENCH_SIM_BINARY
    return PUMPRIG_BENCH_SIM_BINARY;
#else
    return bench::default_sim_binary().string();
#endif
}

std::string default_pumprig_binary() {
    if (const char* env = std::getenv("PUMPRIG_BINARY"); env && *env) return env;
#ifdef PUMPRIG_BENCH_PUMPRIG_BINARY
    return PUMPRIG_BENCH_PUMPRIG_BINARY;
#else
    return (fs::path(default_sim_binary()).parent_path() / "pumprig").string();
#endif
}

}  // namespace

int main(int argc, char** argv) {
    Config cfg;
    bool quick = false, analysis_only_child = false, keep = false;
    int analysis_days = 0;
    std::string only, markdown;
    po::options_description desc(
        "pumprig-bench: pumprig's sampling, pump link, replay, analysis and real-time figures against baselines "
        "measured in the same run, on the simulated bench\nOptions");
    desc.add_options()("help,h", "show this help")("quick", po::bool_switch(&quick), "a few hundred iterations per item (~10 s in all)")(
        "only", po::value(&only), "run only these items, e.g. 1,3 (default all: 1 meter, 2 pump, 3 replay, 4 analysis, 5 jitter, 6 eight channels, 7 library in parallel)")(
        "sim", po::value(&cfg.sim_binary), "pumprig-sim to use (default: $PUMPRIG_SIM_BINARY, else the one built with this program)")(
        "pumprig", po::value(&cfg.pumprig_binary), "pumprig to run for item 7 (default: $PUMPRIG_BINARY, else the one built with this program)")(
        "python", po::value(&cfg.python), "python3 with pymodbus (default /usr/bin/python3)")(
        "source-dir", po::value(&cfg.source_dir), "pumprig source tree (fixtures, rig, scenarios)")(
        "markdown", po::value(&markdown), "also write the table to this file")(
        "keep", po::bool_switch(&keep), "keep the temporary run folders")(
        "analysis-child", po::bool_switch(&analysis_only_child), "(internal) run the analysis item in this process")(
        "analysis-days", po::value(&analysis_days), "(internal) days of samples for --analysis-child");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "pumprig-bench: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << desc << "\n";
        return 0;
    }
    if (analysis_only_child) return analysis_child(cfg, analysis_days > 0 ? analysis_days : 7);
    if (quick) cfg = quick_config(cfg);
    if (cfg.sim_binary.empty()) cfg.sim_binary = default_sim_binary();
    if (cfg.pumprig_binary.empty()) cfg.pumprig_binary = default_pumprig_binary();
    if (!fs::exists(cfg.sim_binary)) {
        std::cerr << "pumprig-bench: the simulator " << cfg.sim_binary << " does not exist (give --sim)\n";
        return 2;
    }
    char tmpl[] = "/tmp/pumprig-bench-XXXXXX";
    if (!mkdtemp(tmpl)) {
        std::cerr << "pumprig-bench: cannot create a temporary folder\n";
        return 2;
    }
    cfg.work_dir = tmpl;
    auto want = [&](char item) { return only.empty() || only.find(item) != std::string::npos; };
    const std::string self = fs::read_symlink("/proc/self/exe").string();

    std::vector<Row> rows;
    const std::string load_before = load_average();
    const auto t0 = Steady::now();
    struct Item { char id; const char* name; std::function<void()> run; };
    const std::vector<Item> items{
        {'1', "meter sampling", [&] { meter_sampling(cfg, rows); }},
        {'2', "pump round trips", [&] { pump_round_trips(cfg, rows); }},
        {'3', "virtual-time replay", [&] { replay(cfg, rows); }},
        {'4', "analysis", [&] { analysis(cfg, self, rows); }},
        {'5', "real-time jitter", [&] { jitter(cfg, rows); }},
        {'6', "eight channels in real time", [&] { eight_channels(cfg, rows); }},
        {'7', "the library in parallel", [&] { library_in_parallel(cfg, rows); }},
    };
    for (const auto& it : items) {
        if (!want(it.id)) continue;
        std::fprintf(stderr, "item %c: %s\n", it.id, it.name);
        it.run();
    }
    const double total = seconds_since(t0);

    const std::string heading = std::string("pumprig-bench") + (cfg.quick ? " --quick" : "") + ": " + std::to_string(rows.size()) +
                                " rows in " + fmt("%.1f", total) + " s wall, " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) +
                                " cores, load average " + load_before + " before, " + load_average() + " after";
    std::printf("\n%s\n\n", heading.c_str());
    print_table(stdout, rows);
    if (!markdown.empty()) {
        if (std::FILE* f = std::fopen(markdown.c_str(), "w")) {
            std::fprintf(f, "%s\n\n", heading.c_str());
            print_table(f, rows);
            std::fclose(f);
        } else {
            std::cerr << "pumprig-bench: cannot write " << markdown << "\n";
        }
    }
    if (!keep) {
        std::error_code ec;
        fs::remove_all(cfg.work_dir, ec);
    } else {
        std::fprintf(stderr, "run folders kept in %s\n", cfg.work_dir.c_str());
    }
    // A row without a figure means a part of the benchmark could not run.
    const bool complete = std::none_of(rows.begin(), rows.end(), [](const Row& r) { return r.value.rfind("n/a", 0) == 0; });
    return complete ? 0 : 1;
}
