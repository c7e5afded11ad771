#include "bench/bench.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/realtime.hpp"
#include "bench/population.hpp"
#include "meter/profile.hpp"
#include "transport/byte_stream.hpp"

namespace pumprig::bench {

std::filesystem::path default_sim_binary() {
    if (const char* env = std::getenv("PUMPRIG_SIM_BINARY"); env && *env) return env;
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) return self.parent_path() / "pumprig-sim";
    return "pumprig-sim";
}

namespace {

// pumprig-sim's options for a simulator rig (docs/simulator.md): per-channel ones carry the
// channel number, K@.
std::vector<std::string> simulator_args(const RigDescription& rig, const BenchOptions& options) {
    std::vector<std::string> args{
        "--time", rig.simulator.realtime ? "realtime" : "virtual",
        "--speed", std::to_string(rig.simulator.speed),
        "--seed", std::to_string(options.seed),
        "--pump-model", rig.simulator.pump_model,
        "--pump-serial", rig.simulator.pump_serial,
        "--meter-profile", rig.meter.profile.string(),
        "--meter-unit", std::to_string(rig.meter.unit_id),
        "--line-tau", std::to_string(rig.simulator.line_tau_s),
        "--line-tau-uncertainty", std::to_string(rig.line_tau_uncertainty_pct),
        "--battery", std::to_string(rig.simulator.battery_pct)};
    if (rig.simulator.meter_over_tcp) args.insert(args.end(), {"--meter-tcp", "0"});
    if (rig.simulator.variant) args.push_back("--variant");
    if (rig.simulator.ideal) args.push_back("--ideal");
    for (const auto& [name, value] : rig.simulator.unit_pins) args.insert(args.end(), {"--unit", name + "=" + std::to_string(value)});
    for (const auto& d : rig.simulator.defects) args.insert(args.end(), {"--defect", d});
    for (const auto& f : rig.simulator.meter_faults) args.insert(args.end(), {"--meter-fault", f});
    if (!rig.channels.empty()) {
        args.insert(args.end(), {"--channels", std::to_string(rig.channels.size())});
        for (std::size_t i = 0; i < rig.channels.size(); ++i) {
            const auto& ch = rig.channels[i];
            const std::string k = std::to_string(i + 1) + "@";
            if (!ch.pump_serial.empty()) args.insert(args.end(), {"--pump-serial", k + ch.pump_serial});
            for (const auto& d : ch.defects) args.insert(args.end(), {"--defect", k + d});
            for (const auto& f : ch.meter_faults) args.insert(args.end(), {"--meter-fault", k + f});
            for (const auto& f : ch.fault_at) args.insert(args.end(), {"--fault-at", k + f});
            for (const auto& [name, value] : ch.unit_pins) args.insert(args.end(), {"--unit", k + name + "=" + std::to_string(value)});
        }
    }
    for (const auto& a : rig.sim_args) args.push_back(a);
    for (const auto& a : options.sim_extra_args) args.push_back(a);
    return args;
}

// Channel K's unit as the simulator's READY line gives it (unit.K.NAME=VALUE, every name of
// the population's table); unset when a parameter is missing or not a number.
std::optional<std::map<std::string, double>> announced_unit(const std::map<std::string, std::string>& ready, std::size_t channel_index) {
    std::map<std::string, double> unit;
    const std::string prefix = "unit." + std::to_string(channel_index + 1) + ".";
    for (const auto& p : unit_params()) {
        const auto it = ready.find(prefix + std::string(p.name));
        if (it == ready.end()) return std::nullopt;
        double v = 0;
        const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
        if (ec != std::errc{} || end != it->second.data() + it->second.size()) return std::nullopt;
        unit[std::string(p.name)] = v;
    }
    return unit;
}

Result<std::shared_ptr<SharedSimulator>> start_simulator(const RigDescription& rig, const BenchOptions& options) {
    const auto binary = options.sim_binary.empty() ? default_sim_binary() : options.sim_binary;
    auto sim = SimProcess::start(binary.string(), simulator_args(rig, options));
    if (!sim) return fail(ErrorKind::Io, "simulated bench: " + sim.error().describe());
    return std::make_shared<SharedSimulator>(std::move(*sim), std::max<std::size_t>(1, rig.channels.size()));
}

}  // namespace

