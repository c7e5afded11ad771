// Transport backends over real links: termios on an in-process pseudo-terminal pair, TCP on a
// loopback listener, ser2net in front of a pseudo-terminal. Assertions are on bytes and error
// kinds; time limits passed in are bounds so a broken backend fails instead of hanging.
#include <doctest/doctest.h>

#include <fstream>

#include "transport/byte_stream.hpp"
#include "transport_test_support.hpp"

using namespace pumprig;
using namespace pumprig::transport;
using pumprig::testing::LoopbackListener;
using pumprig::testing::PtyPair;
using pumprig::testing::Ser2NetProcess;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kBound{5000};  // generous: only ever reached when something is broken

// Reads from the stream until `want` bytes came (or the bound passed).
std::string read_stream(ByteStream& s, std::size_t want) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + kBound;
    while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
        auto chunk = s.read_some(milliseconds{200});
        REQUIRE(chunk);
        out += *chunk;
    }
    return out;
}

}  // namespace

TEST_CASE("termios: bytes cross a pseudo-terminal both ways") {
    PtyPair pty;
    auto link = open_termios(pty.slave_path, {});
    REQUIRE(link);
    CHECK((*link)->describe() == "termios:" + pty.slave_path);
    const std::string request = "$1,HELLO*7613\r\n";
    REQUIRE((*link)->write(request));
    CHECK(pty.read_master(request.size(), kBound) == request);
    // every byte value passes unchanged (raw mode: no CR/LF mapping, no echo, no signals)
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    pty.write_master(all);
    CHECK(read_stream(**link, all.size()) == all);
}

TEST_CASE("termios: a read with nothing to read returns empty") {
    PtyPair pty;
    auto link = open_termios(pty.slave_path, {});
    REQUIRE(link);
    const auto chunk = (*link)->read_some(milliseconds{10});
    REQUIRE(chunk);
    CHECK(chunk->empty());
}

TEST_CASE("termios: a hang-up of the other end gives link lost, not a hang") {
    PtyPair pty;
    auto link = open_termios(pty.slave_path, {});
    REQUIRE(link);
    pty.write_master("$2,OK,sta");  // half a line, then the device goes away
    pty.close_master();
    std::string got;
    Result<std::string> chunk;
    do {
        chunk = (*link)->read_some(kBound);
        if (chunk) got += *chunk;
    } while (chunk && !chunk->empty());
    REQUIRE_FALSE(chunk);
    CHECK(chunk.error().kind == ErrorKind::LinkLost);
    CHECK(chunk.error().message.find(pty.slave_path) != std::string::npos);
    const auto write = (*link)->write("$3,STATUS*A0B0\r\n");
    REQUIRE_FALSE(write);
    CHECK(write.error().kind == ErrorKind::LinkLost);
}

TEST_CASE("termios: even parity on a pseudo-terminal is tolerated") {
    PtyPair pty;
    SerialSettings settings;
    settings.baud = 19200;
    settings.parity = 'E';
    auto first = open_termios(pty.slave_path, settings);
    REQUIRE(first);
    auto again = open_termios(pty.slave_path, settings);  // re-applying parity is what fails on a pty
    REQUIRE(again);
    REQUIRE((*again)->write("x"));
    CHECK(pty.read_master(1, kBound) == "x");
}

TEST_CASE("termios: a missing device or a plain file is refused naming the path") {
    const auto missing = open_termios("/dev/pts/does-not-exist", {});
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::LinkLost);
    CHECK(missing.error().message.find("/dev/pts/does-not-exist") != std::string::npos);

    const auto file = std::filesystem::temp_directory_path() / "pumprig-not-a-tty.txt";
    std::ofstream(file) << "x";
    const auto plain = open_termios(file.string(), {});
    std::filesystem::remove(file);
    REQUIRE_FALSE(plain);
    CHECK(plain.error().message.find("not a terminal") != std::string::npos);

    SerialSettings odd;
    odd.baud = 12345;
    const auto bad_baud = open_termios("/dev/null", odd);
    REQUIRE_FALSE(bad_baud);
    CHECK(bad_baud.error().kind == ErrorKind::BadInput);
    CHECK(bad_baud.error().message.find("12345") != std::string::npos);
}

TEST_CASE("serialport: a pseudo-terminal cannot be opened and the error names it") {
    // docs/platform.md: libserialport looks ports up under /sys/class/tty, ptys have no entry.
    PtyPair pty;
    const auto r = open_serialport(pty.slave_path, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::LinkLost);
    CHECK(r.error().message.find(pty.slave_path) != std::string::npos);
}

TEST_CASE("tcp: bytes cross a loopback connection both ways") {
    LoopbackListener listener;
    auto link = open_tcp("127.0.0.1", listener.port);
    REQUIRE(link);
    CHECK((*link)->describe() == "tcp:127.0.0.1:" + std::to_string(listener.port));
    const int peer = listener.accept_one();
    REQUIRE(peer >= 0);
    REQUIRE((*link)->write("$1,HELLO*7613\r\n"));
    CHECK(PtyPair::read_fd(peer, 15, kBound) == "$1,HELLO*7613\r\n");
    const std::string answer = "$1,OK*XXXX\r\n";
    REQUIRE(::write(peer, answer.data(), answer.size()) == static_cast<ssize_t>(answer.size()));
    CHECK(read_stream(**link, answer.size()) == answer);
    ::close(peer);
}

TEST_CASE("tcp: the peer closing gives link lost on read and write") {
    LoopbackListener listener;
    auto link = open_tcp("127.0.0.1", listener.port);
    REQUIRE(link);
    const int peer = listener.accept_one();
    REQUIRE(peer >= 0);
    ::close(peer);
    const auto chunk = (*link)->read_some(kBound);
    REQUIRE_FALSE(chunk);
    CHECK(chunk.error().kind == ErrorKind::LinkLost);
    const auto write = (*link)->write("$3,STATUS*A0B0\r\n");
    REQUIRE_FALSE(write);
    CHECK(write.error().kind == ErrorKind::LinkLost);
}

TEST_CASE("tcp: a refused connection gives link lost naming host and port") {
    int port = 0;
    {
        LoopbackListener listener;
        port = listener.port;
    }  // closed: nothing listens there now
    const auto r = open_tcp("127.0.0.1", port);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::LinkLost);
    CHECK(r.error().message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
    CHECK(open_tcp("127.0.0.1", 0).error().kind == ErrorKind::BadInput);
}

TEST_CASE("ser2net: a pseudo-terminal served over TCP carries bytes and reports the hang-up") {
    if (!Ser2NetProcess::available()) {
        MESSAGE("ser2net is not installed: skipped");
        return;
    }
    PtyPair pty;
    Ser2NetProcess ser2net(pty.slave_path);
    auto link = ser2net.connect(kBound);
    REQUIRE_MESSAGE(link, (link ? "" : link.error().describe()));
    const std::string request = "$3,STATUS*A0B0\r\n";
    REQUIRE((*link)->write(request));
    CHECK(pty.read_master(request.size(), kBound) == request);
    const std::string answer = "$3,OK*XXXX\r\n";
    pty.write_master(answer);
    CHECK(read_stream(**link, answer.size()) == answer);
    // The device side goes away: ser2net closes the connection, which the stream reports.
    pty.close_master();
    Result<std::string> chunk;
    const auto deadline = std::chrono::steady_clock::now() + kBound;
    do {
        chunk = (*link)->read_some(milliseconds{500});
    } while (chunk && std::chrono::steady_clock::now() < deadline);
    REQUIRE_FALSE(chunk);
    CHECK(chunk.error().kind == ErrorKind::LinkLost);
}
