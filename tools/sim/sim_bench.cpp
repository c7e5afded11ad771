#include "sim_bench.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "meter/profile.hpp"
#include "meter/sim/fluid_line.hpp"
#include "meter/sim/lf2000_model.hpp"
#include "meter/sim/meter_server.hpp"
#include "pump/sim/pump_model.hpp"

namespace pumprig::sim {

namespace {
constexpr Millis kMeasurementPeriod{100};  // LF-2000: 10 measurements a second
}

// ---------------------------------------------------------------------------------------------
// SimChannel

SimChannel::SimChannel(int number, const SimOptions& bench, const ChannelOptions& options, const BenchTime& now)
    : number_(number),
      bench_(bench),
      opt_(options),
      now_(now),
      faults_(bench.link_faults, options.seed),
      defer_slow_answers_(bench.channels.size() > 1) {
    unit_ = bench::draw_unit(options.seed, options.pump_serial, options.unit_pins, bench.ideal, bench.line_tau_uncertainty_pct);
    latency_rng_.seed(options.seed * 0xD1B54A32D192ED03ULL + 7);
    pump_pty_ = open_pty();
    meter_pty_ = open_pty();
    pump_path_ = pump_pty_.slave_path;
    for (const auto& [at, what] : opt_.scheduled_faults) due_faults_.emplace_back(now_ + at, what);
    const bool link_may_go = std::any_of(due_faults_.begin(), due_faults_.end(),
                                         [](const auto& f) { return f.second.starts_with("pump_link_down"); });
    if (link_may_go) {
        // A pseudo-terminal that closes is gone for good; its successor gets another number.
        // Publish a symbolic link that is pointed at each new one, as udev's by-id names are.
        char tmpl[] = "/tmp/pumprig-sim-XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("cannot create a folder for the pump link name");
        link_dir_ = tmpl;
        pump_path_ = (link_dir_ / "pump").string();
        std::filesystem::create_symlink(pump_pty_.slave_path, pump_path_);
    }

    pump::sim::PumpModelConfig pc;
    pc.model = bench_.pump_model;
    pc.serial = opt_.pump_serial;
    pc.seed = opt_.seed;
    pc.initial_batt_pct = bench_.battery_pct;
    pc.defects = pump::sim::PumpDefects::from_names(opt_.defects);
    using P = bench::UnitParam;
    pc.stroke_volume_error = unit_[P::DeliveryErrorPct] / 100.0;
    pc.stroke_jitter_ms = static_cast<std::int64_t>(unit_[P::StrokeJitterMs]);
    pc.clock_ppm = unit_[P::ClockPpm];
    pc.reset_duration_ms = static_cast<std::int64_t>(unit_[P::ResetDurationMs]);
    pump_ = std::make_unique<pump::sim::PumpModel>(pc, now_);
    if (bench_.variant) variant_ = std::make_unique<VariantLink>(opt_.seed);

    // The real line's constant, off the rig's nominal one by this unit's error.
    line_ = std::make_unique<meter::sim::FluidLine>(
        Millis{std::llround(bench_.line_tau_s * 1000.0 * (1.0 + unit_[P::LineTauErrorPct] / 100.0))});

    auto profile = meter::load_meter_profile(bench_.meter_profile);
    if (!profile) throw std::runtime_error(profile.error().describe());
    meter::sim::Lf2000Options mo;
    mo.serial = opt_.meter_serial;
    // A different stream from the pump's: the same seed must not correlate the two models.
    mo.seed = opt_.seed * 0x9E3779B97F4A7C15ULL + 1;
    mo.gain_error = unit_[P::MeterGainErrorPct] / 100.0;
    mo.offset_ul_h = unit_[P::MeterOffsetUlH];
    mo.total_noise = unit_.meter_total_noise;
    meter_ = std::make_unique<meter::sim::Lf2000Model>(std::move(*profile), mo);
    meter_server_ = std::make_unique<meter::sim::MeterServer>(*meter_, bench_.meter_unit_id);
    if (opt_.meter_zero_drift_per_h != 0) meter_->set_zero_drift(FlowRate{opt_.meter_zero_drift_per_h});
    if (opt_.meter_air_burst > 0) next_air_burst_ = now_ + Millis{600'000};
    if (opt_.meter_freeze_at_s >= 0)
        due_faults_.emplace_back(now_ + Millis{static_cast<long long>(opt_.meter_freeze_at_s * 1000.0)}, "freeze");
    int server_fd = meter_pty_.master;
    if (bench_.link_faults.corrupt_rate > 0) {
        // Corrupting the meter's bytes needs a hop we control: the server talks to an inner
        // pseudo-terminal, and relay_meter() carries bytes between it and the host's one.
        meter_inner_ = open_pty();
        server_fd = meter_inner_.master;
    }
    if (auto r = meter_server_->serve_rtu(server_fd); !r) throw std::runtime_error(r.error().describe());
    // A request is answered from the models as the controller last moved them; a silent meter
    // drops what comes on its own link (through the relay, relay_meter() drops it).
    meter_server_->set_before_answer([this](int fd) {
        before_request_();
        return fd != meter_pty_.master || now_ >= meter_silent_until_;
    });
    if (opt_.meter_tcp_port >= 0) {
        auto port = meter_server_->serve_tcp(opt_.meter_tcp_port);
        if (!port) throw std::runtime_error("channel " + std::to_string(number_) + ": " + port.error().describe());
    }
}

SimChannel::~SimChannel() {
    meter_server_.reset();
    close_pty(pump_pty_);
    close_pty(meter_pty_);
    close_pty(meter_inner_);
    if (!link_dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(link_dir_, ec);
    }
}

std::string SimChannel::meter_tcp() const {
    return meter_server_->tcp_port() > 0 ? "127.0.0.1:" + std::to_string(meter_server_->tcp_port()) : "-";
}

void SimChannel::run_due_faults() {
    while (!due_faults_.empty()) {
        auto it = std::min_element(due_faults_.begin(), due_faults_.end());
        if (it->first > now_) return;
        const std::string what = it->second;
        due_faults_.erase(it);
        std::istringstream in(what);
        std::string name;
        in >> name;
        (void)fault(name, in);
    }
}

void SimChannel::pump_link_down(Millis wall) {
    if (pump_down_) return;
    close_pty(pump_pty_);  // the host sees a hang-up, as when an adapter is unplugged
    pump_pending_.clear();
    held_.clear();
    holding_ = false;
    pump_down_ = true;
    pump_up_at_ = std::chrono::steady_clock::now() + wall;
}

void SimChannel::pump_link_up() {
    pump_pty_ = open_pty();
    std::filesystem::path tmp = pump_path_ + ".new";
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    std::filesystem::create_symlink(pump_pty_.slave_path, tmp);
    std::filesystem::rename(tmp, pump_path_);  // atomic: the name always points somewhere
    pump_down_ = false;
}

void SimChannel::relay_meter() {
    char buf[512];
    // Host -> meter, corrupted; dropped while the meter is silent.
    for (ssize_t n; (n = read(meter_pty_.master, buf, sizeof buf)) > 0;) {
        before_request_();
        if (now_ < meter_silent_until_) continue;
        const auto bytes = faults_.corrupt(std::string_view(buf, static_cast<std::size_t>(n)));
        [[maybe_unused]] auto w = write(meter_inner_.slave_keepalive, bytes.data(), bytes.size());
    }
    // Meter -> host, corrupted.
    for (ssize_t n; (n = read(meter_inner_.slave_keepalive, buf, sizeof buf)) > 0;) {
        const auto bytes = faults_.corrupt(std::string_view(buf, static_cast<std::size_t>(n)));
        [[maybe_unused]] auto w = write(meter_pty_.master, bytes.data(), bytes.size());
    }
}

void SimChannel::measure(Millis period) {
    // The pump's strokes enter the line, the line's outflow passes the meter. Order matters
    // only within 100 ms, below what the meter resolves.
    Volume out = std::exchange(lead_volume_, Volume{});
    if (period.count() > lead_ms_) {
        out += pump_->advance(Millis{period.count() - lead_ms_});
        lead_ms_ = 0;
    } else {
        lead_ms_ -= period.count();
    }
    line_->push(out);
    meter_->measure(line_->advance(period));
}

long long SimChannel::draw_ms(double max_ms) {
    if (max_ms <= 0) return 0;
    return std::uniform_int_distribution<long long>(0, std::llround(max_ms))(latency_rng_);
}

void SimChannel::act_late() {
    // In virtual time a request meets the bench clock standing still; a real pump takes up to
    // 100 ms (ICD section 1) to act on it. The model goes ahead by that much before it reads
    // the request, and the bench clock catches up at the next measurements.
    const long long late = draw_ms(unit_[bench::UnitParam::AnswerLatencyMs]);
    if (late <= lead_ms_) return;
    lead_volume_ += pump_->advance(Millis{late - lead_ms_});
    lead_ms_ = late;
}

std::string SimChannel::take_pump_output() {
    std::string out = pump_->take_output();
    const double max_ms = unit_[bench::UnitParam::EventLatencyMs];
    if (max_ms <= 0 && held_events_.empty()) return out;
    // Event lines wait up to event_latency_ms of bench time, in order; responses go at once
    // (the ICD lets an event arrive between any two lines).
    std::string pass;
    for (std::size_t pos = 0; pos < out.size();) {
        const auto nl = out.find('\n', pos);
        const std::size_t end = nl == std::string::npos ? out.size() : nl + 1;
        std::string line = out.substr(pos, end - pos);
        pos = end;
        if (line.starts_with("$EV,")) {
            held_events_.push_back({now_ + Millis{draw_ms(max_ms)}, std::move(line)});
        } else {
            pass += line;
        }
    }
    while (!held_events_.empty() && held_events_.front().at <= now_) {
        pass += held_events_.front().line;
        held_events_.pop_front();
    }
    return pass;
}

void SimChannel::after_step() {
    if (opt_.meter_air_burst > 0 && now_ >= next_air_burst_) {
        meter_->inject_air(opt_.meter_air_burst);
        next_air_burst_ += Millis{600'000};
    }
    run_due_faults();
}

void SimChannel::flush_pump() {
    if (pump_down_) {
        (void)take_pump_output();  // nobody is connected: the bytes are lost
        return;
    }
    if (faults_.active()) {
        std::string out = variant_ ? variant_->to_host(take_pump_output()).bytes : take_pump_output();
        out = faults_.pump_output(out) + faults_.due(std::chrono::steady_clock::now());
        pump_pending_ += faults_.corrupt(out);
        flush_pending();
        return;
    }
    if (variant_ && defer_slow_answers_) {
        auto out = variant_->to_host(take_pump_output());
        const auto wall = std::chrono::steady_clock::now();
        if (holding_ && wall >= held_until_) {
            pump_pending_ += held_;
            held_.clear();
            holding_ = false;
        }
        if (holding_) {
            held_ += out.bytes;  // behind the slow answer: the order stays
        } else if (out.delay_ms > 0) {
            // A slow answer: the pump takes its time (within the ICD's 100 ms).
            holding_ = true;
            held_until_ = wall + std::chrono::milliseconds(out.delay_ms);
            held_ = out.bytes;
        } else {
            pump_pending_ += out.bytes;
        }
        flush_pending();
        return;
    }
    if (variant_) {
        auto out = variant_->to_host(take_pump_output());
        if (out.delay_ms > 0) {
            // A slow answer: the pump takes its time (within the ICD's 100 ms).
            flush_pending();
            poll(nullptr, 0, out.delay_ms);
        }
        pump_pending_ += out.bytes;
    } else {
        pump_pending_ += take_pump_output();
    }
    flush_pending();
}

void SimChannel::flush_pending() {
    while (!pump_pending_.empty()) {
        const ssize_t n = write(pump_pty_.master, pump_pending_.data(), pump_pending_.size());
        if (n > 0) {
            pump_pending_.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;  // EAGAIN: the host is not reading; keep the rest for later
    }
    // A host that never reads must not make the simulator grow without bound: a real pump's
    // transmit buffer is small too. Keep the newest 64 KiB.
    constexpr std::size_t kMaxPending = 64 * 1024;
    if (pump_pending_.size() > kMaxPending) pump_pending_.erase(0, pump_pending_.size() - kMaxPending);
}

void SimChannel::pump_io(bool readable) {
    if (readable) {
        char buf[4096];
        while (true) {
            const ssize_t n = read(pump_pty_.master, buf, sizeof buf);
            if (n > 0) {
                before_request_();
                if (pump_down_) return;  // a scheduled outage began first: the bytes went with the link
                const std::string corrupted = faults_.corrupt(std::string_view(buf, static_cast<std::size_t>(n)));
                const std::string_view bytes(corrupted);
                if (variant_) {
                    auto in = variant_->from_host(bytes);
                    (holding_ ? held_ : pump_pending_) += in.reply;
                    if (in.to_model.find('\n') != std::string::npos) act_late();
                    pump_->receive(in.to_model);
                } else {
                    if (bytes.find('\n') != std::string_view::npos) act_late();
                    pump_->receive(bytes);
                }
                continue;
            }
            break;
        }
    }
    flush_pump();
}

std::string SimChannel::fault(const std::string& name, std::istream& in) {
    if (name == "motor_stall") {
        pump_->inject_motor_stall();
        return "OK";
    }
    if (name == "battery") {
        double pct = -1;
        in >> pct;
        if (pct < 0 || pct > 100) return "ERR FAULT battery takes a percentage 0 to 100";
        pump_->set_battery_pct(pct);
        return "OK";
    }
    if (name == "air") {
        int n = 0;
        in >> n;
        if (n <= 0) return "ERR FAULT air takes a number of measurements above 0";
        meter_->inject_air(n);
        return "OK";
    }
    if (name == "pump_reset") {
        pump_->inject_watchdog_reset();
        return "OK";
    }
    if (name == "pump_link_down") {
        long long ms = 0;
        in >> ms;
        if (ms <= 0) return "ERR FAULT pump_link_down takes the outage in wall milliseconds";
        if (link_dir_.empty()) return "ERR FAULT pump_link_down needs the simulator started with a scheduled link fault (stable link name)";
        pump_link_down(Millis{ms});
        return "OK";
    }
    if (name == "meter_silent") {
        long long ms = 0;
        in >> ms;
        if (ms <= 0) return "ERR FAULT meter_silent takes a bench duration in milliseconds";
        meter_silent_until_ = now_ + Millis{ms};
        return "OK";
    }
    if (name == "freeze") {
        meter_->set_frozen(true);
        return "OK";
    }
    if (name == "unfreeze") {
        meter_->set_frozen(false);
        return "OK";
    }
    return "ERR unknown fault '" + name +
           "' (motor_stall, battery PCT, air N, freeze, unfreeze, pump_reset, pump_link_down MS, meter_silent MS)";
}

SimChannel::PollSlots SimChannel::add_poll_fds(std::vector<pollfd>& fds) const {
    PollSlots s;
    // A negative descriptor is skipped by poll(): the pump link while it is down.
    s.pump = fds.size();
    fds.push_back({pump_down_ ? -1 : pump_pty_.master, static_cast<short>(POLLIN | (pump_pending_.empty() ? 0 : POLLOUT)), 0});
    s.relaying = meter_inner_.master >= 0;
    if (s.relaying) {
        fds.push_back({meter_pty_.master, POLLIN, 0});
        fds.push_back({meter_inner_.slave_keepalive, POLLIN, 0});
    }
    s.first_server = fds.size();
    for (int fd : meter_server_->fds()) fds.push_back({fd, POLLIN, 0});
    s.end = fds.size();
    return s;
}

void SimChannel::on_poll(const std::vector<pollfd>& fds, const PollSlots& s) {
    if (!pump_down_) pump_io((fds[s.pump].revents & POLLIN) != 0);
    if (s.relaying) relay_meter();
    for (std::size_t i = s.first_server; i < s.end; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        meter_server_->on_readable(fds[i].fd);  // a silent meter drops the request (set_before_answer)
    }
    if (s.relaying) relay_meter();
}

long long SimChannel::wake_in_ms() const {
    long long ms = -1;
    auto at_most = [&ms](long long v) {
        v = std::max<long long>(0, v);
        ms = ms < 0 ? v : std::min(ms, v);
    };
    if (pump_down_)
        at_most(std::chrono::duration_cast<std::chrono::milliseconds>(pump_up_at_ - std::chrono::steady_clock::now()).count() + 1);
    if (faults_.holding()) at_most(20);
    if (holding_)
        at_most(std::chrono::duration_cast<std::chrono::milliseconds>(held_until_ - std::chrono::steady_clock::now()).count() + 1);
    return ms;
}

void SimChannel::after_poll() {
    if (pump_down_ && std::chrono::steady_clock::now() >= pump_up_at_) pump_link_up();
    flush_pump();
}

// ---------------------------------------------------------------------------------------------
// SimBench

SimBench::SimBench(const SimOptions& options) : opt_(options), now_(options.start) {
    if (opt_.channels.empty()) throw std::invalid_argument("a bench needs at least one channel");
    for (std::size_t k = 0; k < opt_.channels.size(); ++k) {
        channels_.push_back(std::make_unique<SimChannel>(static_cast<int>(k + 1), opt_, opt_.channels[k], now_));
        channels_.back()->set_before_request([this] { apply_control(); });
    }
}

SimBench::~SimBench() = default;

void SimBench::tick() {
    // One measurement period for every channel, in channel order, then the clock's step and
    // what falls due at the new time.
    for (auto& c : channels_) c->measure(kMeasurementPeriod);
    now_ += kMeasurementPeriod;
    for (auto& c : channels_) c->after_step();
}

void SimBench::flush_pumps() {
    for (auto& c : channels_) c->flush_pump();
}

void SimBench::advance(Millis dt) {
    carry_ += dt;
    while (carry_ >= kMeasurementPeriod) {
        tick();
        carry_ -= kMeasurementPeriod;
        // Keep the pumps' output moving during long advances, so that a full pseudo-terminal
        // buffer never blocks and events keep their order.
        flush_pumps();
    }
}

std::string SimBench::control(const std::string& line) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    auto clock_reply = [this] { return "OK clock_ms=" + std::to_string(now_.time_since_epoch().count()); };
    if (cmd == "ADVANCE") {
        long long ms = -1;
        in >> ms;
        if (opt_.realtime) return "ERR ADVANCE is for virtual time; this simulator runs in real time";
        if (ms < 0) return "ERR ADVANCE takes a number of milliseconds >= 0";
        advance(Millis{ms});
        return clock_reply();
    }
    if (cmd == "CLOCK") return clock_reply();
    if (cmd == "FAULT") {
        std::string name;
        in >> name;
        // FAULT [K@]NAME [ARGS]: channel K, channel 1 without a prefix.
        std::size_t k = 1;
        if (const auto at = name.find('@'); at != std::string::npos) {
            const std::string num = name.substr(0, at);
            const bool digits = !num.empty() && num.size() <= 3 &&
                                std::all_of(num.begin(), num.end(), [](unsigned char c) { return std::isdigit(c); });
            k = digits ? std::stoul(num) : 0;
            if (k < 1 || k > channels_.size())
                return "ERR FAULT channel '" + num + "' is not one of 1 to " + std::to_string(channels_.size());
            name.erase(0, at + 1);
        }
        return channels_[k - 1]->fault(name, in);
    }
    return "ERR unknown command '" + cmd + "' (ADVANCE MS, CLOCK, FAULT [K@]NAME, QUIT)";
}

std::string SimBench::ready_line() const {
    const SimChannel& first = *channels_.front();
    std::string s = "READY pump=" + first.pump_path() + " meter=" + first.meter_path() + " meter_tcp=" + first.meter_tcp() +
                    " clock_ms=" + std::to_string(now_.time_since_epoch().count()) + " mode=" +
                    (opt_.realtime ? "realtime" : "virtual") + " channels=" + std::to_string(channels_.size());
    for (const auto& c : channels_) {
        const std::string k = std::to_string(c->number());
        s += " pump." + k + "=" + c->pump_path() + " meter." + k + "=" + c->meter_path() + " meter_tcp." + k + "=" + c->meter_tcp();
    }
    // The models move in whole measurement periods (ADVANCE of less is carried over): with it a
    // controller knows the clock an ADVANCE leads to before the answer comes.
    s += " tick_ms=" + std::to_string(kMeasurementPeriod.count());
    // The unit each channel plays, for the run record (after the links: readers of the keys
    // above are not disturbed).
    for (const auto& c : channels_) s += " " + c->unit().describe("unit." + std::to_string(c->number()) + ".");
    return s;
}

bool SimBench::say(const std::string& s) {
    const std::string line = s + "\n";
    std::size_t off = 0;
    while (off < line.size()) {
        const ssize_t n = write(out_fd_, line.data() + off, line.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

// The order of events across two descriptors: a controller writes a control line, then (its
// write returned, the line is in the pipe) a request on a device link. The simulator acts on
// a request only once it has read it whole, and calls this in between; the line was in the
// pipe before the request's first byte was written, so this read finds it (or an earlier one
// applied it). Every control line is thus applied before any request written after it, and a
// controller that waits for each answer before its next control line gets nothing else.
void SimBench::apply_control() {
    while (!done_) {
        pollfd pfd{in_fd_, POLLIN, 0};
        const int ready = poll(&pfd, 1, 0);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return;
        char buf[4096];
        const ssize_t got = read(in_fd_, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            done_ = true;  // the controller went away: end quietly
            return;
        }
        control_buf_.append(buf, static_cast<std::size_t>(got));
        std::size_t nl;
        while (!done_ && (nl = control_buf_.find('\n')) != std::string::npos) {
            std::string line = control_buf_.substr(0, nl);
            control_buf_.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line == "QUIT") {
                flush_pumps();
                done_ = true;
            } else if (!say(control(line))) {
                done_ = true;
            }
        }
    }
}

int SimBench::serve(int in_fd, int out_fd) {
    in_fd_ = in_fd;
    out_fd_ = out_fd;
    if (!say(ready_line())) return 1;

    const auto wall0 = std::chrono::steady_clock::now();
    const BenchTime bench0 = now_;
    std::vector<SimChannel::PollSlots> slots(channels_.size());
    std::vector<pollfd> fds;
    while (true) {
        fds.clear();
        fds.push_back({in_fd, POLLIN, 0});
        for (std::size_t k = 0; k < channels_.size(); ++k) slots[k] = channels_[k]->add_poll_fds(fds);

        int timeout_ms = -1;
        if (opt_.realtime) {
            // Sleep until the next measurement is due on the scaled clock.
            const double wall_ms_per_tick = static_cast<double>(kMeasurementPeriod.count()) / opt_.speed;
            const auto next_wall = wall0 + std::chrono::duration<double, std::milli>(
                                               static_cast<double>((now_ - bench0).count() + kMeasurementPeriod.count()) / opt_.speed);
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_wall - std::chrono::steady_clock::now()).count();
            timeout_ms = static_cast<int>(std::max<long long>(0, std::min<long long>(left, static_cast<long long>(wall_ms_per_tick) + 1)));
        }
        for (const auto& c : channels_) {
            const long long ms = c->wake_in_ms();
            if (ms < 0) continue;
            timeout_ms = timeout_ms < 0 ? static_cast<int>(ms) : static_cast<int>(std::min<long long>(timeout_ms, ms));
        }
        const int n = poll(fds.data(), fds.size(), timeout_ms);
        if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));

        if (opt_.realtime) {
            const double wall_elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall0).count();
            const BenchTime target = bench0 + Millis{static_cast<long long>(wall_elapsed_ms * opt_.speed)};
            while (now_ + kMeasurementPeriod <= target) tick();
        }
        if (n > 0) {
            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) apply_control();
            if (done_) return 0;
            for (std::size_t k = 0; k < channels_.size() && !done_; ++k) channels_[k]->on_poll(fds, slots[k]);
            if (done_) return 0;
        }
        for (auto& c : channels_) c->after_poll();
    }
}

}  // namespace pumprig::sim
