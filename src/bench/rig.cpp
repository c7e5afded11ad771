#include "bench/rig.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>

#include "core/calendar.hpp"
#include "core/json_reader.hpp"
#include "meter/profile.hpp"
#include "bench/rig_population.hpp"
#include "pump/sim/defects.hpp"
#include "sim_catalogue/faults.hpp"

namespace pumprig::bench {

namespace {

using nlohmann::json;

// Strict reading of one JSON object: every key must be known, every value of the expected
// type; errors name the file, line and column, and the JSON pointer.
class ObjectReader {
public:
    ObjectReader(const json& j, std::string pointer, const std::filesystem::path& file, const JsonDocument& doc)
        : j_(j), pointer_(std::move(pointer)), file_(file), doc_(doc) {
        if (!j_.is_object()) throw error(pointer_, "an object");
    }

    template <class T>
    void get(const char* key, T& out) {
        seen_.insert(key);
        if (!j_.contains(key)) return;
        const json& v = j_.at(key);
        const std::string ptr = pointer_ + "/" + key;
        if constexpr (std::is_same_v<T, bool>) {
            if (!v.is_boolean()) throw error(ptr, "true or false");
            out = v.get<bool>();
        } else if constexpr (std::is_integral_v<T>) {
            if (!v.is_number_integer()) throw error(ptr, "a whole number");
            // get<T> would wrap 4294967297 to 1 silently: refuse what T cannot hold.
            const bool fits = v.is_number_unsigned()
                                  ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())
                                  : v.get<std::int64_t>() >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                                        v.get<std::int64_t>() <= static_cast<std::int64_t>(std::numeric_limits<T>::max());
            if (!fits) throw error(ptr, "a whole number from " + std::to_string(std::numeric_limits<T>::min()) + " to " +
                                            std::to_string(std::numeric_limits<T>::max()));
            out = v.get<T>();
        } else if constexpr (std::is_floating_point_v<T>) {
            if (!v.is_number()) throw error(ptr, "a number");
            out = v.get<T>();
        } else {
            if (!v.is_string()) throw error(ptr, "a string");
            out = v.get<std::string>();
        }
    }

    ObjectReader child(const char* key) {
        seen_.insert(key);
        static const json empty = json::object();
        return ObjectReader(j_.contains(key) ? j_.at(key) : empty, pointer_ + "/" + key, file_, doc_);
    }

    bool has(const char* key) const { return j_.contains(key); }
    void mark(const char* key) { seen_.insert(key); }  // read by the caller itself

    // Unknown keys are errors: a misspelt key silently ignored is a wrong bench.
    void finish() const {
        for (const auto& [k, v] : j_.items())
            if (!seen_.count(k)) throw error(pointer_child(pointer_, k), "one of " + known() + " (this key is unknown)", true);
    }

    // At the value the pointer names (or its key's place: an unknown key).
    std::runtime_error error(const std::string& ptr, const std::string& expected, bool at_key = false) const {
        const auto at = at_key ? doc_.key_at(ptr) : doc_.value_at(ptr);
        return std::runtime_error(describe_at(file_.string(), at, ptr.empty() ? "/" : ptr, "expected " + expected));
    }
    const std::string& pointer() const { return pointer_; }
    const JsonDocument& document() const { return doc_; }

private:
    std::string known() const {
        std::string out;
        for (const auto& k : seen_) out += (out.empty() ? "" : ", ") + k;
        return out;
    }
    const json& j_;
    std::string pointer_;
    std::filesystem::path file_;
    const JsonDocument& doc_;
    std::set<std::string> seen_;
};

char parity_of(const std::string& s, const ObjectReader& r, const char* key) {
    if (s == "N" || s == "none") return 'N';
    if (s == "E" || s == "even") return 'E';
    if (s == "O" || s == "odd") return 'O';
    throw r.error(r.pointer() + "/" + key, "\"none\", \"even\" or \"odd\"");
}

// Numbers the links cannot work with (a negative timeout, three stop bits) are refused here,
// where the file and pointer can be named, rather than failing later on the link.
void require_range(const ObjectReader& r, const char* key, long long value, long long min, long long max,
                   const std::string& what) {
    if (value < min || value > max)
        throw r.error(r.pointer() + "/" + key, what + ", " + std::to_string(min) + " to " + std::to_string(max));
}

std::filesystem::path resolve(const std::filesystem::path& p, const std::filesystem::path& root) {
    if (p.empty() || p.is_absolute()) return p;
    return root / p;
}


// "defects" and "meter_faults" of a simulator section (the rig's, or a channel's).
void read_fault_lists(ObjectReader& s, const json& obj, std::vector<std::string>& defects_out,
                      std::vector<std::string>& meter_faults_out) {
    for (const char* key : {"defects", "meter_faults"}) {
        if (!s.has(key)) continue;
        const auto& list = obj.at(key);
        const std::string at = s.pointer() + "/" + key;
        const bool defects = std::string_view(key) == "defects";
        if (!list.is_array()) throw s.error(at, defects ? "an array of pump defect names (pumprig-sim --list-defects)"
                                                        : "an array of meter faults (\"zero_drift=2\", \"air_bursts\", \"frozen=600\")");
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string item = list[i].is_string() ? list[i].get<std::string>() : std::string();
            const std::string where = at + "/" + std::to_string(i);
            if (defects) {
                if (!pump::sim::defect_from_name(item))
                    throw s.error(where, "a pump defect name from the catalogue (pumprig-sim --list-defects)");
                defects_out.push_back(item);
            } else {
                if (!sim_catalogue::is_meter_fault(item)) throw s.error(where, "zero_drift, air_bursts or frozen, optionally =NUMBER");
                meter_faults_out.push_back(item);
            }
        }
        s.mark(key);
    }
}

