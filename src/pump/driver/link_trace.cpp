#include "pump/driver/link_trace.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace pumprig::pump {
namespace {

constexpr std::size_t kMacDigits = 64;  // an AUTH mac: HMAC-SHA256 in hexadecimal
constexpr std::size_t kMacsKept = 4;
constexpr std::string_view kRedacted = "<redacted>";

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

void SecretScrubber::remember(std::string mac) {
    if (macs_.size() >= kMacsKept) macs_.erase(macs_.begin());
    macs_.push_back(std::move(mac));
}

void SecretScrubber::scrub(std::string& text) const {
    for (const auto& mac : macs_) {
        auto same = [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == std::toupper(static_cast<unsigned char>(b)); };
        for (auto at = std::search(text.begin(), text.end(), mac.begin(), mac.end(), same); at != text.end();
             at = std::search(text.begin(), text.end(), mac.begin(), mac.end(), same)) {
            const auto pos = static_cast<std::size_t>(at - text.begin());
            text.replace(pos, mac.size(), kRedacted);
        }
    }
    // Any other run of exactly 64 hexadecimal digits reads as a mac too (one a pump computed
    // itself, before pumprig did): no field of the ICD has that shape (a nonce has 16).
    for (std::size_t i = 0; i < text.size();) {
        if (!is_hex(text[i])) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < text.size() && is_hex(text[end])) ++end;
        if (end - i == kMacDigits) {
            text.replace(i, kMacDigits, kRedacted);
            end = i + kRedacted.size();
        }
        i = end;
    }
}

TracedLink::TracedLink(std::unique_ptr<transport::ByteStream> inner, TraceSink sink, std::shared_ptr<const SecretScrubber> secrets)
    : inner_(std::move(inner)), sink_(std::move(sink)), secrets_(std::move(secrets)) {
    if (!inner_) throw std::invalid_argument("TracedLink needs a byte stream");
    if (!secrets_) secrets_ = std::make_shared<SecretScrubber>();
}

Result<void> TracedLink::write(std::string_view bytes) {
    auto w = inner_->write(bytes);
    // Bytes that did not go out (a lost link) are not in the trace.
    if (w && sink_) {
        emit_received(true);  // what came before this write, in order
        std::string shown(bytes);
        secrets_->scrub(shown);
        sink_(TraceKind::Sent, shown);
    }
    return w;
}

Result<std::string> TracedLink::read_some(std::chrono::milliseconds timeout) {
    auto got = inner_->read_some(timeout);
    if (got && !got->empty() && sink_) {
        received_pending_ += *got;
        emit_received(false);
    }
    return got;
}

void TracedLink::note(std::string_view text) {
    if (!sink_) return;
    emit_received(true);
    std::string shown(text);
    secrets_->scrub(shown);
    sink_(TraceKind::Note, shown);
}

void TracedLink::emit_received(bool flush) {
    // A mac may arrive split over two reads: a trailing run of hexadecimal digits (up to a mac's
    // length) waits for the next read, write or note before it is traced, scrubbed.
    std::size_t keep = 0;
    if (!flush)
        while (keep < received_pending_.size() && keep < kMacDigits && is_hex(received_pending_[received_pending_.size() - 1 - keep]))
            ++keep;
    if (keep == received_pending_.size()) return;
    std::string ready = received_pending_.substr(0, received_pending_.size() - keep);
    received_pending_.erase(0, ready.size());
    secrets_->scrub(ready);
    sink_(TraceKind::Received, ready);
}

}  // namespace pumprig::pump
