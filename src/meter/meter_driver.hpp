// The host side of the flow meter: libmodbus over RTU (serial adapter or pseudo-terminal) or
// TCP (an RTU-to-TCP gateway), with the register map taken from a MeterProfile.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "core/units.hpp"
#include "meter/profile.hpp"

typedef struct _modbus modbus_t;  // libmodbus context, kept out of this header

namespace pumprig::meter {

struct MeterLink {
    enum Kind { Rtu, Tcp };
    Kind kind = Rtu;
    std::string device;  // RTU: serial device path
    int baud = 19200;
    char parity = 'E';   // 'N', 'E' or 'O'
    int data_bits = 8;
    int stop_bits = 1;
    std::string host;    // TCP: host name or address
    int port = 502;
    int unit_id = 1;
    Millis response_timeout{100};
    int retries = 2;     // extra attempts after a timeout or a corrupt answer
    // Further attempts when the link is alive but noisy (it answered the last call, or answers
    // this one damaged): a read is cheap next to a missing sample (docs/reliability.md).
    int noise_retries = 5;
};

// What a run record wants to know about the meter link.
struct MeterCounters {
    std::uint64_t reads = 0;    // successful block reads
    std::uint64_t retries = 0;  // attempts repeated after a timeout or a corrupt answer
    std::uint64_t errors = 0;   // calls that failed after their retries
};

class MeterDriver {
public:
    static Result<MeterDriver> open(const MeterLink& link, MeterProfile profile);

    MeterDriver(MeterDriver&&) noexcept;
    MeterDriver& operator=(MeterDriver&&) noexcept;
    ~MeterDriver();

    // One request for the profile's contiguous block: one measurement, consistent.
    Result<MeterReading> read();
    Result<void> reset_total();
    Result<void> set_filter(Millis filter);
    Result<void> set_zero_trim(FlowRate trim);
    // Function 17; checks the profile's identification prefix, returns the meter's text.
    Result<std::string> identify();

    // "RTU /dev/pts/3 19200 8N1 unit 1" or "TCP 127.0.0.1:1502 unit 1" (plus notes).
    std::string describe() const;
    const MeterProfile& profile() const { return profile_; }
    const MeterCounters& counters() const { return counters_; }

private:
    struct ContextDeleter {
        void operator()(modbus_t* ctx) const;
    };
    MeterDriver(std::unique_ptr<modbus_t, ContextDeleter> ctx, MeterLink link, MeterProfile profile,
                std::string note);

    // Runs one Modbus call with the retry policy; `what` names the request in errors.
    template <class Call>
    Result<int> transact(const std::string& what, Call&& call);
    void drop_late_answers();  // waits out answers still on their way, and drops them
    Result<void> write_field(const Field& field, double value, const std::string& what);
    Result<void> write_setting(const SettingField& field, double value, const std::string& what);

    std::unique_ptr<modbus_t, ContextDeleter> ctx_;
    MeterLink link_;
    MeterProfile profile_;
    std::string note_;  // e.g. parity not applied on a pseudo-terminal
    MeterCounters counters_;
    bool reconnect_ = false;  // the link failed: reopen it before the next request
    // The last request failed (timeout, bad CRC, framing): its answer may still come, so the
    // buffers are flushed right before the next request. After a good answer there is nothing
    // to drop, and a flush per request would cost a syscall on every sample.
    bool flush_before_next_ = false;
    bool answered_last_ = false;  // the last call got an answer (a reading or an exception)
};

// True when path names a pseudo-terminal slave (socat links are followed).
bool is_pseudo_terminal(const std::string& path);

}  // namespace pumprig::meter