// A "pump" object over the values given so far (the rig's own, inherited by its channels).
void read_pump(ObjectReader p, PumpLinkConfig& link, PumpKeySource& key, const std::filesystem::path& root) {
    std::string backend = link.backend == PumpLinkConfig::Backend::Serialport ? "serialport"
                          : link.backend == PumpLinkConfig::Backend::Tcp      ? "tcp"
                                                                              : "termios";
    std::string parity = link.parity == 'E' ? "even" : link.parity == 'O' ? "odd" : "none";
    p.get("backend", backend);
    if (backend == "termios") link.backend = PumpLinkConfig::Backend::Termios;
    else if (backend == "serialport") link.backend = PumpLinkConfig::Backend::Serialport;
    else if (backend == "tcp") link.backend = PumpLinkConfig::Backend::Tcp;
    else throw p.error(p.pointer() + "/backend", "\"serialport\" (serial hardware), \"termios\" (pseudo-terminal) or \"tcp\" (ser2net)");
    p.get("device", link.device);
    p.get("baud", link.baud);
    p.get("parity", parity);
    link.parity = parity_of(parity, p, "parity");
    p.get("stop_bits", link.stop_bits);
    p.get("host", link.host);
    p.get("port", link.port);
    p.get("response_timeout_ms", link.response_timeout_ms);
    p.get("retries", link.retries);
    require_range(p, "stop_bits", link.stop_bits, 1, 2, "stop bits");
    require_range(p, "response_timeout_ms", link.response_timeout_ms, 1, 60'000, "a response timeout in ms");
    require_range(p, "retries", link.retries, 0, 10, "re-sends after a timeout");
    static const std::set<int> bauds{9600, 19200, 38400, 57600, 115200};
    if (!bauds.count(link.baud)) throw p.error(p.pointer() + "/baud", "9600, 19200, 38400, 57600 or 115200 (pump ICD section 1)");
    if (p.has("key")) {
        // A key given here replaces the inherited one as a whole (a channel's pump its own key).
        key = PumpKeySource{};
        auto k = p.child("key");
        k.get("env", key.env);
        k.get("file", key.file);
        k.get("test_key", key.test_key);
        k.finish();
        if (!key.file.empty()) key.file = resolve(key.file, root).string();
        if (key.env.empty() && key.file.empty() && !key.test_key)
            throw p.error(p.pointer() + "/key", "one of \"env\", \"file\" or \"test_key\": true");
    } else {
        p.mark("key");
    }
    p.finish();
}

// What a hardware pump link must name; `at` is the JSON pointer of its "pump" object.
void check_pump_link(const ObjectReader& r, const std::string& at, const PumpLinkConfig& link, const PumpKeySource& key) {
    if (link.backend == PumpLinkConfig::Backend::Tcp) {
        if (link.host.empty()) throw r.error(at + "/host", "the host of the ser2net server");
        if (link.port <= 0 || link.port > 65535) throw r.error(at + "/port", "a TCP port 1 to 65535");
    } else if (link.device.empty()) {
        throw r.error(at + "/device", "the serial device path, e.g. /dev/ttyUSB0");
    }
    if (key.env.empty() && key.file.empty() && !key.test_key)
        throw r.error(at + "/key", "one of \"env\", \"file\" or \"test_key\": true");
}

void read_meter(ObjectReader m, MeterLinkConfig& link, const std::filesystem::path& root) {
    std::string kind = link.kind == MeterLinkConfig::Kind::Tcp ? "tcp" : "rtu";
    std::string parity = link.parity == 'E' ? "even" : link.parity == 'O' ? "odd" : "none";
    std::string profile = link.profile.string();
    m.get("link", kind);
    if (kind == "rtu") link.kind = MeterLinkConfig::Kind::Rtu;
    else if (kind == "tcp") link.kind = MeterLinkConfig::Kind::Tcp;
    else throw m.error(m.pointer() + "/link", "\"rtu\" or \"tcp\"");
    m.get("device", link.device);
    m.get("baud", link.baud);
    m.get("parity", parity);
    link.parity = parity_of(parity, m, "parity");
    m.get("data_bits", link.data_bits);
    m.get("stop_bits", link.stop_bits);
    m.get("host", link.host);
    m.get("port", link.port);
    m.get("unit_id", link.unit_id);
    m.get("response_timeout_ms", link.response_timeout_ms);
    m.get("profile", profile);
    link.profile = resolve(profile, root);
    m.get("calibration_due", link.calibration_due);
    if (!link.calibration_due.empty() && !parse_calendar_date(link.calibration_due))
        throw m.error(m.pointer() + "/calibration_due", "the meter's calibration due date \"YYYY-MM-DD\"");
    require_range(m, "data_bits", link.data_bits, 7, 8, "data bits");
    require_range(m, "stop_bits", link.stop_bits, 1, 2, "stop bits");
    require_range(m, "baud", link.baud, 1200, 115200, "a baud rate");
    require_range(m, "port", link.port, 1, 65535, "a TCP port");
    require_range(m, "response_timeout_ms", link.response_timeout_ms, 1, 60'000, "a response timeout in ms");
    if (link.unit_id < 1 || link.unit_id > 247) throw m.error(m.pointer() + "/unit_id", "a Modbus unit id 1 to 247");
    m.finish();
    // The register map is read now, not when the meter is first polled (or by the simulator).
    if (auto loaded = meter::load_meter_profile(link.profile.string()); !loaded)
        throw m.error(m.has("profile") ? m.pointer() + "/profile" : m.pointer(),
                      "a meter profile that loads (" + loaded.error().message + ")");
}

void check_meter_link(const ObjectReader& r, const std::string& at, const MeterLinkConfig& link) {
    if (link.kind == MeterLinkConfig::Kind::Rtu && link.device.empty()) throw r.error(at + "/device", "the RS-485 adapter's device path");
    if (link.kind == MeterLinkConfig::Kind::Tcp && link.host.empty()) throw r.error(at + "/host", "the Modbus TCP gateway's host");
}


constexpr std::size_t kMaxChannels = 8;  // pumprig-sim serves up to 8; a bench host rarely has more ports

void read_channels(const ObjectReader& top, const json& list, RigDescription& rig, const std::filesystem::path& root) {
    if (!list.is_array() || list.empty() || list.size() > kMaxChannels)
        throw top.error("/channels", "an array of 1 to " + std::to_string(kMaxChannels) + " channels, each {\"name\", \"pump\", \"meter\"}");
    std::set<std::string> names, pump_links, meter_links;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string at = "/channels/" + std::to_string(i);
        ObjectReader c(list[i], at, rig.file, top.document());
        ChannelConfig ch;
        ch.name = "ch" + std::to_string(i + 1);
        ch.pump = rig.pump;
        ch.key = rig.key;
        ch.meter = rig.meter;
        c.get("name", ch.name);
        const bool name_ok = !ch.name.empty() && ch.name.size() <= 24 &&
                             std::all_of(ch.name.begin(), ch.name.end(), [](unsigned char x) { return std::isalnum(x) || x == '-' || x == '_'; });
        if (!name_ok) throw c.error(at + "/name", "a channel name of 1 to 24 letters, digits, '-' or '_'");
        if (!names.insert(ch.name).second) throw c.error(at + "/name", "a name no other channel has (\"" + ch.name + "\" is taken)");
        read_pump(c.child("pump"), ch.pump, ch.key, root);
        read_meter(c.child("meter"), ch.meter, root);
        if (c.has("simulator")) {
            if (!rig.simulator.enabled) throw c.error(at + "/simulator", "no \"simulator\" section: this rig is not a simulated bench");
            auto s = c.child("simulator");
            s.get("pump_serial", ch.pump_serial);
            read_fault_lists(s, list[i].at("simulator"), ch.defects, ch.meter_faults);
            if (s.has("unit")) {
                s.mark("unit");
                auto pins = read_unit_pins(list[i].at("simulator").at("unit"), s.pointer() + "/unit", rig.file);
                if (!pins) throw std::runtime_error(pins.error().message);
                ch.unit_pins = std::move(*pins);
            }
            if (s.has("fault_at")) {
                const auto& f = list[i].at("simulator").at("fault_at");
                const std::string fat = s.pointer() + "/fault_at";
                if (!f.is_array()) throw s.error(fat, "an array of scheduled faults \"BENCH_SECONDS:NAME[:ARG]\"");
                for (std::size_t k = 0; k < f.size(); ++k) {
                    const std::string item = f[k].is_string() ? f[k].get<std::string>() : std::string();
                    if (auto problem = sim_catalogue::scheduled_fault_problem(item)) throw s.error(fat + "/" + std::to_string(k), *problem);
                    ch.fault_at.push_back(item);
                }
                s.mark("fault_at");
            }
            s.finish();
        } else {
            c.mark("simulator");
        }
        c.finish();
        if (!rig.simulator.enabled) {
            check_pump_link(c, at + "/pump", ch.pump, ch.key);
            check_meter_link(c, at + "/meter", ch.meter);
            // Two channels on one link would talk over each other: each has its own.
            const std::string pump_id = ch.pump.backend == PumpLinkConfig::Backend::Tcp ? ch.pump.host + ":" + std::to_string(ch.pump.port) : ch.pump.device;
            const std::string meter_id = ch.meter.kind == MeterLinkConfig::Kind::Tcp
                                             ? ch.meter.host + ":" + std::to_string(ch.meter.port) + "#" + std::to_string(ch.meter.unit_id)
                                             : ch.meter.device;
            if (!pump_links.insert(pump_id).second)
                throw c.error(at + "/pump", "a pump link of this channel's own (" + pump_id + " is another channel's)");
            if (!meter_links.insert(meter_id).second)
                throw c.error(at + "/meter", "a meter link of this channel's own (" + meter_id + " is another channel's)");
        } else if (ch.key.env.empty() && ch.key.file.empty() && !ch.key.test_key) {
            throw c.error(at + "/pump/key", "one of \"env\", \"file\" or \"test_key\": true");
        }
        rig.channels.push_back(std::move(ch));
    }
}

}  // namespace