Result<std::unique_ptr<Bench>> Bench::open(const RigDescription& rig, const BenchOptions& options) {
    // The rig's first channel alone (a simulator, if any, of that one channel).
    RigDescription one = rig;
    if (!rig.channels.empty()) one.channels.resize(1);
    auto benches = open_channels(one, options);
    if (!benches) return std::unexpected(benches.error());
    return std::move(benches->front().bench);
}

Result<std::vector<ChannelBench>> Bench::open_channels(const RigDescription& rig, const BenchOptions& options) {
    std::shared_ptr<SharedSimulator> sim;
    if (rig.simulator.enabled) {
        auto s = start_simulator(rig, options);
        if (!s) return std::unexpected(s.error());
        sim = *s;
    }
    std::vector<ChannelBench> out;
    for (auto& one : channel_rigs(rig)) {
        auto b = open_channel(one, options, sim);
        // A channel that could not open must not hold the others' virtual time back.
        if (!b && sim) sim->leave(one.channel_index);
        out.push_back({std::move(one), std::move(b)});
    }
    return out;
}

Result<std::unique_ptr<Bench>> Bench::open_channel(const RigDescription& rig, const BenchOptions& options,
                                                   std::shared_ptr<SharedSimulator> sim) {
    std::unique_ptr<Bench> b(new Bench());
    b->rig_ = rig;
    PumpLinkConfig pump_link = rig.pump;
    MeterLinkConfig meter_link = rig.meter;

    if (sim) {
        b->sim_ = sim;
        b->simulated_unit_ = announced_unit(sim->ready(), rig.channel_index);
        // The simulator names each channel's links pump.K, meter.K, meter_tcp.K (K from 1);
        // a single-channel simulator pump, meter, meter_tcp.
        const std::string k = sim->ready().count("channels") && sim->ready().count("pump.1") ? "." + std::to_string(rig.channel_index + 1) : "";
        auto ready = [&](const std::string& key) -> Result<std::string> {
            const auto it = sim->ready().find(key + k);
            if (it == sim->ready().end()) return fail(ErrorKind::Protocol, "the simulator's READY line lacks " + key + k + "=");
            return it->second;
        };
        // The simulator's pseudo-terminals: termios for the pump (libserialport cannot open a
        // pseudo-terminal), 8N1 for the meter (pseudo-terminals do not keep parity settings).
        auto pump_pty = ready("pump");
        if (!pump_pty) return std::unexpected(pump_pty.error());
        pump_link.backend = PumpLinkConfig::Backend::Termios;
        pump_link.device = *pump_pty;
        if (rig.simulator.meter_over_tcp) {
            auto hp = ready("meter_tcp");
            if (!hp) return std::unexpected(hp.error());
            const auto colon = hp->rfind(':');
            meter_link.kind = MeterLinkConfig::Kind::Tcp;
            meter_link.host = hp->substr(0, colon);
            meter_link.port = std::stoi(hp->substr(colon + 1));
        } else {
            auto m = ready("meter");
            if (!m) return std::unexpected(m.error());
            meter_link.kind = MeterLinkConfig::Kind::Rtu;
            meter_link.device = *m;
            meter_link.parity = 'N';
        }
    }

    if (sim && !rig.simulator.realtime) {
        b->clock_ = std::make_unique<VirtualClock>(*sim);
        b->virtual_time_ = true;
    } else {
        auto wc = std::make_unique<WallClock>(rig.simulator.enabled ? rig.simulator.speed : rig.time_scale);
        b->wall_clock_ = wc.get();
        b->clock_ = std::move(wc);
    }

    // Pump link.
    b->pump_link_ = pump_link;
    b->pump_trace_ = options.pump_trace;
    if (options.channel_pump_trace)
        b->pump_trace_ = [f = options.channel_pump_trace, i = rig.channel_index](pump::TraceKind kind, std::string_view bytes) { f(i, kind, bytes); };
    auto link = b->open_pump_link();
    if (!link) return fail(link.error().kind, "pump link: " + link.error().describe());
    pump::DriverOptions dopt;
    dopt.response_timeout = Millis{pump_link.response_timeout_ms};
    dopt.retries = pump_link.retries;
    dopt.seed = options.seed + rig.channel_index * 1000003ULL;  // channels start at different SEQs
    dopt.clock = b->clock_.get();
    dopt.secrets = b->secrets_;
    b->pump_ = std::make_unique<pump::PumpDriver>(std::move(*link), dopt);
    Bench* self = b.get();
    b->pump_->set_wait_hook([self](Millis d) { (void)self->wait_until(self->clock().now() + d); });

    // Meter link.
    auto profile = meter::load_meter_profile(meter_link.profile.string());
    if (!profile) return fail(ErrorKind::BadInput, "meter profile: " + profile.error().describe());
    meter::MeterLink ml;
    ml.kind = meter_link.kind == MeterLinkConfig::Kind::Tcp ? meter::MeterLink::Tcp : meter::MeterLink::Rtu;
    ml.device = meter_link.device;
    ml.baud = meter_link.baud;
    ml.parity = meter_link.parity;
    ml.data_bits = meter_link.data_bits;
    ml.stop_bits = meter_link.stop_bits;
    ml.host = meter_link.host;
    ml.port = meter_link.port;
    ml.unit_id = meter_link.unit_id;
    ml.response_timeout = Millis{meter_link.response_timeout_ms};
    auto meter = meter::MeterDriver::open(ml, std::move(*profile));
    if (!meter) return fail(meter.error().kind, "meter link: " + meter.error().describe());
    b->meter_ = std::make_unique<meter::MeterDriver>(std::move(*meter));
    return b;
}

