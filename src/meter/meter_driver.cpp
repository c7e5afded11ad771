#include "meter/meter_driver.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include <modbus/modbus.h>

namespace pumprig::meter {

namespace {

// Unix98 pseudo-terminal slaves use majors 136..143 (Documentation/admin-guide/devices.txt).
constexpr unsigned kPtySlaveMajorFirst = 136, kPtySlaveMajorLast = 143;

// Modbus exceptions 01..0B come back as MODBUS_ENOBASE + code; EMBBADCRC and the other
// libmodbus errors follow right after (MODBUS_EXCEPTION_MAX is not an exception: it is EMBBADCRC).
bool is_exception(int err) { return err > MODBUS_ENOBASE && err <= EMBXGTAR; }

// Errors after which the same request may succeed: no answer, or an answer damaged on the way.
bool is_retryable(int err) {
    return err == ETIMEDOUT || err == EMBBADCRC || err == EMBBADDATA || err == EMBBADEXC ||
           err == EMBUNKEXC || err == EMBMDATA || err == EMBBADSLAVE || err == EAGAIN;
}

std::string exception_code(int err) {
    char code[32];
    std::snprintf(code, sizeof code, "MODBUS_EXCEPTION_%02d", err - MODBUS_ENOBASE);
    return code;
}

void set_timeout(modbus_t* ctx, Millis t, int (*setter)(modbus_t*, uint32_t, uint32_t)) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t).count();
    setter(ctx, static_cast<uint32_t>(us / 1000000), static_cast<uint32_t>(us % 1000000));
}

Result<void> check_link(const MeterLink& l) {
    auto bad = [](const std::string& m) { return fail(ErrorKind::BadInput, "meter link: " + m); };
    if (l.kind == MeterLink::Rtu) {
        if (l.device.empty()) return bad("RTU needs a serial device path");
        if (l.baud <= 0) return bad("expected a positive baud rate, got " + std::to_string(l.baud));
        if (l.parity != 'N' && l.parity != 'E' && l.parity != 'O')
            return bad(std::string("expected parity 'N', 'E' or 'O', got '") + l.parity + "'");
        if (l.data_bits < 5 || l.data_bits > 8) return bad("expected 5 to 8 data bits, got " + std::to_string(l.data_bits));
        if (l.stop_bits != 1 && l.stop_bits != 2) return bad("expected 1 or 2 stop bits, got " + std::to_string(l.stop_bits));
    } else {
        if (l.host.empty()) return bad("TCP needs a host");
        if (l.port <= 0 || l.port > 65535) return bad("expected a TCP port from 1 to 65535, got " + std::to_string(l.port));
    }
    // ICD 1: unit ids 1 to 247; 0 is broadcast, which the meter ignores.
    if (l.unit_id < 1 || l.unit_id > 247) return bad("expected a unit id from 1 to 247, got " + std::to_string(l.unit_id));
    if (l.response_timeout <= Millis{0}) return bad("expected a positive response timeout");
    if (l.retries < 0) return bad("expected retries >= 0, got " + std::to_string(l.retries));
    return {};
}

}  // namespace

bool is_pseudo_terminal(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) return false;
    const unsigned m = major(st.st_rdev);
    return m >= kPtySlaveMajorFirst && m <= kPtySlaveMajorLast;
}

void MeterDriver::ContextDeleter::operator()(modbus_t* ctx) const {
    modbus_close(ctx);
    modbus_free(ctx);
}

MeterDriver::MeterDriver(std::unique_ptr<modbus_t, ContextDeleter> ctx, MeterLink link, MeterProfile profile,
                         std::string note)
    : ctx_(std::move(ctx)), link_(std::move(link)), profile_(std::move(profile)), note_(std::move(note)) {}
MeterDriver::MeterDriver(MeterDriver&&) noexcept = default;
MeterDriver& MeterDriver::operator=(MeterDriver&&) noexcept = default;
MeterDriver::~MeterDriver() = default;

