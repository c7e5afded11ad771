// libserialport backend: serial hardware (USB adapters, on-board UARTs). It cannot open
// pseudo-terminals (docs/platform.md), so on this machine only its error path is testable;
// the simulated bench uses the termios backend.
#include <libserialport.h>

#include "transport/byte_stream.hpp"

namespace pumprig::transport {
namespace {

constexpr unsigned kWriteTimeoutMs = 2000;  // see kWriteStallLimit in posix_streams.cpp

std::string sp_message(sp_return rc) {
    if (rc == SP_ERR_FAIL) {
        char* text = sp_last_error_message();
        std::string out = text != nullptr ? text : "failed";
        sp_free_error_message(text);
        // libserialport keeps the OS text's trailing newline.
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
        return out;
    }
    switch (rc) {
        case SP_ERR_ARG: return "invalid argument";
        case SP_ERR_MEM: return "out of memory";
        case SP_ERR_SUPP: return "not supported by this port";
        default: return "error " + std::to_string(static_cast<int>(rc));
    }
}

class SerialPortStream final : public ByteStream {
public:
    SerialPortStream(sp_port* port, std::string description) : port_(port), description_(std::move(description)) {}
    ~SerialPortStream() override { release(); }
    SerialPortStream(const SerialPortStream&) = delete;
    SerialPortStream& operator=(const SerialPortStream&) = delete;

    Result<void> write(std::string_view bytes) override {
        if (port_ == nullptr) return lost("the link was closed earlier");
        const auto rc = sp_blocking_write(port_, bytes.data(), bytes.size(), kWriteTimeoutMs);
        if (rc < 0) return lost("write failed: " + sp_message(rc));
        if (static_cast<std::size_t>(rc) < bytes.size())
            return fail(ErrorKind::Timeout, "write to " + description_ + " stalled: the port does not drain");
        return {};
    }

    Result<std::string> read_some(std::chrono::milliseconds timeout) override {
        if (port_ == nullptr) return lost("the link was closed earlier");
        char buf[4096];
        // A timeout of 0 means "wait forever" to sp_blocking_read_next: use the non-blocking
        // read for a zero wait.
        sp_return rc = timeout.count() > 0
                           ? sp_blocking_read_next(port_, buf, sizeof buf, static_cast<unsigned>(timeout.count()))
                           : sp_nonblocking_read(port_, buf, sizeof buf);
        if (rc < 0) return lost("read failed: " + sp_message(rc));
        std::string out(buf, static_cast<std::size_t>(rc));
        if (rc > 0) {
            // Take what else is already waiting, without waiting again.
            const auto more = sp_nonblocking_read(port_, buf, sizeof buf);
            if (more > 0) out.append(buf, static_cast<std::size_t>(more));
        }
        return out;
    }

    void flush_input() override {
        if (port_ != nullptr) sp_flush(port_, SP_BUF_INPUT);
    }

    std::string describe() const override { return description_; }

private:
    void release() {
        if (port_ == nullptr) return;
        sp_close(port_);
        sp_free_port(port_);
        port_ = nullptr;
    }
    std::unexpected<Error> lost(const std::string& why) {
        release();
        return fail(ErrorKind::LinkLost, description_ + ": " + why);
    }

    sp_port* port_;
    std::string description_;
};

}  // namespace

Result<std::unique_ptr<ByteStream>> open_serialport(const std::string& path, const SerialSettings& s) {
    const std::string where = "serial:" + path;
    sp_port* port = nullptr;
    if (const auto rc = sp_get_port_by_name(path.c_str(), &port); rc != SP_OK)
        return fail(ErrorKind::LinkLost,
                    "cannot open " + where + ": " + sp_message(rc) +
                        " (libserialport finds ports under /sys/class/tty; use the termios backend for a pseudo-terminal)");
    if (const auto rc = sp_open(port, SP_MODE_READ_WRITE); rc != SP_OK) {
        const auto why = sp_message(rc);
        sp_free_port(port);
        return fail(ErrorKind::LinkLost, "cannot open " + where + ": " + why);
    }
    const sp_parity parity = s.parity == 'E' ? SP_PARITY_EVEN : s.parity == 'O' ? SP_PARITY_ODD : SP_PARITY_NONE;
    sp_return rc = SP_OK;
    if (rc == SP_OK) rc = sp_set_baudrate(port, s.baud);
    if (rc == SP_OK) rc = sp_set_bits(port, s.data_bits);
    if (rc == SP_OK) rc = sp_set_parity(port, parity);
    if (rc == SP_OK) rc = sp_set_stopbits(port, s.stop_bits);
    if (rc == SP_OK) rc = sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE);
    if (rc != SP_OK) {
        const auto why = sp_message(rc);
        sp_close(port);
        sp_free_port(port);
        return fail(ErrorKind::LinkLost, "cannot configure " + where + ": " + why);
    }
    sp_flush(port, SP_BUF_INPUT);
    return std::make_unique<SerialPortStream>(port, where);
}

}  // namespace pumprig::transport