Result<std::unique_ptr<transport::ByteStream>> Bench::open_pump_stream() const {
    const auto& l = pump_link_;
    transport::SerialSettings serial{l.baud, 8, l.parity, l.stop_bits};
    switch (l.backend) {
        case PumpLinkConfig::Backend::Termios: return transport::open_termios(l.device, serial);
        case PumpLinkConfig::Backend::Serialport: return transport::open_serialport(l.device, serial);
        case PumpLinkConfig::Backend::Tcp: return transport::open_tcp(l.host, l.port);
    }
    return fail(ErrorKind::BadInput, "no pump link backend");
}

Result<std::unique_ptr<ProbeStream>> Bench::open_pump_link() {
    auto stream = open_pump_stream();
    if (!stream) return std::unexpected(stream.error());
    auto traced = std::make_unique<pump::TracedLink>(std::move(*stream), pump_trace_, secrets_);
    auto note = [t = traced.get()](std::string_view text) { t->note(text); };  // owned by the probe below
    auto probe = std::make_unique<ProbeStream>(std::move(traced), clock_.get(), note);
    probes_ = probe.get();
    return probe;
}

Result<pump::PumpIdentity> Bench::reconnect_pump(int attempts) {
    // A simulator that ended took the bench with it: no link will come back.
    if (auto gone = simulator_gone()) return std::unexpected(*gone);
    Error last{ErrorKind::LinkLost, {}, "no attempt made", {}, {}};
    auto pause = std::chrono::seconds(1);
    for (int i = 0; i < attempts; ++i) {
        if (i > 0) {
            // Back off on both clocks: wall time for a link that has to come back (an adapter,
            // ser2net), and bench time for a pump that has to finish restarting (in virtual time
            // nothing happens on the bench unless pumprig lets time pass).
            if (virtual_time_) (void)wait_until(clock_->now() + pause);
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::seconds(30));
        }
        if (auto gone = simulator_gone()) return std::unexpected(*gone);
        // A new link gets a new probe; a probe under way on the old one is given up.
        auto link = open_pump_link();
        if (!link) {
            last = link.error();
            continue;
        }
        pump_->replace_link(std::move(*link));
        auto id = authenticate_pump();
        if (id) return id;
        last = id.error();
    }
    return fail(last.kind, "pump link not recovered after " + std::to_string(attempts) + " attempts: " + last.describe());
}