Result<MeterDriver> MeterDriver::open(const MeterLink& link, MeterProfile profile) {
    if (auto ok = check_link(link); !ok) return std::unexpected(ok.error());
    std::string note;
    modbus_t* raw = nullptr;
    if (link.kind == MeterLink::Rtu) {
        char parity = link.parity;
        int stop_bits = link.stop_bits;
        if (parity != 'N' && is_pseudo_terminal(link.device)) {
            // A pseudo-terminal carries bytes, not bits: parity is not emulated, and PARENB
            // fails to re-apply there with EINVAL (docs/platform.md). The frames are the same,
            // so use 8N1 and say so rather than fail the simulated bench.
            note = std::string("parity ") + parity + " not emulated on a pseudo-terminal: 8N1 used";
            parity = 'N';
            stop_bits = 1;
        }
        raw = modbus_new_rtu(link.device.c_str(), link.baud, parity, link.data_bits, stop_bits);
    } else {
        raw = modbus_new_tcp_pi(link.host.c_str(), std::to_string(link.port).c_str());
    }
    if (!raw) return fail(ErrorKind::BadInput, std::string("meter link: libmodbus refused the settings: ") + modbus_strerror(errno));
    std::unique_ptr<modbus_t, ContextDeleter> ctx(raw);
    modbus_set_slave(raw, link.unit_id);
    set_timeout(raw, link.response_timeout, modbus_set_response_timeout);
    set_timeout(raw, link.response_timeout, modbus_set_byte_timeout);
    MeterDriver driver(std::move(ctx), link, std::move(profile), std::move(note));
    if (modbus_connect(raw) != 0)
        return fail(ErrorKind::LinkLost, "cannot open the meter link " + driver.describe() + ": " + modbus_strerror(errno));
    modbus_flush(raw);
    return driver;
}

std::string MeterDriver::describe() const {
    std::string s;
    if (link_.kind == MeterLink::Rtu) {
        s = "RTU " + link_.device + " " + std::to_string(link_.baud) + " " + std::to_string(link_.data_bits) +
            link_.parity + std::to_string(link_.stop_bits);
    } else {
        s = "TCP " + link_.host + ":" + std::to_string(link_.port);
    }
    s += " unit " + std::to_string(link_.unit_id);
    if (!note_.empty()) s += " (" + note_ + ")";
    return s;
}

template <class Call>
Result<int> MeterDriver::transact(const std::string& what, Call&& call) {
    std::string last_error;
    if (reconnect_) {
        // The link failed last time: a TCP gateway or a re-plugged adapter may be back.
        modbus_close(ctx_.get());
        if (modbus_connect(ctx_.get()) != 0) {
            ++counters_.errors;
            return fail(ErrorKind::LinkLost, what + ": cannot reopen the meter link " + describe() + ": " + modbus_strerror(errno));
        }
        modbus_flush(ctx_.get());
        reconnect_ = false;
    }
    // A link that answered the last call, or answers this one damaged, is alive but noisy: a
    // few more attempts cost less than a missing sample. A dead link gets only `retries`.
    const bool alive = answered_last_;
    int damaged = 0;  // attempts answered, but not readably
    bool timed_out_before = false;
    int attempt = 0;
    for (; attempt <= link_.retries + (alive || damaged > 0 ? link_.noise_retries : 0); ++attempt) {
        if (attempt > 0) ++counters_.retries;
        // An answer that came after its request had timed out is still in the buffers: drop it,
        // or this request would take it for its own (the previous reading, a stale counter).
        if (std::exchange(flush_before_next_, false)) modbus_flush(ctx_.get());
        errno = 0;
        const int rc = call(ctx_.get());
        answered_last_ = rc >= 0;
        if (rc >= 0) {
            // After an attempt that timed out, the answer just taken may have been the late
            // answer to it, and this attempt's own may still come: the next request must not
            // take it. (After a damaged answer nothing more is on its way.)
            if (timed_out_before) drop_late_answers();
            return rc;
        }
        timed_out_before = timed_out_before || errno == ETIMEDOUT;
        flush_before_next_ = true;
        const int err = errno;
        last_error = modbus_strerror(err);
        if (is_exception(err)) {
            answered_last_ = true;
            ++counters_.errors;
            return fail(ErrorKind::DeviceError, "the meter refused " + what + " on " + describe() + ": " + last_error,
                        exception_code(err));
        }
        if (!is_retryable(err)) {
            ++counters_.errors;
            reconnect_ = true;
            return fail(ErrorKind::LinkLost, what + " on " + describe() + ": " + last_error);
        }
        if (err != ETIMEDOUT && err != EAGAIN) ++damaged;
        // Whatever half answer is in the buffers is dropped before the next attempt.
    }
    ++counters_.errors;
    return fail(ErrorKind::Timeout,
                "no valid answer from the meter on " + describe() + " to " + what + " after " +
                    std::to_string(attempt) + " attempts (last: " + last_error + ")");
}

void MeterDriver::drop_late_answers() {
    const int fd = modbus_get_socket(ctx_.get());
    const auto wait_ms = static_cast<int>(std::chrono::duration_cast<Millis>(link_.response_timeout).count());
    // Until the link has been quiet for a response timeout (a few rounds at most).
    for (int round = 0; fd >= 0 && round <= link_.retries; ++round) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, wait_ms) <= 0) return;
        modbus_flush(ctx_.get());
    }
}

