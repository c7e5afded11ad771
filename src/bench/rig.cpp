#include "bench/rig.hpp"

#include <cstdint>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>

#include "pump/sim/defects.hpp"

namespace pumprig::bench {

namespace {

using nlohmann::json;

// Strict reading of one JSON object: every key must be known, every value of the expected
// type; errors name the file and the JSON pointer.
class ObjectReader {
public:
    ObjectReader(const json& j, std::string pointer, const std::filesystem::path& file)
        : j_(j), pointer_(std::move(pointer)), file_(file) {
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
        return ObjectReader(j_.contains(key) ? j_.at(key) : empty, pointer_ + "/" + key, file_);
    }

    bool has(const char* key) const { return j_.contains(key); }
    void mark(const char* key) { seen_.insert(key); }  // read by the caller itself

    // Unknown keys are errors: a misspelt key silently ignored is a wrong bench.
    void finish() const {
        for (const auto& [k, v] : j_.items())
            if (!seen_.count(k)) throw error(pointer_ + "/" + k, "one of " + known() + " (this key is unknown)");
    }

    std::runtime_error error(const std::string& ptr, const std::string& expected) const {
        return std::runtime_error(file_.string() + ": at " + (ptr.empty() ? "/" : ptr) + ": expected " + expected);
    }
    const std::string& pointer() const { return pointer_; }

private:
    std::string known() const {
        std::string out;
        for (const auto& k : seen_) out += (out.empty() ? "" : ", ") + k;
        return out;
    }
    const json& j_;
    std::string pointer_;
    std::filesystem::path file_;
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


}  // namespace

bool is_meter_fault(const std::string& text) {
    const auto eq = text.find('=');
    const std::string name = text.substr(0, eq);
    if (name != "zero_drift" && name != "air_bursts" && name != "frozen") return false;
    if (eq == std::string::npos) return true;
    try {
        std::size_t used = 0;
        const double v = std::stod(text.substr(eq + 1), &used);
        return used == text.size() - eq - 1 && v >= 0;
    } catch (const std::exception&) {
        return false;
    }
}

Result<RigDescription> load_rig(const std::filesystem::path& file, const std::filesystem::path& root) {
    std::ifstream in(file);
    if (!in) return fail(ErrorKind::BadInput, file.string() + ": cannot open the rig description");
    json j;
    try {
        j = json::parse(in);
    } catch (const json::parse_error& e) {
        // nlohmann reports a byte offset; turn it into line and column for the reader.
        std::ifstream again(file);
        std::string text((std::istreambuf_iterator<char>(again)), {});
        std::size_t line = 1, col = 1;
        for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
            if (text[i] == '\n') { ++line; col = 1; } else { ++col; }
        }
        return fail(ErrorKind::BadInput, file.string() + ":" + std::to_string(line) + ":" + std::to_string(col) +
                                             ": not valid JSON: " + e.what());
    } catch (const json::out_of_range& e) {
        // A number beyond a double (1e999) is out_of_range.406, not a parse_error: it escaped
        // load_rig and ended pumprig (tests/data/rigs_bad/number_overflow.json).
        return fail(ErrorKind::BadInput, file.string() + ": not valid JSON: " + e.what());
    }
    RigDescription rig;
    rig.file = file;
    try {
        ObjectReader top(j, "", file);
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
                rig.sim_args = args;
                s.mark("faults");
            }
            s.get("battery_pct", rig.simulator.battery_pct);
            s.get("variant", rig.simulator.variant);
            for (const char* key : {"defects", "meter_faults"}) {
                if (!s.has(key)) continue;
                const auto& list = j.at("simulator").at(key);
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
                        rig.simulator.defects.push_back(item);
                    } else {
                        if (!is_meter_fault(item)) throw s.error(where, "zero_drift, air_bursts or frozen, optionally =NUMBER");
                        rig.simulator.meter_faults.push_back(item);
                    }
                }
                s.mark(key);
            }
            s.finish();
        }

        {
            auto p = top.child("pump");
            std::string backend = "termios", parity = "none";
            p.get("backend", backend);
            if (backend == "termios") rig.pump.backend = PumpLinkConfig::Backend::Termios;
            else if (backend == "serialport") rig.pump.backend = PumpLinkConfig::Backend::Serialport;
            else if (backend == "tcp") rig.pump.backend = PumpLinkConfig::Backend::Tcp;
            else throw p.error(p.pointer() + "/backend", "\"serialport\" (serial hardware), \"termios\" (pseudo-terminal) or \"tcp\" (ser2net)");
            p.get("device", rig.pump.device);
            p.get("baud", rig.pump.baud);
            p.get("parity", parity);
            rig.pump.parity = parity_of(parity, p, "parity");
            p.get("stop_bits", rig.pump.stop_bits);
            p.get("host", rig.pump.host);
            p.get("port", rig.pump.port);
            p.get("response_timeout_ms", rig.pump.response_timeout_ms);
            p.get("retries", rig.pump.retries);
            require_range(p, "stop_bits", rig.pump.stop_bits, 1, 2, "stop bits");
            require_range(p, "response_timeout_ms", rig.pump.response_timeout_ms, 1, 60'000, "a response timeout in ms");
            require_range(p, "retries", rig.pump.retries, 0, 10, "re-sends after a timeout");
            static const std::set<int> bauds{9600, 19200, 38400, 57600, 115200};
            if (!bauds.count(rig.pump.baud)) throw p.error(p.pointer() + "/baud", "9600, 19200, 38400, 57600 or 115200 (pump ICD section 1)");
            if (!rig.simulator.enabled) {
                if (rig.pump.backend == PumpLinkConfig::Backend::Tcp) {
                    if (rig.pump.host.empty()) throw p.error(p.pointer() + "/host", "the host of the ser2net server");
                    if (rig.pump.port <= 0 || rig.pump.port > 65535) throw p.error(p.pointer() + "/port", "a TCP port 1 to 65535");
                } else if (rig.pump.device.empty()) {
                    throw p.error(p.pointer() + "/device", "the serial device path, e.g. /dev/ttyUSB0");
                }
            }
            auto k = p.child("key");
            k.get("env", rig.key.env);
            k.get("file", rig.key.file);
            k.get("test_key", rig.key.test_key);
            k.finish();
            if (!rig.key.file.empty()) rig.key.file = resolve(rig.key.file, root).string();
            if (rig.key.env.empty() && rig.key.file.empty() && !rig.key.test_key)
                throw p.error(p.pointer() + "/key", "one of \"env\", \"file\" or \"test_key\": true");
            p.finish();
        }

        {
            auto m = top.child("meter");
            std::string link = "rtu", parity = "even", profile = "fixtures/meters/lf-2000.json";
            m.get("link", link);
            if (link == "rtu") rig.meter.kind = MeterLinkConfig::Kind::Rtu;
            else if (link == "tcp") rig.meter.kind = MeterLinkConfig::Kind::Tcp;
            else throw m.error(m.pointer() + "/link", "\"rtu\" or \"tcp\"");
            m.get("device", rig.meter.device);
            m.get("baud", rig.meter.baud);
            m.get("parity", parity);
            rig.meter.parity = parity_of(parity, m, "parity");
            m.get("data_bits", rig.meter.data_bits);
            m.get("stop_bits", rig.meter.stop_bits);
            m.get("host", rig.meter.host);
            m.get("port", rig.meter.port);
            m.get("unit_id", rig.meter.unit_id);
            m.get("response_timeout_ms", rig.meter.response_timeout_ms);
            m.get("profile", profile);
            rig.meter.profile = resolve(profile, root);
            require_range(m, "data_bits", rig.meter.data_bits, 7, 8, "data bits");
            require_range(m, "stop_bits", rig.meter.stop_bits, 1, 2, "stop bits");
            require_range(m, "baud", rig.meter.baud, 1200, 115200, "a baud rate");
            require_range(m, "port", rig.meter.port, 1, 65535, "a TCP port");
            require_range(m, "response_timeout_ms", rig.meter.response_timeout_ms, 1, 60'000, "a response timeout in ms");
            if (rig.meter.unit_id < 1 || rig.meter.unit_id > 247) throw m.error(m.pointer() + "/unit_id", "a Modbus unit id 1 to 247");
            if (!rig.simulator.enabled) {
                if (rig.meter.kind == MeterLinkConfig::Kind::Rtu && rig.meter.device.empty())
                    throw m.error(m.pointer() + "/device", "the RS-485 adapter's device path");
                if (rig.meter.kind == MeterLinkConfig::Kind::Tcp && rig.meter.host.empty())
                    throw m.error(m.pointer() + "/host", "the Modbus TCP gateway's host");
            }
            m.finish();
        }
        top.finish();
    } catch (const std::runtime_error& e) {
        return fail(ErrorKind::BadInput, e.what());
    } catch (const json::exception& e) {
        return fail(ErrorKind::BadInput, file.string() + ": " + e.what());
    }
    return rig;
}

}  // namespace pumprig::bench
