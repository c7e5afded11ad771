// MeterDriver against the simulated meter's MeterServer over real links: a pseudo-terminal pair
// (Modbus RTU) and loopback TCP. The server runs on a thread; the model is checked directly.
#include <doctest/doctest.h>

#include <errno.h>

#include <array>
#include <fstream>
#include <memory>
#include <vector>

#include <modbus/modbus.h>

#include "meter/meter_driver.hpp"
#include "meter_fixtures.hpp"

using namespace pumprig;
using namespace pumprig::meter;
using namespace std::chrono_literals;

namespace {

std::string profile_text() {
    std::ifstream in(itest::source_dir() + "/fixtures/meters/lf-2000.json");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

MeterProfile lf2000() {
    auto p = parse_meter_profile(profile_text(), "lf-2000.json");
    REQUIRE(p.has_value());
    return *p;
}

sim::Lf2000Options quiet(const std::string& serial = "LF0042") {
    sim::Lf2000Options o;
    o.serial = serial;
    o.noise = false;
    return o;
}

Volume per_measurement(double ul_per_h) { return volume_over(FlowRate::from_ul_per_h(ul_per_h), Millis{100}); }

MeterLink rtu_link(const std::string& path, int unit = 1) {
    MeterLink l;
    l.kind = MeterLink::Rtu;
    l.device = path;
    l.parity = 'N';  // a pseudo-terminal: 8N1 (docs/platform.md)
    l.unit_id = unit;
    l.response_timeout = 200ms;
    return l;
}

MeterLink tcp_link(int port) {
    MeterLink l;
    l.kind = MeterLink::Tcp;
    l.host = "127.0.0.1";
    l.port = port;
    l.response_timeout = 500ms;
    return l;
}

// A bare libmodbus client, to send what the driver never would (bad values, odd functions).
struct RawClient {
    modbus_t* ctx;
    explicit RawClient(const std::string& path) : ctx(modbus_new_rtu(path.c_str(), 19200, 'N', 8, 1)) {
        REQUIRE(ctx != nullptr);
        modbus_set_slave(ctx, 1);
        modbus_set_response_timeout(ctx, 0, 300000);
        REQUIRE(modbus_connect(ctx) == 0);
    }
    // Sends unit + PDU (libmodbus adds the CRC); returns the exception code answered, 0 for a
    // normal answer, -1 for no answer.
    int exception_to(std::vector<std::uint8_t> raw) {
        REQUIRE(modbus_send_raw_request(ctx, raw.data(), static_cast<int>(raw.size())) > 0);
        std::array<std::uint8_t, MODBUS_RTU_MAX_ADU_LENGTH> rsp{};
        const int n = modbus_receive_confirmation(ctx, rsp.data());
        if (n < 3) return -1;
        return (rsp[1] & 0x80) ? rsp[2] : 0;
    }
    ~RawClient() {
        modbus_close(ctx);
        modbus_free(ctx);
    }
};

// The same meter served on a pseudo-terminal, with a few measurements taken.
struct RtuBench {
    itest::PtyPair pty;
    itest::ServedMeter meter{lf2000(), quiet()};
    RtuBench() {
        meter.with_model([](sim::Lf2000Model& m) {
            for (int i = 0; i < 20; ++i) m.measure(per_measurement(36.0));
            return 0;
        });
        meter.serve_rtu(pty.master);
        meter.start();
    }
};

}  // namespace

TEST_CASE("meter driver over a pty reads what the model holds") {
    RtuBench bench;
    auto driver = MeterDriver::open(rtu_link(bench.pty.slave_path), lf2000());
    REQUIRE_MESSAGE(driver.has_value(), driver.error().describe());
    auto reading = driver->read();
    REQUIRE_MESSAGE(reading.has_value(), reading.error().describe());
    const auto truth = bench.meter.with_model([](sim::Lf2000Model& m) { return m.reading(); });
    CHECK(reading->flow.ul_per_h == doctest::Approx(truth.flow.ul_per_h));
    CHECK(reading->flow.ul_per_h == doctest::Approx(36.0));
    CHECK(reading->total_raw == 20u);  // 20 measurements of 1 nL
    CHECK(reading->valid);
    CHECK(reading->sample == 20);
    CHECK(reading->period == Millis{100});
    CHECK(reading->temperature_c == doctest::Approx(22.0));
    CHECK(driver->counters().reads == 1);
    CHECK(driver->counters().errors == 0);
    CHECK(driver->describe() == "RTU " + bench.pty.slave_path + " 19200 8N1 unit 1");
}

TEST_CASE("meter driver over a pty identifies the meter") {
    RtuBench bench;
    auto driver = MeterDriver::open(rtu_link(bench.pty.slave_path), lf2000());
    REQUIRE(driver.has_value());
    auto id = driver->identify();
    REQUIRE_MESSAGE(id.has_value(), id.error().describe());
    CHECK(*id == "LF-2000,SN=LF0042,FW=1.00");
}

TEST_CASE("meter driver over a pty with even parity asked uses 8N1 and says so") {
    RtuBench bench;
    auto link = rtu_link(bench.pty.slave_path);
    link.parity = 'E';
    auto driver = MeterDriver::open(link, lf2000());
    REQUIRE_MESSAGE(driver.has_value(), driver.error().describe());
    CHECK(driver->describe().find("not emulated on a pseudo-terminal") != std::string::npos);
    CHECK(driver->read().has_value());
}

TEST_CASE("meter driver over a pty resets the total and writes the settings") {
    RtuBench bench;
    auto driver = MeterDriver::open(rtu_link(bench.pty.slave_path), lf2000());
    REQUIRE(driver.has_value());
    REQUIRE(driver->reset_total().has_value());
    REQUIRE(driver->set_filter(Millis{500}).has_value());
    REQUIRE(driver->set_zero_trim(FlowRate::from_ul_per_h(-1.25)).has_value());
    bench.meter.with_model([](sim::Lf2000Model& m) {
        CHECK(m.filter() == Millis{500});
        CHECK(m.zero_trim().ul_per_h == doctest::Approx(-1.25));
        m.measure(per_measurement(36.0));  // the reset happens at this measurement
        return 0;
    });
    auto r = driver->read();
    REQUIRE(r.has_value());
    CHECK(r->total_raw == 0u);
    CHECK(r->flow.ul_per_h == doctest::Approx(36.0 - 1.25));
}

TEST_CASE("meter driver refuses settings outside the profile before sending") {
    RtuBench bench;
    auto driver = MeterDriver::open(rtu_link(bench.pty.slave_path), lf2000());
    REQUIRE(driver.has_value());
    auto f = driver->set_filter(Millis{50});
    REQUIRE_FALSE(f.has_value());
    CHECK(f.error().kind == ErrorKind::BadInput);
    CHECK(f.error().message.find("expected 100 to 10000 ms in steps of 100") != std::string::npos);
    auto t = driver->set_zero_trim(FlowRate::from_ul_per_h(10.005));
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error().kind == ErrorKind::BadInput);
    CHECK(bench.meter.stats().requests == 0);
}