Result<MeterReading> MeterDriver::read() {
    std::vector<std::uint16_t> regs(static_cast<std::size_t>(profile_.block_count));
    const int fn = profile_.block_function;
    auto rc = transact("a read of registers " + std::to_string(profile_.block_address) + ".." +
                           std::to_string(profile_.block_address + profile_.block_count - 1),
                       [&](modbus_t* ctx) {
                           return fn == 4 ? modbus_read_input_registers(ctx, profile_.block_address, profile_.block_count, regs.data())
                                          : modbus_read_registers(ctx, profile_.block_address, profile_.block_count, regs.data());
                       });
    if (!rc) return std::unexpected(rc.error());
    if (*rc != profile_.block_count) {
        ++counters_.errors;
        return fail(ErrorKind::Protocol, "the meter on " + describe() + " answered " + std::to_string(*rc) +
                                             " registers, expected " + std::to_string(profile_.block_count));
    }
    ++counters_.reads;
    return decode_reading(profile_, regs);
}

Result<void> MeterDriver::write_field(const Field& field, double value, const std::string& what) {
    std::array<std::uint16_t, 2> words{};
    field.encode(value, std::span(words).first(static_cast<std::size_t>(field.count())));
    auto rc = transact(what, [&](modbus_t* ctx) {
        return field.count() == 1 ? modbus_write_register(ctx, field.address, words[0])
                                  : modbus_write_registers(ctx, field.address, field.count(), words.data());
    });
    if (!rc) return std::unexpected(rc.error());
    return {};
}

Result<void> MeterDriver::write_setting(const SettingField& field, double value, const std::string& what) {
    // Checked here against the profile so a wrong value is named before it reaches the meter.
    const double raw = value / field.unit_factor / field.scale;
    const double steps = (raw - field.min_raw) / field.step_raw;
    const bool on_step = std::abs(steps - std::nearbyint(steps)) < 1e-6;
    if (raw < field.min_raw - 1e-9 || raw > field.max_raw + 1e-9 || !on_step) {
        char msg[256];
        std::snprintf(msg, sizeof msg, "%s: expected %g to %g %s in steps of %g, got %g %s", what.c_str(),
                      field.min_raw * field.scale, field.max_raw * field.scale, field.unit.c_str(),
                      field.step_raw * field.scale, raw * field.scale, field.unit.c_str());
        return fail(ErrorKind::BadInput, msg);
    }
    return write_field(field, value, what);
}

Result<void> MeterDriver::reset_total() {
    if (!profile_.command) return fail(ErrorKind::BadInput, profile_.source + ": the meter profile has no command register to reset the total");
    return write_field(*profile_.command, profile_.command->reset_total, "the total reset command");
}

Result<void> MeterDriver::set_filter(Millis filter) {
    if (!profile_.filter) return fail(ErrorKind::BadInput, profile_.source + ": the meter profile has no filter register");
    return write_setting(*profile_.filter, static_cast<double>(filter.count()), "the filter time");
}

Result<void> MeterDriver::set_zero_trim(FlowRate trim) {
    if (!profile_.zero_trim) return fail(ErrorKind::BadInput, profile_.source + ": the meter profile has no zero trim register");
    return write_setting(*profile_.zero_trim, trim.ul_per_h, "the zero trim");
}

Result<std::string> MeterDriver::identify() {
    std::array<std::uint8_t, MODBUS_MAX_PDU_LENGTH> buf{};
    auto rc = transact("report server id (function 17)", [&](modbus_t* ctx) {
        return modbus_report_slave_id(ctx, static_cast<int>(buf.size()), buf.data());
    });
    if (!rc) return std::unexpected(rc.error());
    const auto& id = profile_.identification;
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(*rc), buf.size());
    if (n < 2) {
        ++counters_.errors;
        return fail(ErrorKind::Protocol, "the meter on " + describe() + " answered function 17 with " +
                                             std::to_string(n) + " bytes, expected server id, run indicator and text");
    }
    std::string text(reinterpret_cast<const char*>(buf.data()) + 2, n - 2);
    if (buf[0] != id.server_id || !text.starts_with(id.prefix)) {
        ++counters_.errors;
        char expected[160];
        std::snprintf(expected, sizeof expected, "server id 0x%02X and text starting \"%s\"", id.server_id, id.prefix.c_str());
        char got[32];
        std::snprintf(got, sizeof got, "server id 0x%02X, text ", buf[0]);
        return fail(ErrorKind::Protocol,
                    "the device on " + describe() + " is not a " + profile_.make + ": expected " + expected,
                    {}, "function 17", got + ("\"" + text + "\""));
    }
    return text;
}

}  // namespace pumprig::meter