Bench::~Bench() {
    meter_.reset();
    pump_.reset();
    // The simulator stops with the last channel's bench (shared_ptr).
    if (sim_) sim_->leave(rig_.channel_index);
}

Result<pump::PumpKey> load_pump_key(const PumpKeySource& source) {
    Result<pump::PumpKey> key = fail(ErrorKind::BadInput, "no key source");
    if (!source.env.empty()) key = pump::PumpKey::from_env(source.env.c_str());
    if (!key && !source.file.empty()) key = pump::PumpKey::from_file(source.file);
    if (!key && source.test_key) key = pump::PumpKey::from_hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    return key;
}

Result<void> check_pump_keys(const RigDescription& rig) {
    for (const auto& one : channel_rigs(rig)) {
        if (auto key = load_pump_key(one.key); !key) {
            auto e = key.error();
            if (!one.channel.empty()) e.message = "channel " + one.channel + ": " + e.message;
            return std::unexpected(e);
        }
    }
    return {};
}

Result<pump::PumpIdentity> Bench::authenticate_pump() {
    auto key = load_pump_key(rig_.key);
    if (!key) return std::unexpected(key.error());
    return pump_->authenticate(*key);
}

double Bench::time_scale() const { return rig_.simulator.enabled ? rig_.simulator.speed : rig_.time_scale; }

Result<void> Bench::wait_until(BenchTime t) {
    if (virtual_time_) return sim_->wait_until(rig_.channel_index, t);
    if (t > clock_->now()) pumprig::sleep_until(wall_deadline(t));
    return {};
}

Result<void> Bench::wait_until_unconfirmed(BenchTime t) {
    if (virtual_time_) return sim_->wait_until(rig_.channel_index, t, false);
    return wait_until(t);
}

Result<void> Bench::confirm_time() {
    if (virtual_time_) return sim_->settle();
    return {};
}

std::chrono::steady_clock::time_point Bench::wall_deadline(BenchTime t) const {
    return wall_clock_ ? wall_clock_->steady_at(t) : std::chrono::steady_clock::now();
}

std::optional<Error> Bench::simulator_gone() {
    if (!sim_) return std::nullopt;
    return sim_->exited();
}

