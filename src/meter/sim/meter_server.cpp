#include "meter/sim/meter_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>

#include <modbus/modbus.h>

namespace pumprig::meter::sim {

namespace {

// A half-sent frame must not stall the simulator's loop for libmodbus' default 0.5 s.
constexpr std::uint32_t kByteTimeoutUs = 200000;

struct Range {
    int start = 0, count = 0;
    void include(int first, int n) {
        if (count == 0) {
            start = first;
            count = n;
            return;
        }
        const int end = std::max(start + count, first + n);
        start = std::min(start, first);
        count = end - start;
    }
};

}  // namespace

MeterServer::MeterServer(Lf2000Model& model, int unit_id) : model_(model), unit_id_(unit_id) {
    const auto& p = model_.profile();
    Range holding, input;
    for (const Field* f : {p.command ? static_cast<const Field*>(&*p.command) : nullptr,
                           p.filter ? static_cast<const Field*>(&*p.filter) : nullptr,
                           p.zero_trim ? static_cast<const Field*>(&*p.zero_trim) : nullptr})
        if (f) holding.include(f->address, f->count());
    (p.block_function == 3 ? holding : input).include(p.block_address, p.block_count);
    holding_start_ = holding.start;
    holding_count_ = holding.count;
    mapping_ = modbus_mapping_new_start_address(0, 0, 0, 0, static_cast<unsigned>(holding.start),
                                                static_cast<unsigned>(holding.count),
                                                static_cast<unsigned>(input.start), static_cast<unsigned>(input.count));
}

MeterServer::~MeterServer() {
    for (int fd : clients_) ::close(fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    // modbus_free only: the RTU descriptor belongs to the caller, TCP sockets were closed above.
    if (rtu_) modbus_free(rtu_);
    if (tcp_) modbus_free(tcp_);
    if (mapping_) modbus_mapping_free(mapping_);
}

void MeterServer::reset_rtu_context() {
    if (rtu_) modbus_free(rtu_);
    // The device name is never opened: the context only frames bytes on rtu_fd_.
    rtu_ = modbus_new_rtu("/dev/null", 19200, 'N', 8, 1);
    if (!rtu_) return;
    modbus_set_slave(rtu_, unit_id_);
    modbus_set_socket(rtu_, rtu_fd_);
    modbus_set_byte_timeout(rtu_, 0, kByteTimeoutUs);
}

Result<void> MeterServer::serve_rtu(int fd) {
    if (fd < 0) return fail(ErrorKind::BadInput, "meter server: no file descriptor to serve RTU on");
    if (unit_id_ < 1 || unit_id_ > 247)
        return fail(ErrorKind::BadInput, "meter server: expected a unit id from 1 to 247, got " + std::to_string(unit_id_));
    rtu_fd_ = fd;
    reset_rtu_context();
    if (!rtu_) return fail(ErrorKind::Io, std::string("meter server: libmodbus RTU context: ") + modbus_strerror(errno));
    return {};
}

Result<int> MeterServer::serve_tcp(int port) {
    if (port < 0 || port > 65535) return fail(ErrorKind::BadInput, "meter server: expected a TCP port from 0 to 65535, got " + std::to_string(port));
    tcp_ = modbus_new_tcp("127.0.0.1", port);
    if (!tcp_) return fail(ErrorKind::Io, std::string("meter server: libmodbus TCP context: ") + modbus_strerror(errno));
    modbus_set_byte_timeout(tcp_, 0, kByteTimeoutUs);
    listen_fd_ = modbus_tcp_listen(tcp_, 8);
    if (listen_fd_ < 0)
        return fail(ErrorKind::Io, "meter server: cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + modbus_strerror(errno));
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return fail(ErrorKind::Io, "meter server: getsockname failed");
    tcp_port_ = ntohs(addr.sin_port);
    return tcp_port_;
}

std::vector<int> MeterServer::fds() const {
    std::vector<int> out;
    if (rtu_fd_ >= 0) out.push_back(rtu_fd_);
    if (listen_fd_ >= 0) out.push_back(listen_fd_);
    out.insert(out.end(), clients_.begin(), clients_.end());
    return out;
}

void MeterServer::on_readable(int fd) {
    std::array<std::uint8_t, MODBUS_TCP_MAX_ADU_LENGTH> req{};
    if (fd == rtu_fd_ && rtu_) {
        const int rc = modbus_receive(rtu_, req.data());
        if (rc > 0) {
            if (!before_answer_ || before_answer_(fd)) handle(rtu_, fd, req.data(), rc);
        } else if (rc == 0) {
            // libmodbus read a frame for another unit and now expects that unit's answer on the
            // bus, which it would swallow. A pseudo-terminal is point to point: no such answer
            // comes, so start afresh and treat the next frame as a request.
            ++stats_.ignored;
            reset_rtu_context();
        } else {
            ++stats_.bad_frames;  // the meter does not answer a bad CRC (ICD 1)
            modbus_flush(rtu_);
        }
        return;
    }
    if (fd == listen_fd_) {
        const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0) clients_.push_back(client);
        return;
    }
    if (std::find(clients_.begin(), clients_.end(), fd) == clients_.end() || !tcp_) return;
    modbus_set_socket(tcp_, fd);
    const int rc = modbus_receive(tcp_, req.data());
    if (rc > 0) {
        if (!before_answer_ || before_answer_(fd)) handle(tcp_, fd, req.data(), rc);
        return;
    }
    // Closed by the client, or a stream we can no longer frame: drop the connection.
    if (errno != ECONNRESET) ++stats_.bad_frames;
    ::close(fd);
    clients_.erase(std::remove(clients_.begin(), clients_.end(), fd), clients_.end());
}

void MeterServer::refresh_mapping() {
    // One snapshot per request: a block read returns values of one and the same measurement.
    const auto& p = model_.profile();
    const auto block = model_.input_block();
    if (p.block_function == 4) {
        std::copy(block.begin(), block.end(), mapping_->tab_input_registers);
    }
    for (int i = 0; i < holding_count_; ++i) {
        const int a = holding_start_ + i;
        std::uint16_t v = model_.read_holding(a).value_or(0);
        if (p.block_function == 3 && a >= p.block_address && a < p.block_address + p.block_count)
            v = block[static_cast<std::size_t>(a - p.block_address)];
        mapping_->tab_registers[i] = v;
    }
}

void MeterServer::handle(modbus_t* ctx, int fd, const std::uint8_t* req, int length) {
    const int h = modbus_get_header_length(ctx);
    if (length < h + 1) {
        ++stats_.bad_frames;
        return;
    }
    const int unit = req[h - 1];
    // ICD 1: the meter does not act on broadcasts (unit 0); other units are not this meter.
    if (unit == 0 || unit != unit_id_) {
        ++stats_.ignored;
        return;
    }
    const int function = req[h];
    auto word = [&](int offset) { return static_cast<int>(req[h + offset] << 8 | req[h + offset + 1]); };
    auto exception = [&](int code) {
        ++stats_.exceptions;
        modbus_reply_exception(ctx, req, static_cast<unsigned>(code));
    };
    auto reply = [&] {
        ++stats_.requests;
        refresh_mapping();
        modbus_reply(ctx, req, length, mapping_);
    };
    const auto& p = model_.profile();

    switch (function) {
        case MODBUS_FC_READ_HOLDING_REGISTERS:
        case MODBUS_FC_READ_INPUT_REGISTERS: {
            if (length < h + 5) return void(++stats_.bad_frames);
            const int address = word(1), quantity = word(3);
            // Modbus order (ICD 4): quantity (03), then addresses (02).
            if (quantity < 1 || quantity > p.max_read_registers) return exception(MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
            const bool in_block = address >= p.block_address && address + quantity <= p.block_address + p.block_count;
            bool readable;
            if (function == MODBUS_FC_READ_INPUT_REGISTERS) {
                readable = p.block_function == 4 && in_block;
            } else {
                readable = true;
                for (int a = address; a < address + quantity && readable; ++a) {
                    const bool in_block_a = p.block_function == 3 && a >= p.block_address && a < p.block_address + p.block_count;
                    readable = in_block_a || model_.read_holding(a).has_value();
                }
            }
            if (!readable) return exception(MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
            return reply();
        }
        case MODBUS_FC_WRITE_SINGLE_REGISTER: {
            if (length < h + 5) return void(++stats_.bad_frames);
            const std::array<std::uint16_t, 1> value{static_cast<std::uint16_t>(word(3))};
            const auto outcome = model_.write_holding(word(1), value);
            if (outcome != WriteOutcome::Accepted) return exception(static_cast<int>(outcome));
            return reply();
        }
        case MODBUS_FC_WRITE_MULTIPLE_REGISTERS: {
            if (length < h + 6) return void(++stats_.bad_frames);
            const int address = word(1), quantity = word(3), bytes = req[h + 5];
            if (quantity < 1 || quantity > p.max_write_registers || bytes != 2 * quantity)
                return exception(MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
            if (length < h + 6 + bytes) return void(++stats_.bad_frames);
            std::vector<std::uint16_t> values(static_cast<std::size_t>(quantity));
            for (int i = 0; i < quantity; ++i) values[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(word(6 + 2 * i));
            // Checked whole in the model: refused values leave every register as it was.
            const auto outcome = model_.write_holding(address, values);
            if (outcome != WriteOutcome::Accepted) return exception(static_cast<int>(outcome));
            return reply();
        }
        case MODBUS_FC_REPORT_SLAVE_ID:
            ++stats_.requests;
            return reply_identification(ctx, fd, req);
        default:
            // ICD 4. Over RTU, libmodbus frames an unknown function as unit, function and CRC
            // only; a longer frame fails its CRC and gets no answer, as a real meter would.
            return exception(MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
    }
}

void MeterServer::reply_identification(modbus_t* ctx, int fd, const std::uint8_t* req) {
    // modbus_reply would answer with libmodbus' own text (docs/platform.md): answer as the meter.
    const auto& id = model_.profile().identification;
    const std::string text = model_.identification_text();
    std::vector<std::uint8_t> pdu{MODBUS_FC_REPORT_SLAVE_ID, static_cast<std::uint8_t>(2 + text.size()), id.server_id,
                                  id.run_indicator};
    pdu.insert(pdu.end(), text.begin(), text.end());
    const int h = modbus_get_header_length(ctx);
    if (h == 1) {
        // RTU: unit id + PDU; modbus_send_raw_request adds the CRC.
        std::vector<std::uint8_t> raw{static_cast<std::uint8_t>(unit_id_)};
        raw.insert(raw.end(), pdu.begin(), pdu.end());
        modbus_send_raw_request(ctx, raw.data(), static_cast<int>(raw.size()));
        return;
    }
    // TCP: modbus_send_raw_request would send transaction id 0, and a client matches answers to
    // requests by that id, so the MBAP header is written here with the request's id.
    std::vector<std::uint8_t> adu{req[0], req[1], 0, 0, static_cast<std::uint8_t>((pdu.size() + 1) >> 8),
                                  static_cast<std::uint8_t>(pdu.size() + 1), static_cast<std::uint8_t>(unit_id_)};
    adu.insert(adu.end(), pdu.begin(), pdu.end());
    (void)!::send(fd, adu.data(), adu.size(), MSG_NOSIGNAL);
}

}  // namespace pumprig::meter::sim