TEST_CASE("meter server answers exception 02 to a read past address 7") {
    RtuBench bench;
    // A profile whose block reaches address 8: the meter refuses it, the driver reports it.
    std::string text = profile_text();
    const auto at = text.find(R"("count": 8)");
    REQUIRE(at != std::string::npos);
    text.replace(at, 10, R"("count": 9)");
    auto wide = parse_meter_profile(text, "wide.json");
    REQUIRE(wide.has_value());
    auto driver = MeterDriver::open(rtu_link(bench.pty.slave_path), *wide);
    REQUIRE(driver.has_value());
    auto r = driver->read();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::DeviceError);
    CHECK(r.error().code == "MODBUS_EXCEPTION_02");
    CHECK(driver->counters().retries == 0);  // an exception is an answer: no retry
    CHECK(driver->counters().errors == 1);
}

TEST_CASE("meter server checks quantity, address and values as the ICD orders") {
    RtuBench bench;
    RawClient client(bench.pty.slave_path);
    std::array<std::uint16_t, 130> regs{};
    SUBCASE("a read of 126 registers is exception 03, even at a bad address") {
        // libmodbus will not send this itself: a raw request.
        CHECK(client.exception_to({1, 0x04, 0, 50, 0, 126}) == MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
        CHECK(client.exception_to({1, 0x04, 0, 0, 0, 0}) == MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
    }
    SUBCASE("reading address 8 is exception 02") {
        CHECK(modbus_read_input_registers(client.ctx, 8, 1, regs.data()) == -1);
        CHECK(errno == EMBXILADD);
        CHECK(modbus_read_input_registers(client.ctx, 7, 1, regs.data()) == 1);
        CHECK(regs[0] == 100);
    }
    SUBCASE("writing a filter of 50 ms is exception 03") {
        CHECK(modbus_write_register(client.ctx, 101, 50) == -1);
        CHECK(errno == EMBXILVAL);
        CHECK(bench.meter.with_model([](sim::Lf2000Model& m) { return m.filter(); }) == Millis{1000});
    }
    SUBCASE("a function 16 write that is partly bad writes nothing") {
        const std::array<std::uint16_t, 3> values{0, 2000, 5000};  // filter fine, trim out of range
        CHECK(modbus_write_registers(client.ctx, 100, 3, values.data()) == -1);
        CHECK(errno == EMBXILVAL);
        CHECK(bench.meter.with_model([](sim::Lf2000Model& m) { return m.filter(); }) == Millis{1000});
        CHECK(modbus_read_registers(client.ctx, 100, 3, regs.data()) == 3);
        CHECK(regs[0] == 0);
        CHECK(regs[1] == 1000);
        CHECK(regs[2] == 0);
        const std::array<std::uint16_t, 2> good{2000, 300};
        const int written = modbus_write_registers(client.ctx, 101, 2, good.data());
        CHECK_MESSAGE(written == 2, std::string(modbus_strerror(errno)));
        CHECK(bench.meter.with_model([](sim::Lf2000Model& m) { return m.filter(); }) == Millis{2000});
    }
    SUBCASE("holding registers outside 100..102 are exception 02") {
        CHECK(modbus_read_registers(client.ctx, 100, 4, regs.data()) == -1);
        CHECK(errno == EMBXILADD);
        CHECK(modbus_read_registers(client.ctx, 0, 1, regs.data()) == -1);
        CHECK(errno == EMBXILADD);
    }
    SUBCASE("another function code is exception 01") {
        CHECK(client.exception_to({1, 0x07}) == MODBUS_EXCEPTION_ILLEGAL_FUNCTION);  // read exception status
        CHECK(client.exception_to({1, 0x17, 0, 0, 0, 1, 0, 101, 0, 1, 2, 0x01, 0xF4}) ==
              MODBUS_EXCEPTION_ILLEGAL_FUNCTION);  // read/write multiple: not in the ICD
    }
}

TEST_CASE("meter server ignores broadcasts and other unit ids") {
    RtuBench bench;
    {
        RawClient client(bench.pty.slave_path);
        modbus_set_slave(client.ctx, 0);
        modbus_set_response_timeout(client.ctx, 0, 50000);
        modbus_write_register(client.ctx, 101, 500);  // broadcast: no answer expected
    }
    auto other = MeterDriver::open(rtu_link(bench.pty.slave_path, 2), lf2000());
    REQUIRE(other.has_value());
    auto r = other->read();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::Timeout);
    CHECK(r.error().message.find(bench.pty.slave_path) != std::string::npos);
    CHECK(r.error().message.find("unit 2") != std::string::npos);
    CHECK(other->counters().retries == 2);
    CHECK(other->counters().errors == 1);
    // The meter still answers its own unit at once, and the broadcast changed nothing.
    auto own = MeterDriver::open(rtu_link(bench.pty.slave_path, 1), lf2000());
    REQUIRE(own.has_value());
    REQUIRE(own->read().has_value());
    CHECK(bench.meter.with_model([](sim::Lf2000Model& m) { return m.filter(); }) == Millis{1000});
    const auto stats = bench.meter.stats();
    CHECK(stats.ignored == 4);  // the broadcast and three attempts for unit 2
    CHECK(stats.requests == 1);
}

TEST_CASE("meter driver times out naming the link when nothing answers") {
    itest::PtyPair pty;  // nobody serves the master
    auto link = rtu_link(pty.slave_path);
    link.response_timeout = 50ms;
    link.retries = 1;
    auto driver = MeterDriver::open(link, lf2000());
    REQUIRE(driver.has_value());
    auto r = driver->read();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::Timeout);
    CHECK(r.error().message.find("RTU " + pty.slave_path) != std::string::npos);
    CHECK(r.error().message.find("after 2 attempts") != std::string::npos);
    CHECK(driver->counters().retries == 1);
}