SafeStopReport Bench::safe_stop() {
    SafeStopReport r;
    r.attempted = true;
    if (!pump_) {
        r.detail = "no pump link";
        return r;
    }
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + kSafeStopTime;
    std::string why;
    int attempts = 0;
    bool session_refused = false;  // the pump answered AUTH: it restarted, the session is gone
    while (true) {
        ++attempts;
        if (auto gone = simulator_gone()) {
            r.detail = gone->message + "; the pump could not be confirmed stopped";
            return r;
        }
        const auto tried_at = std::chrono::steady_clock::now();
        std::optional<Error> error;
        if (session_refused || !pump_->session_active()) {
            if (auto a = authenticate_pump(); !a) {
                why = "could not authenticate to send STOP: " + a.error().describe();
                // A refused key stays refused (and more tries would lock the pump's AUTH out).
                if (a.error().code == "AUTH") break;
                error = a.error();
            }
        }
        if (!error) {
            if (auto s = pump_->stop(); !s) {
                why = "STOP failed: " + s.error().describe();
                error = s.error();
            } else {
                r.stop_answered = true;
                auto st = pump_->status();
                if (!st) {
                    why = "STOP answered OK but STATUS failed: " + st.error().describe();
                    error = st.error();
                } else if (st->state == pump::PumpState::Stopped) {
                    r.confirmed_stopped = true;
                    r.detail = "pump stopped (STATUS state=STOPPED)";
                    if (attempts > 1) r.detail += " at attempt " + std::to_string(attempts);
                    return r;
                } else {
                    why = std::string("STOP answered OK but STATUS says state=") + pump::to_string(st->state);
                    r.refusal = why;
                }
            }
        }
        if (error && error->kind == ErrorKind::DeviceError) {
            // STOP could not be sent or was refused (at end of service the pump takes only
            // HELLO, STATUS and EVACK): STATUS, which needs no session, may still show it stopped.
            if (auto st = pump_->status(); st && st->state == pump::PumpState::Stopped) {
                r.confirmed_stopped = true;
                r.detail = "pump stopped (STATUS state=STOPPED; " + why + ")";
                return r;
            } else if (st) {
                r.refusal = why + ", and STATUS says state=" + pump::to_string(st->state);
            }
        }
        session_refused = error && error->kind == ErrorKind::DeviceError && error->code == "AUTH";
        // A key that cannot be loaded will not load on the next attempt either.
        if (error && error->kind == ErrorKind::BadInput) break;
        if (std::chrono::steady_clock::now() >= deadline) break;
        if (error && error->kind == ErrorKind::LinkLost) {
            // One attempt at opening the link again (a ser2net restart, a replugged adapter).
            if (auto id = reconnect_pump(1); !id) why += "; reopening the link: " + id.error().describe();
        }
        // An attempt that failed at once (a link that refuses) must not spin.
        std::this_thread::sleep_until(std::min(tried_at + std::chrono::milliseconds(200), deadline));
        if (std::chrono::steady_clock::now() >= deadline) break;
    }
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    char over[64];
    std::snprintf(over, sizeof over, " (%d attempts over %.1f s)", attempts, static_cast<double>(spent.count()) / 1000.0);
    r.detail = why + over;
    return r;
}

InitialState Bench::stop_at_start() {
    InitialState s;
    const auto deadline = std::chrono::steady_clock::now() + kSafeStopTime;
    // A STATUS lost to line noise is read again; the pump is not touched until it is known.
    Result<pump::PumpStatus> st = fail(ErrorKind::Timeout, "no STATUS asked");
    while (true) {
        st = pump_->status();
        if (st || !pump::lost_reading(st.error()) || std::chrono::steady_clock::now() >= deadline || simulator_gone()) break;
    }
    if (st) {
        s.state = pump::to_string(st->state);
        if (st->state == pump::PumpState::Stopped) {
            s.confirmed_stopped = true;
            s.detail = "pump STOPPED at the start";
            return s;
        }
    }
    // Not stopped (or not known to be): stop it before anything else is sent.
    s.stop_sent = true;
    const auto stop = safe_stop();
    s.confirmed_stopped = stop.confirmed_stopped;
    s.detail = (st ? "pump " + s.state + " at the start (left so by an earlier run?): STOP sent: "
                   : "state at the start unknown (" + st.error().describe() + "): STOP sent: ") +
               stop.detail;
    if (!s.confirmed_stopped) return s;
    // What the pump delivered before the STOP is still in the line: let it reach the meter
    // before the run zeroes the meter's total (6 time constants leave 0.25 % of it).
    s.settled = Millis{static_cast<long long>(6 * rig_.line_tau_s * 1000.0)};
    if (auto w = wait_until(clock_->now() + s.settled); !w) {
        s.confirmed_stopped = false;
        s.detail += "; waiting for the line to empty: " + w.error().describe();
    }
    return s;
}

}  // namespace pumprig::bench
