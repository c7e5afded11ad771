// An in-memory fake pump behind the ByteStream interface, scripted per test. Reads never
// wait: an empty read is "nothing came in time", so retries and timeouts run without sleeping
// and without asserting on time.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pump/codec/frame.hpp"
#include "pump/codec/messages.hpp"
#include "transport/byte_stream.hpp"

namespace pumprig::pump::testing {

struct FakePumpState {
    // Every write() of the driver, byte for byte.
    std::vector<std::string> writes;
    // Chunks the host will read, in order.
    std::deque<std::string> to_host;
    // Every chunk the host did read, byte for byte.
    std::vector<std::string> served;
    // After to_host runs dry: reads fail with LinkLost.
    bool hung_up = false;
    // Called for every frame the fake decodes from the host (bad-CRC frames included).
    std::function<void(const codec::DecodedLine&, FakePumpState&)> on_frame;

    void reply(const std::string& body) { to_host.push_back(codec::encode_frame(body)); }
    void reply(std::uint32_t seq, const std::string& rest) { reply(std::to_string(seq) + "," + rest); }
    // Bodies the host sent, in order (parsed from the writes).
    std::vector<std::string> sent_bodies() const {
        codec::FrameDecoder d;
        std::vector<std::string> out;
        for (const auto& w : writes) {
            d.feed(w);
            while (auto l = d.next()) out.push_back(l->body);
        }
        return out;
    }
};

class FakePumpStream final : public transport::ByteStream {
public:
    explicit FakePumpStream(std::shared_ptr<FakePumpState> state) : state_(std::move(state)) {}

    Result<void> write(std::string_view bytes) override {
        state_->writes.emplace_back(bytes);
        decoder_.feed(bytes);
        while (auto line = decoder_.next())
            if (state_->on_frame) state_->on_frame(*line, *state_);
        return {};
    }
    Result<std::string> read_some(std::chrono::milliseconds) override {
        if (state_->to_host.empty()) {
            if (state_->hung_up) return fail(ErrorKind::LinkLost, "fake pump hung up");
            return std::string{};
        }
        std::string out = std::move(state_->to_host.front());
        state_->to_host.pop_front();
        state_->served.push_back(out);
        return out;
    }
    void flush_input() override { state_->to_host.clear(); }
    std::string describe() const override { return "fake:pump"; }

private:
    std::shared_ptr<FakePumpState> state_;
    codec::FrameDecoder decoder_;
};

inline std::uint32_t seq_of(const codec::DecodedLine& line) {
    const auto r = codec::parse_request(line.body);
    return r ? r->seq : 0;
}
inline std::string verb_of(const codec::DecodedLine& line) {
    const auto r = codec::parse_request(line.body);
    return r ? r->verb : std::string{};
}

}  // namespace pumprig::pump::testing