TEST_CASE("meter driver over TCP loopback reads, identifies and writes") {
    itest::ServedMeter meter(lf2000(), quiet("LF0777"));
    meter.with_model([](sim::Lf2000Model& m) {
        for (int i = 0; i < 10; ++i) m.measure(per_measurement(720.0));
        return 0;
    });
    const int port = meter.serve_tcp();
    CHECK(port > 0);
    meter.start();
    auto driver = MeterDriver::open(tcp_link(port), lf2000());
    REQUIRE_MESSAGE(driver.has_value(), driver.error().describe());
    CHECK(driver->describe() == "TCP 127.0.0.1:" + std::to_string(port) + " unit 1");
    for (int i = 0; i < 3; ++i) {  // several requests: transaction ids must match every time
        auto id = driver->identify();
        REQUIRE_MESSAGE(id.has_value(), id.error().describe());
        CHECK(*id == "LF-2000,SN=LF0777,FW=1.00");
        auto r = driver->read();
        REQUIRE_MESSAGE(r.has_value(), r.error().describe());
        CHECK(r->total_raw == 200u);
        CHECK(r->flow.ul_per_h == doctest::Approx(720.0));
    }
    REQUIRE(driver->set_filter(Millis{3000}).has_value());
    CHECK(meter.with_model([](sim::Lf2000Model& m) { return m.filter(); }) == Millis{3000});
    // A second client at the same time.
    auto second = MeterDriver::open(tcp_link(port), lf2000());
    REQUIRE(second.has_value());
    CHECK(second->read().has_value());
    CHECK(driver->read().has_value());
}