Result<RigDescription> load_rig(const std::filesystem::path& file, const std::filesystem::path& root) {
    auto doc = read_json_file(file);
    if (!doc) {
        if (doc.error().kind == ErrorKind::Io) return fail(ErrorKind::BadInput, file.string() + ": cannot open the rig description");
        return std::unexpected(doc.error());
    }
    const json& j = doc->root();
    RigDescription rig;
    rig.file = file;
    try {
        ObjectReader top(j, "", file, *doc);
        top.get("name", rig.name);
        top.get("description", rig.description);
        top.get("time_scale", rig.time_scale);
        top.get("line_tau_s", rig.line_tau_s);
        if (!(rig.line_tau_s >= 0)) throw top.error("/line_tau_s", "the fluid line time constant in seconds, 0 or more");
        if (!(rig.time_scale > 0)) throw top.error("/time_scale", "a number above 0 (bench seconds per wall second)");
        std::string lock_dir = rig.lock_dir.string();
        top.get("lock_dir", lock_dir);
        rig.lock_dir = lock_dir;

        if (top.has("simulator")) {
            auto s = top.child("simulator");
            rig.simulator.enabled = true;
            std::string time = "virtual";
            s.get("time", time);
            if (time != "virtual" && time != "realtime") throw s.error(s.pointer() + "/time", "\"virtual\" or \"realtime\"");
            rig.simulator.realtime = time == "realtime";
            s.get("speed", rig.simulator.speed);
            if (!(rig.simulator.speed > 0)) throw s.error(s.pointer() + "/speed", "a number above 0");
            s.get("pump_model", rig.simulator.pump_model);
            if (rig.simulator.pump_model != "ITB-20" && rig.simulator.pump_model != "ITB-40")
                throw s.error(s.pointer() + "/pump_model", "\"ITB-20\" or \"ITB-40\"");
            s.get("pump_serial", rig.simulator.pump_serial);
            s.get("meter_over_tcp", rig.simulator.meter_over_tcp);
            s.get("line_tau_s", rig.simulator.line_tau_s);
            if (!(rig.simulator.line_tau_s >= 0))
                throw s.error(s.pointer() + "/line_tau_s", "the fluid line time constant in seconds, 0 or more");
            rig.line_tau_s = rig.simulator.line_tau_s;
            if (s.has("faults")) {
                // Link and device faults for the simulator, as its own options
                // (["--corrupt-rate", "0.001", "--fault-at", "3600:pump_reset"]): docs/simulator.md.
                std::vector<std::string> args;
                const auto& f = j.at("simulator").at("faults");
                if (!f.is_array()) throw s.error(s.pointer() + "/faults", "an array of pumprig-sim options (strings)");
                for (std::size_t i = 0; i < f.size(); ++i) {
                    if (!f[i].is_string()) throw s.error(s.pointer() + "/faults/" + std::to_string(i), "a string");
                    args.push_back(f[i].get<std::string>());
                }
                if (auto problem = sim_catalogue::fault_options_problem(args))
                    throw s.error(s.pointer() + "/faults/" + std::to_string(std::min(problem->index, args.size() - 1)), problem->expected);
                rig.sim_args = args;
                s.mark("faults");
            }
            s.get("battery_pct", rig.simulator.battery_pct);
            s.get("variant", rig.simulator.variant);
            read_fault_lists(s, j.at("simulator"), rig.simulator.defects, rig.simulator.meter_faults);
            s.mark("ideal");  // these and "line": rig_population.hpp
            s.mark("unit");
            s.finish();
        }

        top.mark("line");
        auto population = read_rig_population(j, "", file);
        if (!population) throw std::runtime_error(population.error().message);
        if (population->line_tau_s) rig.line_tau_s = rig.simulator.line_tau_s = *population->line_tau_s;
        rig.line_tau_uncertainty_pct = population->line_tau_uncertainty_pct;
        rig.simulator.ideal = population->ideal;
        rig.simulator.unit_pins = population->unit_pins;
        read_pump(top.child("pump"), rig.pump, rig.key, root);
        rig.meter.profile = "fixtures/meters/lf-2000.json";
        read_meter(top.child("meter"), rig.meter, root);
        if (top.has("channels")) {
            top.mark("channels");
            read_channels(top, j.at("channels"), rig, root);
        } else if (!rig.simulator.enabled) {
            check_pump_link(top, "/pump", rig.pump, rig.key);
            check_meter_link(top, "/meter", rig.meter);
        } else if (rig.key.env.empty() && rig.key.file.empty() && !rig.key.test_key) {
            throw top.error("/pump/key", "one of \"env\", \"file\" or \"test_key\": true");
        }
        top.finish();
    } catch (const std::runtime_error& e) {
        return fail(ErrorKind::BadInput, e.what());
    } catch (const json::exception& e) {
        return fail(ErrorKind::BadInput, file.string() + ": " + e.what());
    }
    return rig;
}

std::vector<RigDescription> channel_rigs(const RigDescription& rig) {
    if (rig.channels.empty()) return {rig};
    std::vector<RigDescription> out;
    for (std::size_t i = 0; i < rig.channels.size(); ++i) {
        const auto& ch = rig.channels[i];
        RigDescription one = rig;
        one.channels.clear();
        one.channel = ch.name;
        one.channel_index = i;
        one.pump = ch.pump;
        one.key = ch.key;
        one.meter = ch.meter;
        if (!ch.pump_serial.empty()) one.simulator.pump_serial = ch.pump_serial;
        one.simulator.defects.insert(one.simulator.defects.end(), ch.defects.begin(), ch.defects.end());
        one.simulator.meter_faults.insert(one.simulator.meter_faults.end(), ch.meter_faults.begin(), ch.meter_faults.end());
        out.push_back(std::move(one));
    }
    return out;
}

}  // namespace pumprig::bench
