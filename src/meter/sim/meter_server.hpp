// Serves a simulated meter over Modbus RTU (on a file descriptor, e.g. a pseudo-terminal
// master) and/or Modbus TCP on loopback, with libmodbus doing the framing. The caller owns the
// event loop: poll fds(), call on_readable(fd) for each readable one. One request per call.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/units.hpp"
#include "meter/sim/lf2000_model.hpp"

typedef struct _modbus modbus_t;
typedef struct _modbus_mapping_t modbus_mapping_t;

namespace pumprig::meter::sim {

struct MeterServerStats {
    std::uint64_t requests = 0;    // answered normally
    std::uint64_t exceptions = 0;  // answered with a Modbus exception
    std::uint64_t ignored = 0;     // other unit id or broadcast: not answered
    std::uint64_t bad_frames = 0;  // CRC errors, truncated frames: not answered
};

class MeterServer {
public:
    // The model must outlive the server; it is read and written only inside on_readable().
    MeterServer(Lf2000Model& model, int unit_id);
    ~MeterServer();
    MeterServer(const MeterServer&) = delete;
    MeterServer& operator=(const MeterServer&) = delete;

    // Serve RTU on fd (not owned, not closed here).
    Result<void> serve_rtu(int fd);
    // Serve TCP on 127.0.0.1:port (0: any free port). Returns the port bound.
    Result<int> serve_tcp(int port);

    std::vector<int> fds() const;  // to poll for reading
    void on_readable(int fd);
    // Called with each complete request read on `fd`, before the model is read for its answer:
    // the simulator applies what its controller sent before the request (pumprig-sim's control
    // channel). Returning false drops the request unanswered (a silent meter).
    void set_before_answer(std::function<bool(int fd)> hook) { before_answer_ = std::move(hook); }

    int tcp_port() const { return tcp_port_; }
    const MeterServerStats& stats() const { return stats_; }

private:
    void handle(modbus_t* ctx, int fd, const std::uint8_t* req, int length);
    void reply_identification(modbus_t* ctx, int fd, const std::uint8_t* req);
    void refresh_mapping();
    void reset_rtu_context();

    Lf2000Model& model_;
    int unit_id_;
    modbus_t* rtu_ = nullptr;
    int rtu_fd_ = -1;
    modbus_t* tcp_ = nullptr;
    int listen_fd_ = -1;
    int tcp_port_ = -1;
    std::vector<int> clients_;
    modbus_mapping_t* mapping_ = nullptr;
    int holding_start_ = 0, holding_count_ = 0;
    MeterServerStats stats_;
    std::function<bool(int fd)> before_answer_;
};

}  // namespace pumprig::meter::sim