TEST_CASE("meter driver over TCP reports a refused connection as a lost link") {
    int port = 0;
    {
        // A port that was free a moment ago and that nobody listens on now.
        itest::ServedMeter meter(lf2000(), quiet());
        port = meter.serve_tcp();
    }
    auto driver = MeterDriver::open(tcp_link(port), lf2000());
    REQUIRE_FALSE(driver.has_value());
    CHECK(driver.error().kind == ErrorKind::LinkLost);
    CHECK(driver.error().message.find("TCP 127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_CASE("meter driver and server agree on another make's register map") {
    auto other = load_meter_profile(itest::source_dir() + "/fixtures/meters/example-float-ml.json");
    REQUIRE(other.has_value());
    itest::PtyPair pty;
    itest::ServedMeter meter(*other, quiet());
    meter.with_model([](sim::Lf2000Model& m) {
        for (int i = 0; i < 10; ++i) m.measure(per_measurement(1800.0));
        return 0;
    });
    meter.serve_rtu(pty.master);
    meter.start();
    auto driver = MeterDriver::open(rtu_link(pty.slave_path), *other);
    REQUIRE(driver.has_value());
    auto r = driver->read();
    REQUIRE_MESSAGE(r.has_value(), r.error().describe());
    CHECK(r->total.ul == doctest::Approx(0.5).epsilon(1e-6));
    CHECK(r->flow.ul_per_h == doctest::Approx(1800.0).epsilon(1e-6));
    REQUIRE(driver->reset_total().has_value());
    auto id = driver->identify();
    REQUIRE(id.has_value());
    CHECK(id->starts_with("EXAMPLE-FM,SN="));
    // The LF-2000 profile on this meter: identification names what was expected.
    auto wrong = MeterDriver::open(rtu_link(pty.slave_path), lf2000());
    REQUIRE(wrong.has_value());
    auto wid = wrong->identify();
    REQUIRE_FALSE(wid.has_value());
    CHECK(wid.error().kind == ErrorKind::Protocol);
    CHECK(wid.error().message.find("LF-2000") != std::string::npos);
}

namespace {

// Modbus CRC-16 (poly 0xA001, init 0xFFFF), low byte first on the wire.
std::uint16_t modbus_crc(const std::uint8_t* p, std::size_t n) {
    std::uint16_t crc = 0xFFFF;
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int b = 0; b < 8; ++b) crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : static_cast<std::uint16_t>(crc >> 1);
    }
    return crc;
}

// Reads one whole 8-byte read request from the pty master (blocking).
void read_request(int fd) {
    std::array<std::uint8_t, 8> req{};
    std::size_t got = 0;
    while (got < req.size()) {
        const auto n = ::read(fd, req.data() + got, req.size() - got);
        REQUIRE(n > 0);
        got += static_cast<std::size_t>(n);
    }
}

// The answer to a read of registers 0..7 of an LF-2000 whose sample counter is `sample`.
std::vector<std::uint8_t> answer_adu(std::uint16_t sample, bool damaged = false) {
    const std::array<std::uint16_t, 8> regs{0, 0, 0, 0, 1 /* VALID */, 2000, sample, 100};
    std::vector<std::uint8_t> adu{1, 0x04, 16};
    for (auto r : regs) {
        adu.push_back(static_cast<std::uint8_t>(r >> 8));
        adu.push_back(static_cast<std::uint8_t>(r & 0xFF));
    }
    const auto crc = modbus_crc(adu.data(), adu.size());
    adu.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    adu.push_back(static_cast<std::uint8_t>(crc >> 8));
    if (damaged) adu[5] ^= 0x10;  // one bit of a register flipped on the line: the CRC fails
    return adu;
}

// Answers to read requests with these sample counters, in one write.
void write_answers(int fd, std::initializer_list<std::uint16_t> samples) {
    std::vector<std::uint8_t> bytes;
    for (auto s : samples) {
        const auto adu = answer_adu(s);
        bytes.insert(bytes.end(), adu.begin(), adu.end());
    }
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
}

void write_answer(int fd, std::uint16_t sample, bool damaged = false) {
    const auto adu = answer_adu(sample, damaged);
    REQUIRE(::write(fd, adu.data(), adu.size()) == static_cast<ssize_t>(adu.size()));
}

}  // namespace

