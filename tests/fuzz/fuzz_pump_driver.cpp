// The pump driver facing a pump that answers anything: the input is a script of device lines.
// Line 1 names the calls the host makes (one letter each, see kCalls below); every later line
// is what the "pump" answers to the next frame the host writes, with '@' replaced by the SEQ of
// that request (so the fuzzer reaches the response parsers, not only the SEQ filter). A line
// starting with '~' is sent as raw bytes (noise, broken frames, bad CRCs). Reads never wait:
// an empty read is a timeout, so retries, BUSY and RESET run without wall time.
// Properties: no crash, no hang, and the AUTH mac never shows in a trace or an error.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "pump/codec/frame.hpp"
#include "pump/codec/messages.hpp"
#include "pump/driver/link_trace.hpp"
#include "pump/driver/pump_driver.hpp"
#include "pump/driver/pump_key.hpp"

using namespace pumprig;
using namespace pumprig::pump;

namespace {

struct Script {
    std::deque<std::string> replies;  // one per frame the host writes
    std::deque<std::string> to_host;  // bytes waiting to be read
    std::vector<std::string> macs;    // every AUTH mac the host computed, to look for leaks
};

class ScriptedPump final : public transport::ByteStream {
public:
    explicit ScriptedPump(Script& script) : script_(script) {}
    Result<void> write(std::string_view bytes) override {
        decoder_.feed(bytes);
        while (auto line = decoder_.next()) {
            const auto request = codec::parse_request(line->body);
            // The wire is the only place the mac may appear: note it, to look for it elsewhere.
            if (request && request->verb == "AUTH")
                if (auto mac = request->args.get("mac"); mac && !mac->empty()) script_.macs.emplace_back(*mac);
            if (script_.replies.empty()) continue;  // the pump says nothing more
            std::string reply = std::move(script_.replies.front());
            script_.replies.pop_front();
            const std::string seq = request ? std::to_string(request->seq) : "0";
            if (reply.starts_with("~")) {
                script_.to_host.push_back(reply.substr(1) + "\n");
                continue;
            }
            std::string body;
            for (char c : reply) {
                if (c == '@') body += seq;
                else body += c;
            }
            script_.to_host.push_back(codec::is_valid_body(body) ? codec::encode_frame(body) : body + "\r\n");
        }
        return {};
    }
    Result<std::string> read_some(std::chrono::milliseconds) override {
        if (script_.to_host.empty()) return std::string{};
        std::string out = std::move(script_.to_host.front());
        script_.to_host.pop_front();
        return out;
    }
    void flush_input() override { script_.to_host.clear(); }
    std::string describe() const override { return "fuzz:pump"; }

private:
    Script& script_;
    codec::FrameDecoder decoder_;
};

void no_mac_in(const Script& script, std::string_view text) {
    for (const auto& mac : script.macs) FUZZ_CHECK(text.find(mac) == std::string_view::npos);
}

template <class T>
void check_result(const Script& script, const Result<T>& r) {
    if (!r) no_mac_in(script, r.error().describe());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto first_newline = input.find('\n');
    const std::string_view calls = input.substr(0, std::min<std::size_t>(first_newline, 16));
    Script script;
    if (first_newline != std::string_view::npos) {
        std::string_view rest = input.substr(first_newline + 1);
        while (!rest.empty() && script.replies.size() < 512) {
            const auto nl = rest.find('\n');
            script.replies.emplace_back(rest.substr(0, nl));
            if (nl == std::string_view::npos) break;
            rest.remove_prefix(nl + 1);
        }
    }

    DriverOptions options;
    options.seed = 7;
    std::vector<std::string> trace;
    options.secrets = std::make_shared<SecretScrubber>();
    auto sink = [&](TraceKind, std::string_view bytes) { trace.emplace_back(bytes); };
    PumpDriver driver(std::make_unique<TracedLink>(std::make_unique<ScriptedPump>(script), sink, options.secrets), options);
    driver.set_wait_hook([](Millis) {});  // bench time passes instantly here

    // A made-up key (not the ICD's test key): only its mac matters, to look for leaks.
    const auto key = PumpKey::from_hex(std::string(64, 'A'));
    FUZZ_CHECK(key.has_value());

    for (char call : calls) {
        switch (call) {
        case 'h': check_result(script, driver.hello()); break;
        case 'a': check_result(script, driver.authenticate(*key)); break;
        case 's': check_result(script, driver.status()); break;
        case 'c': check_result(script, driver.clock()); break;
        case 'r': check_result(script, driver.prog_read()); break;
        case 't': check_result(script, driver.prog_read_step(1)); break;
        case 'b': check_result(script, driver.prog_read_bolus(1)); break;
        case 'p': check_result(script, driver.prog_read_ptm()); break;
        case 'm': check_result(script, driver.prog_commit()); break;
        case 'x': check_result(script, driver.reset()); break;
        case 'e': check_result(script, driver.poll_events(Millis{0})); break;
        case 'k': check_result(script, driver.start()); break;
        case 'f': check_result(script, driver.refill(20.0, 500)); break;
        default: break;
        }
    }
    for (const auto& ev : driver.take_events()) FUZZ_CHECK(!ev.event.type.empty());
    for (const auto& chunk : trace) no_mac_in(script, chunk);
    return 0;
}
