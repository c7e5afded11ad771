// POSIX backends of the byte-stream interface: termios (pseudo-terminals of the simulated bench,
// and any tty libserialport cannot open) and raw TCP (a serial port served by ser2net).
// Both are a non-blocking file descriptor waited on with poll(), so a silent or hung-up peer
// can only ever cost the caller's deadline, never a hang.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "transport/byte_stream.hpp"

namespace pumprig::transport {
namespace {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

// A write that cannot progress for this long means the peer stopped reading: report it rather
// than block the harness (a 256-byte frame needs 22 ms at 115200 baud).
constexpr milliseconds kWriteStallLimit{2000};
constexpr milliseconds kConnectTimeout{3000};

std::string errno_text(int err) { return std::strerror(err); }

int remaining_ms(steady::time_point deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

class FdStream final : public ByteStream {
public:
    enum class Kind { Tty, Socket };
    FdStream(int fd, Kind kind, std::string description)
        : fd_(fd), kind_(kind), description_(std::move(description)) {}
    ~FdStream() override {
        if (fd_ >= 0) ::close(fd_);
    }
    FdStream(const FdStream&) = delete;
    FdStream& operator=(const FdStream&) = delete;

    Result<void> write(std::string_view bytes) override {
        if (fd_ < 0) return lost("the link was closed earlier");
        const auto deadline = steady::now() + kWriteStallLimit;
        while (!bytes.empty()) {
            ssize_t n = kind_ == Kind::Socket ? ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL)
                                              : ::write(fd_, bytes.data(), bytes.size());
            if (n > 0) {
                bytes.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                pollfd p{fd_, POLLOUT, 0};
                const int r = ::poll(&p, 1, remaining_ms(deadline));
                if (r < 0 && errno == EINTR) continue;
                if (r == 0)
                    return fail(ErrorKind::Timeout,
                                "write to " + description_ + " stalled: the peer does not read");
                if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return lost("peer hung up during write");
                continue;
            }
            return lost("write failed: " + errno_text(n < 0 ? errno : EIO));
        }
        return {};
    }

    Result<std::string> read_some(milliseconds timeout) override {
        if (fd_ < 0) return lost("the link was closed earlier");
        const auto deadline = steady::now() + timeout;
        while (true) {
            pollfd p{fd_, POLLIN, 0};
            const int r = ::poll(&p, 1, remaining_ms(deadline));
            if (r < 0) {
                if (errno == EINTR) continue;
                return lost("poll failed: " + errno_text(errno));
            }
            if (r == 0) return std::string{};
            // POLLHUP may come with data still buffered: read first, report the hang-up only
            // when nothing is left.
            char buf[4096];
            const ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n > 0) return std::string(buf, static_cast<std::size_t>(n));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) return lost("peer hung up");
                continue;  // spurious wake-up
            }
            // read() == 0 on a socket is an orderly close; EIO on a pty slave is a closed master.
            return lost(n == 0 ? "peer closed the connection" : "read failed: " + errno_text(errno));
        }
    }

    void flush_input() override {
        if (fd_ < 0) return;
        if (kind_ == Kind::Tty) {
            ::tcflush(fd_, TCIFLUSH);
            return;
        }
        char buf[4096];
        while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        }
    }

    std::string describe() const override { return description_; }

private:
    std::unexpected<Error> lost(const std::string& why) {
        // Once lost, stay lost: a later call must not touch a descriptor number that may have
        // been reused.
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        return fail(ErrorKind::LinkLost, description_ + ": " + why);
    }

    int fd_;
    Kind kind_;
    std::string description_;
};

std::optional<speed_t> baud_constant(int baud) {
    switch (baud) {
        case 1200: return B1200;
        case 2400: return B2400;
        case 4800: return B4800;
        case 9600: return B9600;
        case 19200: return B19200;
        case 38400: return B38400;
        case 57600: return B57600;
        case 115200: return B115200;
        case 230400: return B230400;
        case 460800: return B460800;
        case 921600: return B921600;
        default: return std::nullopt;
    }
}

// Unix98 pseudo-terminal slaves have majors 136..143 (Documentation/admin-guide/devices.txt).
bool is_pty_slave(int fd) {
    struct stat st{};
    if (::fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) return false;
    const auto maj = major(st.st_rdev);
    return maj >= 136 && maj <= 143;
}

}  // namespace