TEST_CASE("meter driver never takes an answer that came after its timeout for the next request's") {
    // A scripted meter on the pty master: the first read gets no answer in time, then its late
    // answer (sample 1) lands in the buffers; the next read must get its own answer (sample 2).
    // The driver flushes only after a failed request, so this is the case the flush is for.
    itest::PtyPair pty;
    auto link = rtu_link(pty.slave_path);
    link.retries = 0;
    link.response_timeout = 50ms;
    auto driver = MeterDriver::open(link, lf2000());
    REQUIRE(driver.has_value());

    auto first = driver->read();
    REQUIRE_FALSE(first.has_value());
    CHECK(first.error().kind == ErrorKind::Timeout);
    read_request(pty.master);
    write_answer(pty.master, 1);  // late: its request has already timed out

    std::thread meter([&] {
        read_request(pty.master);
        write_answer(pty.master, 2);
        read_request(pty.master);
        write_answer(pty.master, 3);
    });
    auto second = driver->read();
    auto third = driver->read();  // after a good answer: no flush needed, still its own answer
    meter.join();
    REQUIRE(second.has_value());
    CHECK(second->sample == 2);
    REQUIRE(third.has_value());
    CHECK(third->sample == 3);
}

TEST_CASE("meter driver drops the second answer when a timed-out request and its retry both answer") {
    // The first attempt gets no answer in time, the retry goes out, then both answers arrive
    // (the meter was slow, not deaf): the driver takes the first and must not leave the second
    // for the next request, which would then read one period behind (seen under load as stale
    // readings on the simulated bench).
    itest::PtyPair pty;
    auto link = rtu_link(pty.slave_path);
    link.retries = 1;
    link.response_timeout = 50ms;
    auto driver = MeterDriver::open(link, lf2000());
    REQUIRE(driver.has_value());

    std::thread meter([&] {
        read_request(pty.master);
        read_request(pty.master);  // the retry: the first has timed out
        // Both answers in one write, so they are in the buffers together.
        write_answers(pty.master, {1, 2});
        read_request(pty.master);
        write_answer(pty.master, 3);
    });
    auto first = driver->read();
    auto next = driver->read();
    meter.join();
    REQUIRE(first.has_value());
    CHECK(first->sample == 1);
    CHECK(driver->counters().retries == 1);
    REQUIRE(next.has_value());
    CHECK(next->sample == 3);
}

TEST_CASE("meter driver keeps reading while the answers come back damaged, within its noise retries") {
    // (A first read that gets no answer at all, as on a dead link, has only its 2 retries: the
    // test of the timeout naming the link.)
    // Line noise (docs/reliability.md): four answers in a row with a bad CRC, then a good one.
    // Two retries alone would lose the sample; a damaged answer shows the link is alive.
    itest::PtyPair pty;
    auto link = rtu_link(pty.slave_path);
    link.retries = 2;
    link.noise_retries = 5;
    auto driver = MeterDriver::open(link, lf2000());
    REQUIRE(driver.has_value());
    std::thread meter([&] {
        for (int i = 0; i < 4; ++i) {
            read_request(pty.master);
            write_answer(pty.master, 7, true);
        }
        read_request(pty.master);
        write_answer(pty.master, 7);
        // A meter whose every answer is damaged: 1 + 2 + 5 attempts, then the sample is missing.
        for (int i = 0; i < 8; ++i) {
            read_request(pty.master);
            write_answer(pty.master, 8, true);
        }
    });
    auto read = driver->read();
    REQUIRE(read.has_value());
    CHECK(read->sample == 7);
    CHECK(driver->counters().retries == 4);
    auto lost = driver->read();
    meter.join();
    REQUIRE_FALSE(lost.has_value());
    CHECK(lost.error().message.find("after 8 attempts") != std::string::npos);
    CHECK(driver->counters().retries == 4 + 7);
}
