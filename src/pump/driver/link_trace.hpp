// The wire trace of the pump link, tapped at the link itself: TracedLink wraps the transport
// (below anything of pumprig's that adds, holds back or repeats frames, such as the bench's
// probes), so the trace holds exactly the bytes written to and read from the device. What pumprig
// decides on its own is traced apart, as a note, never as bytes of either direction.
// The one secret on the wire, the AUTH mac, is scrubbed here and in the driver's own texts by
// one SecretScrubber (docs/record.md, "trace.log").
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "transport/byte_stream.hpp"

namespace pumprig::pump {

// The AUTH macs sent on a link (the last few), replaced by <redacted> wherever they appear,
// and so is any other run of exactly 64 hexadecimal digits (a mac's shape; no ICD field has it).
class SecretScrubber {
public:
    void remember(std::string mac);
    void scrub(std::string& text) const;

private:
    std::vector<std::string> macs_;
};

enum class TraceKind {
    Sent,      // bytes written to the device
    Received,  // bytes read from the device
    Note,      // pumprig's own account of what it did on the link (not bytes on the wire)
};
using TraceSink = std::function<void(TraceKind, std::string_view)>;

class TracedLink final : public transport::ByteStream {
public:
    // `secrets` is shared with the driver that computes the macs (DriverOptions::secrets).
    TracedLink(std::unique_ptr<transport::ByteStream> inner, TraceSink sink, std::shared_ptr<const SecretScrubber> secrets);

    Result<void> write(std::string_view bytes) override;
    Result<std::string> read_some(std::chrono::milliseconds timeout) override;
    void flush_input() override { inner_->flush_input(); }
    std::string describe() const override { return inner_->describe(); }

    // A line of pumprig's own in the trace (scrubbed too), after what was read before it.
    void note(std::string_view text);

private:
    void emit_received(bool flush);

    std::unique_ptr<transport::ByteStream> inner_;
    TraceSink sink_;
    std::shared_ptr<const SecretScrubber> secrets_;
    std::string received_pending_;  // read but not yet traced: a trailing run of hex digits
};

}  // namespace pumprig::pump