Result<std::unique_ptr<ByteStream>> open_termios(const std::string& path, const SerialSettings& s) {
    const std::string where = "termios:" + path;
    const auto speed = baud_constant(s.baud);
    if (!speed)
        return fail(ErrorKind::BadInput, where + ": unsupported baud rate " + std::to_string(s.baud) +
                                             " (expected one of 1200 .. 921600 standard rates)");
    if (s.data_bits < 5 || s.data_bits > 8)
        return fail(ErrorKind::BadInput, where + ": data bits must be 5 to 8");
    if (s.parity != 'N' && s.parity != 'E' && s.parity != 'O')
        return fail(ErrorKind::BadInput, where + ": parity must be N, E or O");
    if (s.stop_bits != 1 && s.stop_bits != 2)
        return fail(ErrorKind::BadInput, where + ": stop bits must be 1 or 2");

    const int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return fail(ErrorKind::LinkLost, "cannot open " + where + ": " + errno_text(errno));
    termios tio{};
    if (::tcgetattr(fd, &tio) != 0) {
        const int err = errno;
        ::close(fd);
        return fail(ErrorKind::LinkLost, "cannot open " + where + ": not a terminal (" + errno_text(err) + ")");
    }
    ::cfmakeraw(&tio);
    ::cfsetispeed(&tio, *speed);
    ::cfsetospeed(&tio, *speed);
    tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag |= s.data_bits == 5 ? CS5 : s.data_bits == 6 ? CS6 : s.data_bits == 7 ? CS7 : CS8;
    if (s.parity != 'N') tio.c_cflag |= PARENB | (s.parity == 'O' ? PARODD : 0);
    if (s.stop_bits == 2) tio.c_cflag |= CSTOPB;
    tio.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
    // Non-blocking reads: waiting is poll()'s job, with the caller's deadline.
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    if (::tcsetattr(fd, TCSANOW, &tio) != 0) {
        const int err = errno;
        // A pseudo-terminal carries bytes, not bits: it refuses re-applied parity with EINVAL
        // (docs/platform.md). Parity means nothing there, so apply the rest without it.
        bool recovered = false;
        if (err == EINVAL && is_pty_slave(fd)) {
            tio.c_cflag &= ~static_cast<tcflag_t>(PARENB | PARODD);
            recovered = ::tcsetattr(fd, TCSANOW, &tio) == 0;
        }
        if (!recovered) {
            ::close(fd);
            return fail(ErrorKind::LinkLost, "cannot configure " + where + ": " + errno_text(err));
        }
    }
    ::tcflush(fd, TCIFLUSH);  // bytes from before we opened belong to nobody
    return std::make_unique<FdStream>(fd, FdStream::Kind::Tty, where);
}

Result<std::unique_ptr<ByteStream>> open_tcp(const std::string& host, int port) {
    const std::string where = "tcp:" + host + ":" + std::to_string(port);
    if (port < 1 || port > 65535)
        return fail(ErrorKind::BadInput, where + ": port must be 1 to 65535");
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port_text = std::to_string(port);
    if (const int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found); rc != 0)
        return fail(ErrorKind::LinkLost, "cannot resolve " + where + ": " + ::gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);

    std::string last_error = "no address";
    const auto deadline = steady::now() + kConnectTimeout;
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_error = errno_text(errno);
            continue;
        }
        int err = 0;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                pollfd p{fd, POLLOUT, 0};
                int r;
                do {
                    r = ::poll(&p, 1, remaining_ms(deadline));
                } while (r < 0 && errno == EINTR);
                if (r == 0) {
                    err = ETIMEDOUT;
                } else {
                    socklen_t len = sizeof err;
                    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
                }
            }
        }
        if (err != 0) {
            last_error = errno_text(err);
            ::close(fd);
            continue;
        }
        // One frame per request: send it now rather than let Nagle wait for more.
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return std::make_unique<FdStream>(fd, FdStream::Kind::Socket, where);
    }
    return fail(ErrorKind::LinkLost, "cannot connect to " + where + ": " + last_error);
}

}  // namespace pumprig::transport
