// PumpDriver over real links: the termios backend on a pseudo-terminal (and ser2net in front
// of one), with a scripted fake pump on the master side in its own thread. The fake pump is
// a script, not the simulator: each case says exactly what the pump does.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "pump/codec/frame.hpp"
#include "pump/codec/messages.hpp"
#include "pump/driver/pump_driver.hpp"
#include "transport_test_support.hpp"

using namespace pumprig;
using namespace pumprig::pump;
using pumprig::testing::PtyPair;
using pumprig::testing::Ser2NetProcess;

namespace {

const char* kTestKeyHex = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";

struct Reply {
    std::string bytes;
    bool hang_up = false;  // close the master after writing bytes
};

// Serves the master side of a pty: each decoded request goes to the script, whose reply is
// written back. Stops on destruction (a pipe wakes its poll) or after a hang-up.
class FakePumpThread {
public:
    using Script = std::function<Reply(const codec::Request&)>;
    FakePumpThread(PtyPair& pty, Script script) : pty_(pty), script_(std::move(script)) {
        if (::pipe2(stop_, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        thread_ = std::thread([this] { run(); });
    }
    ~FakePumpThread() {
        const char x = 'x';
        (void)!::write(stop_[1], &x, 1);
        thread_.join();
        ::close(stop_[0]);
        ::close(stop_[1]);
    }
    std::vector<std::string> bodies() {
        std::lock_guard lock(mutex_);
        return bodies_;
    }

private:
    void run() {
        codec::FrameDecoder decoder;
        while (true) {
            pollfd fds[2] = {{pty_.master, POLLIN, 0}, {stop_[0], POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) continue;
            if (fds[1].revents != 0) return;
            char buf[512];
            const ssize_t n = ::read(pty_.master, buf, sizeof buf);
            if (n <= 0) return;
            decoder.feed(std::string_view(buf, static_cast<std::size_t>(n)));
            while (auto line = decoder.next()) {
                const auto request = codec::parse_request(line->body);
                if (!request) continue;
                {
                    std::lock_guard lock(mutex_);
                    bodies_.push_back(line->body);
                }
                const Reply reply = script_(*request);
                if (!reply.bytes.empty()) pty_.write_master(reply.bytes);
                if (reply.hang_up) {
                    pty_.close_master();
                    return;
                }
            }
        }
    }
    PtyPair& pty_;
    Script script_;
    int stop_[2]{-1, -1};
    std::mutex mutex_;
    std::vector<std::string> bodies_;
    std::thread thread_;
};

std::string frame(std::uint32_t seq, const std::string& rest) {
    return codec::encode_frame(std::to_string(seq) + "," + rest);
}

// A pump that knows the ICD test key: HELLO, AUTH (checking the mac), STATUS, START with its
// events in front of the response, EVACK.
Reply well_behaved(const codec::Request& r) {
    static const auto key = PumpKey::from_hex(kTestKeyHex).value();
    if (r.verb == "HELLO") return {frame(r.seq, "OK,model=ITB-40,sn=SIM0001,fw=2.4.1,proto=1,nonce=9F2C41D07A3B66E1")};
    if (r.verb == "AUTH")
        return {frame(r.seq, r.args.get("mac") == auth_mac(key, "9F2C41D07A3B66E1", "SIM0001") ? "OK" : "ERR,code=AUTH")};
    if (r.verb == "STATUS")
        return {frame(r.seq,
                      "OK,state=STOPPED,t=1767225600.000,res_ml=20.000,conc_ug_ml=500,rate_ml_day=0.000,"
                      "bolus=NONE,deliv_ml=0.000,step=0,batt_pct=100,alarms=NONE")};
    if (r.verb == "START")
        return {codec::encode_frame("EV,n=2,t=1767225612.500,type=STATE,state=RUNNING") +
                codec::encode_frame("EV,n=3,t=1767225612.500,type=STEP,step=1,dose_ug_day=250.0") + frame(r.seq, "OK")};
    return {frame(r.seq, "OK")};
}

DriverOptions test_options() {
    DriverOptions o;
    o.seed = 11;
    o.response_timeout = Millis{100};
    return o;
}

std::unique_ptr<PumpDriver> driver_on(const PtyPair& pty, DriverOptions options = test_options()) {
    auto link = transport::open_termios(pty.slave_path, {});
    REQUIRE(link);
    return std::make_unique<PumpDriver>(std::move(*link), std::move(options));
}

}  // namespace

TEST_CASE("pump driver over a pty: session, status and events with a scripted pump") {
    PtyPair pty;
    FakePumpThread pump(pty, well_behaved);
    auto driver = driver_on(pty);
    const auto key = PumpKey::from_hex(kTestKeyHex);
    REQUIRE(key);
    const auto id = driver->authenticate(*key);
    REQUIRE_MESSAGE(id, (id ? "" : id.error().describe()));
    CHECK(driver->session_active());
    const auto status = driver->status();
    REQUIRE(status);
    CHECK(status->res_ml == doctest::Approx(20.0));
    REQUIRE(driver->start());
    const auto events = driver->take_events();
    REQUIRE(events.size() == 2);
    CHECK(events[0].event.n == 2);
    CHECK(events[1].event.n == 3);
    const auto bodies = pump.bodies();
    REQUIRE(bodies.size() == 6);
    CHECK(bodies[3].ends_with(",START"));
    CHECK(bodies[4].ends_with(",EVACK,n=2"));
    CHECK(bodies[5].ends_with(",EVACK,n=3"));
}

TEST_CASE("pump driver over a pty: a silent pump gives a timeout after the retries") {
    PtyPair pty;
    FakePumpThread pump(pty, [](const codec::Request&) { return Reply{}; });
    auto driver = driver_on(pty);
    const auto r = driver->status();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::Timeout);
    CHECK(driver->counters().retries == 3);
}

TEST_CASE("pump driver over a pty: a pump hanging up mid-line gives link lost") {
    PtyPair pty;
    FakePumpThread pump(pty, [](const codec::Request& r) {
        return Reply{"$" + std::to_string(r.seq) + ",OK,state=RUN", true};
    });
    auto driver = driver_on(pty);
    const auto r = driver->status();
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::LinkLost);
    // and the driver stays usable as an object: the next call fails the same way at once
    const auto again = driver->stop();
    REQUIRE_FALSE(again);
    CHECK(again.error().kind == ErrorKind::LinkLost);
}

TEST_CASE("pump driver over a pty: garbage and bad CRCs before the answer are survived") {
    PtyPair pty;
    FakePumpThread pump(pty, [](const codec::Request& r) {
        std::string noise = std::string("\x00\x13\xff junk \r\n", 11) + "$" + std::to_string(r.seq) + ",OK*0000\r\n";
        return Reply{noise + frame(r.seq, "OK")};
    });
    auto driver = driver_on(pty);
    REQUIRE(driver->start());
    CHECK(driver->counters().crc_errors == 1);
}

TEST_CASE("pump driver through ser2net: the same conversation over TCP") {
    if (!Ser2NetProcess::available()) {
        MESSAGE("ser2net is not installed: skipped");
        return;
    }
    PtyPair pty;
    FakePumpThread pump(pty, well_behaved);
    Ser2NetProcess ser2net(pty.slave_path);
    auto link = ser2net.connect(Millis{5000});
    REQUIRE_MESSAGE(link, (link ? "" : link.error().describe()));
    PumpDriver driver(std::move(*link), test_options());
    const auto key = PumpKey::from_hex(kTestKeyHex);
    REQUIRE(key);
    REQUIRE(driver.authenticate(*key));
    REQUIRE(driver.start());
    CHECK(driver.take_events().size() == 2);
}
