// Test support for the simulated pump: a host side that speaks the ICD through the lead's
// codec, so every test goes through real frames, byte for byte.
#pragma once
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "pump/codec/frame.hpp"
#include "pump/codec/messages.hpp"
#include "pump/sim/pump_model.hpp"

namespace pumprig::pump::sim::test {

using namespace std::chrono_literals;

inline std::string hmac_hex(std::string_view text) {
    const PumpKey key = itb_test_key();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
         text.size(), out, &len);
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string s;
    for (unsigned int i = 0; i < len; ++i) {
        s += hex[out[i] >> 4];
        s += hex[out[i] & 15];
    }
    return s;
}

// Bodies of the lines in a chunk of pump output (CRC checked by the codec).
inline std::vector<std::string> bodies(const std::string& bytes) {
    codec::FrameDecoder d;
    d.feed(bytes);
    std::vector<std::string> out;
    while (auto line = d.next()) {
        REQUIRE(line->status == codec::DecodedLine::Status::Ok);
        out.push_back(line->body);
    }
    return out;
}

inline std::vector<codec::Event> events_in(const std::string& bytes) {
    std::vector<codec::Event> out;
    for (const auto& b : bodies(bytes))
        if (codec::classify(b) == codec::LineKind::Event) out.push_back(*codec::parse_event(b));
    return out;
}

inline std::vector<std::string> event_types(const std::string& bytes) {
    std::vector<std::string> out;
    for (const auto& e : events_in(bytes)) out.push_back(e.type);
    return out;
}

// An event as "type=...,key=value..." (without n and t), for compact comparisons.
inline std::string summary(const codec::Event& e) {
    std::string out;
    for (const auto& [k, v] : e.values.values) {
        if (k == "n" || k == "t") continue;
        if (!out.empty()) out += ',';
        out += k + "=" + v;
    }
    return out;
}

// The pump clock text at an offset from the default power-on epoch.
inline std::string pump_time(Millis since_epoch) {
    const auto ms = (kDefaultVirtualEpoch + since_epoch).time_since_epoch().count();
    const std::string frac = std::to_string(ms % 1000);
    return std::to_string(ms / 1000) + "." + std::string(3 - frac.size(), '0') + frac;
}

struct Host {
    PumpModel pump;
    std::uint32_t seq = 100;
    std::string last_output;  // everything the last request brought out (events included)
    std::set<std::pair<std::uint32_t, std::string>> seen;  // events counted once: (EVSEQ, PUMPTIME)

    // Events in bytes not seen before (resends of earlier ones left out).
    std::vector<codec::Event> fresh(const std::string& bytes) {
        std::vector<codec::Event> out;
        for (auto& e : events_in(bytes))
            if (seen.insert({e.n, e.t_text}).second) {
                to_ack.push_back(e.n);
                out.push_back(std::move(e));
            }
        return out;
    }
    std::vector<std::uint32_t> to_ack;
    // EVACK every event seen so far, as a host does (keeps long runs free of resends).
    void ack_all() {
        for (auto n : std::exchange(to_ack, {})) REQUIRE(code("EVACK,n=" + std::to_string(n)) == "OK");
        fresh(last_output);
    }
    std::vector<std::string> fresh_summaries(const std::string& bytes) {
        std::vector<std::string> out;
        for (const auto& e : fresh(bytes)) out.push_back(summary(e));
        return out;
    }

    explicit Host(PumpModelConfig config = {}, BenchTime power_on = kDefaultVirtualEpoch)
        : pump(std::move(config), power_on) {
        fresh(pump.take_output());  // the power-on BOOT: seen, so its resends are not new
    }

    // Sends one request (body without SEQ) and returns the response body (events kept in
    // last_output).
    std::string ask(const std::string& verb_and_args) {
        const std::string body = std::to_string(++seq) + "," + verb_and_args;
        pump.receive(codec::encode_frame(body));
        last_output = pump.take_output();
        std::string response;
        for (const auto& b : bodies(last_output))
            if (codec::classify(b) == codec::LineKind::Response) response = b;
        return response;
    }
    // The response without its SEQ: "OK", "OK,t=...", "ERR,code=STATE,msg=..."
    std::string ask_plain(const std::string& verb_and_args) {
        const auto r = ask(verb_and_args);
        return r.substr(r.find(',') + 1);
    }
    // The error code of the response, or "OK".
    std::string code(const std::string& verb_and_args) {
        const auto r = codec::parse_response(ask(verb_and_args));
        REQUIRE(r.has_value());
        return r->ok ? "OK" : r->code;
    }
    std::string value(const std::string& verb_and_args, std::string_view key) {
        const auto r = codec::parse_response(ask(verb_and_args));
        REQUIRE(r.has_value());
        const auto v = r->values.get(key);
        REQUIRE(v.has_value());
        return std::string(*v);
    }

    void login() {
        const auto nonce = value("HELLO", "nonce");
        REQUIRE(code("AUTH,mac=" + hmac_hex(nonce + ":" + "SIM0001")) == "OK");
    }
    // Logged in, refilled, a one-step program committed (not started).
    void ready(const std::string& res_ml = "20.000", const std::string& conc = "500",
               const std::string& dose_ug_day = "500.0") {
        login();
        REQUIRE(code("REFILL,res_ml=" + res_ml + ",conc_ug_ml=" + conc) == "OK");
        fresh(last_output);  // a reservoir alarm the refill may set
        REQUIRE(code("PROG.BEGIN") == "OK");
        REQUIRE(code("PROG.STEP,start=00:00,dose_ug_day=" + dose_ug_day) == "OK");
        REQUIRE(code("PROG.COMMIT") == "OK");
    }
    std::string status(std::string_view key) { return value("STATUS", key); }

    // Advance and return what the pump sent meanwhile.
    std::string advance(Millis dt) {
        pump.advance(dt);
        return pump.take_output();
    }
};

}  // namespace pumprig::pump::sim::test
