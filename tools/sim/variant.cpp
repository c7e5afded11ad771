#include "variant.hpp"

#include <algorithm>
#include <functional>

#include "pump/codec/fields.hpp"
#include "pump/codec/messages.hpp"

namespace pumprig::sim {

using namespace pump::codec;

namespace {

// Deterministic choice from a line's text: the same line is always transformed the same way.
std::uint64_t line_hash(std::string_view s, std::uint64_t salt) {
    std::uint64_t h = 1469598103934665603ULL ^ salt;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return h;
}

std::string frame_with_crc(const std::string& body, bool lower) {
    std::string f = encode_frame(body);
    if (lower) {
        const auto star = f.rfind('*');
        for (std::size_t i = star + 1; i < f.size(); ++i) f[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(f[i])));
    }
    return f;
}

// "0.500" -> "0.5" or "0.500000": the same number, other text.
std::string redecimal(const std::string& v, bool longer) {
    const auto dot = v.find('.');
    if (dot == std::string::npos) return v;
    if (longer) {
        std::string out = v;
        while (out.size() - dot - 1 < 6) out += '0';
        return out;
    }
    std::string out = v;
    while (out.size() > dot + 2 && out.back() == '0') out.pop_back();
    return out;
}

}  // namespace

VariantLink::VariantLink(std::uint64_t seed) : rng_(seed ^ 0x5EED5EEDULL) {}

VariantLink::FromHost VariantLink::from_host(std::string_view bytes) {
    FromHost out;
    from_host_.feed(bytes);
    while (auto line = from_host_.next()) {
        if (line->status == DecodedLine::Status::Ok) {
            if (auto req = parse_request(line->body)) {
                // BUSY now and then ("try again after 1 s"), never for RESET (it would be re-sent
                // after the pump had forgotten its SEQ: harmless, but it hides the BOOT case).
                if (req->verb != "RESET" && std::uniform_int_distribution<int>(0, 99)(rng_) < 3) {
                    out.reply += encode_frame(std::to_string(req->seq) + ",ERR,code=BUSY");
                    ++counters_.busy;
                    continue;
                }
                if (req->verb == "RESET") reset_seqs_.push_back(req->seq);
            }
        }
        out.to_model += line->raw + "\r\n";
    }
    return out;
}

std::string VariantLink::transform(const std::string& body, bool is_event) {
    auto fields = split_fields(body);
    if (!fields) return body;
    const std::uint64_t h = line_hash(body, 0);
    bool changed = false;
    if (h % 3 == 0) {  // decimals, all numbers of the line the same way
        const bool longer = (h / 3) % 2 == 0;
        for (auto& [k, v] : fields->values) {
            if (is_event && k == "t") continue;  // keep t as the pump stamps it (duplicates compare it)
            if (k == "msg" || k == "nonce" || k == "sn" || k == "fw" || k == "model") continue;
            if (v.find('.') != std::string::npos && parse_decimal(v)) {
                const auto nv = redecimal(v, longer);
                if (nv != v) {
                    v = nv;
                    changed = true;
                }
            }
        }
        if (changed) ++counters_.reformatted;
    }
    for (auto& [k, v] : fields->values) {
        if (k == "alarms" && v.find('+') != std::string::npos) {
            std::vector<std::string> parts;
            std::size_t pos = 0, plus;
            while ((plus = v.find('+', pos)) != std::string::npos) {
                parts.push_back(v.substr(pos, plus - pos));
                pos = plus + 1;
            }
            parts.push_back(v.substr(pos));
            std::reverse(parts.begin(), parts.end());
            std::string nv;
            for (const auto& p : parts) nv += (nv.empty() ? "" : "+") + p;
            v = nv;
            ++counters_.reordered_alarms;
            changed = true;
        }
    }
    if ((h >> 8) % 2 == 0) {  // a key later firmware might add
        fields->values.emplace_back("x_diag", std::to_string((h >> 16) % 1000));
        ++counters_.extra_keys;
        changed = true;
    }
    if (!changed) return body;
    auto out = fields->join();
    return is_valid_body(out) ? out : body;
}

VariantLink::ToHost VariantLink::to_host(std::string_view model_output) {
    ToHost out;
    from_model_.feed(model_output);
    while (auto line = from_model_.next()) {
        if (line->status != DecodedLine::Status::Ok) {
            out.bytes += line->raw + "\r\n";
            continue;
        }
        const bool is_event = classify(line->body) == LineKind::Event;
        if (!is_event) {
            if (auto resp = parse_response(line->body)) {
                auto it = std::find(reset_seqs_.begin(), reset_seqs_.end(), resp->seq);
                if (it != reset_seqs_.end() && resp->ok) {
                    reset_seqs_.erase(it);
                    ++counters_.dropped_reset_ok;  // the BOOT event alone confirms the RESET
                    continue;
                }
            }
        }
        const std::string body = transform(line->body, is_event);
        const bool lower = line_hash(line->body, 7) % 4 == 0;
        if (lower) ++counters_.lower_crc;
        const std::string frame = frame_with_crc(body, lower);
        if (is_event) {
            const std::uint64_t h = line_hash(line->body, 11);
            if (h % 5 == 0 && held_.size() < 3) {  // held back, to come in a burst
                held_.push_back(frame);
                ++counters_.held_events;
                continue;
            }
            recent_events_.push_back(frame);
            if (recent_events_.size() > 8) recent_events_.erase(recent_events_.begin());
        }
        // A held burst goes out before the next line, responses included: events may come
        // between a request and its response.
        for (const auto& held : held_) out.bytes += held;
        held_.clear();
        out.bytes += frame;
        if (!is_event) {
            if (std::uniform_int_distribution<int>(0, 99)(rng_) < 5 && !recent_events_.empty()) {
                out.bytes += recent_events_[std::uniform_int_distribution<std::size_t>(0, recent_events_.size() - 1)(rng_)];
                ++counters_.repeated_events;
            }
            if (std::uniform_int_distribution<int>(0, 99)(rng_) < 3) {
                out.delay_ms = std::max(out.delay_ms, std::uniform_int_distribution<int>(60, 90)(rng_));
                ++counters_.slowed;
            }
        }
    }
    return out;
}

}  // namespace pumprig::sim
