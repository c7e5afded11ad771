// The wire trace under the probes: the pump link stacked as the bench stacks it (transport ->
// pump::TracedLink -> bench::ProbeStream -> pump::PumpDriver), over an in-memory pump. The
// trace must hold exactly the bytes the pump received and sent: not the EVACK the resend probe
// held back, not the OK it answered in the pump's place, but the request the retry probe sent
// again; the AUTH mac redacted; what the probes did as notes, apart from the bytes.
#include <doctest/doctest.h>

#include <algorithm>

#include "bench/probe_stream.hpp"
#include "pump/driver/link_trace.hpp"
#include "pump/driver/pump_driver.hpp"
#include "unit/pump/driver_fake_pump.hpp"

using namespace pumprig;
using namespace pumprig::pump;
using namespace pumprig::pump::testing;

namespace {

const char* kTestKeyHex = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
// HMAC-SHA256 of "9F2C41D07A3B66E1:SIM0001" under the test key (as driver_test.cpp has it).
const std::string kMac = "8B4B9D16778E3EE52BFA6FD7DA9A19C59BD92AE3EE9DBD723EE064AEA77B790F";
const std::string kEvent = "EV,n=1,t=1767225700.000,type=STATE,state=RUNNING";

struct ProbedLink {
    std::shared_ptr<FakePumpState> pump = std::make_shared<FakePumpState>();
    std::string sent, received;   // the trace's bytes, each way
    std::vector<std::string> notes;
    std::string order;            // the trace's entries in order: > < #
    bench::ProbeStream* probes = nullptr;
    std::unique_ptr<PumpDriver> driver;

    explicit ProbedLink(const Clock* clock = nullptr) {
        DriverOptions options;
        options.seed = 7;
        options.response_timeout = Millis{5};
        options.secrets = std::make_shared<SecretScrubber>();
        auto sink = [this](TraceKind kind, std::string_view bytes) {
            if (kind == TraceKind::Sent) sent += bytes;
            else if (kind == TraceKind::Received) received += bytes;
            else notes.emplace_back(bytes);
            order += kind == TraceKind::Sent ? '>' : kind == TraceKind::Received ? '<' : '#';
        };
        auto traced = std::make_unique<TracedLink>(std::make_unique<FakePumpStream>(pump), sink, options.secrets);
        auto* tap = traced.get();
        auto probe = std::make_unique<bench::ProbeStream>(std::move(traced), clock, [tap](std::string_view t) { tap->note(t); });
        probes = probe.get();
        driver = std::make_unique<PumpDriver>(std::move(probe), options);
        driver->set_wait_hook([](Millis) {});
        // A pump that answers every request OK (HELLO with its identity), sends one event after
        // START and, like a pump that honours retry safety, answers a repeated BOLUS again.
        pump->on_frame = [](const codec::DecodedLine& l, FakePumpState& p) {
            const auto verb = verb_of(l);
            if (verb == "HELLO") p.reply(seq_of(l), "OK,model=ITB-40,sn=SIM0001,fw=2.4.1,proto=1,nonce=9F2C41D07A3B66E1");
            else p.reply(seq_of(l), "OK");
            if (verb == "START") p.reply(kEvent);
        };
    }
    std::string pump_received() const {
        std::string all;
        for (const auto& w : pump->writes) all += w;
        return all;
    }
    std::string pump_sent() const {
        std::string all;
        for (const auto& r : pump->served) all += r;
        return all;
    }
};

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

std::string redacted(std::string text) {
    for (auto at = text.find(kMac); at != std::string::npos; at = text.find(kMac)) text.replace(at, kMac.size(), "<redacted>");
    return text;
}

}  // namespace

TEST_CASE("probe trace: the held EVACK and the OK pumprig answered for it are not in the trace, the re-sent event is") {
    ProbedLink link;
    link.probes->arm_resend();
    REQUIRE(link.driver->start());
    REQUIRE(link.driver->poll_events(Millis{0}));  // the EVACK is held: the pump never hears of it
    CHECK(count(link.pump_received(), "EVACK") == 0);
    link.pump->reply(kEvent);                       // so it sends the event again
    REQUIRE(link.driver->poll_events(Millis{0}));  // this EVACK goes out
    CHECK(count(link.pump_received(), "EVACK,n=1") == 1);

    // Exactly the bytes that crossed the link, each way.
    CHECK(link.sent == link.pump_received());
    CHECK(link.received == link.pump_sent());
    CHECK(count(link.sent, "EVACK,n=1") == 1);
    CHECK(count(link.received, kEvent) == 2);
    // The driver did get an OK for the held EVACK (from the probe), and the pump answered one
    // EVACK: START's OK and one EVACK's OK come from the pump.
    CHECK(count(link.received, ",OK*") == 2);
    // What the probe did is a note, never a line of either direction.
    REQUIRE(link.notes.size() == 1);
    CHECK(link.notes[0].find("EVACK n=1") != std::string::npos);
    CHECK(link.notes[0].find("held back") != std::string::npos);
    CHECK(link.sent.find("held back") == std::string::npos);
    CHECK(link.received.find("held back") == std::string::npos);
    const auto records = link.probes->take_records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].verb == "probe.resend");
    CHECK(records[0].answer.kind == record::Answer::Kind::Ok);
}

TEST_CASE("probe trace: the BOLUS the retry probe sends again is in the trace as sent, and the AUTH mac is redacted") {
    ProbedLink link;
    const auto key = PumpKey::from_hex(kTestKeyHex);
    REQUIRE(key);
    REQUIRE(link.driver->authenticate(*key));
    link.probes->arm_retry();
    REQUIRE(link.driver->bolus(20.0, 10));
    // The driver asked once; the pump got the request twice, byte for byte.
    const auto bodies = link.pump->sent_bodies();
    REQUIRE(std::count_if(bodies.begin(), bodies.end(), [](const std::string& b) { return b.ends_with(",BOLUS,dose_ug=20.0,dur_min=10"); }) == 2);
    CHECK(link.pump_received().find(kMac) != std::string::npos);  // the pump did get the mac

    CHECK(link.sent == redacted(link.pump_received()));
    CHECK(link.received == link.pump_sent());
    CHECK(count(link.sent, ",BOLUS,") == 2);
    CHECK(count(link.sent, "AUTH,mac=<redacted>*") == 1);
    for (const std::string& text : {link.sent, link.received}) {
        CHECK(text.find(kMac) == std::string::npos);
        CHECK(text.find(kMac.substr(0, 32)) == std::string::npos);
    }
    // Noted: the re-send (before its bytes) and the repeated answer kept from the driver.
    REQUIRE(link.notes.size() == 2);
    CHECK(link.notes[0].find("BOLUS,dose_ug=20.0,dur_min=10 sent again") != std::string::npos);
    CHECK(link.notes[1].find("kept from the driver") != std::string::npos);
    CHECK(link.order.ends_with("#><#"));  // note, the BOLUS again, the pump's repeated answer, note
    const auto records = link.probes->take_records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].verb == "probe.retry");
    CHECK(records[0].answer.kind == record::Answer::Kind::Ok);
}

namespace {

// The overflow probe's pump: an ALARM (n=1), then `newer` STATE events, each line as the pump
// sends it; the test plays the pump's re-sending by hand.
std::string overflow_event(std::uint32_t n) {
    return n == 1 ? "EV,n=1,t=1767225601.000,type=ALARM,code=LOW_RES,state=SET"
                  : "EV,n=" + std::to_string(n) + ",t=1767225602.000,type=STATE,state=RUNNING";
}

// A zero-wait poll reads once (one line from the fake pump) and acknowledges a few events: poll
// a bounded number of times, enough for every line and acknowledgement.
void settle(ProbedLink& link) {
    for (int i = 0; i < 300; ++i) REQUIRE(link.driver->poll_events(Millis{0}));
}

void send_events(ProbedLink& link, std::uint32_t from, std::uint32_t to) {
    for (auto n = from; n <= to; ++n) link.pump->reply(overflow_event(n));
    settle(link);
}

}  // namespace

TEST_CASE("probe overflow: EVACKs held from the ALARM until 65 newer events, then sent by the probe, the ALARM sent again passes") {
    ManualClock clock(kDefaultVirtualEpoch);
    ProbedLink link(&clock);
    link.probes->arm_overflow();
    send_events(link, 1, 33);  // the ALARM and 32 newer: all held, the pump hears no EVACK
    CHECK(count(link.pump_received(), "EVACK") == 0);
    send_events(link, 34, 65);  // 64 newer: still held
    CHECK(count(link.pump_received(), "EVACK") == 0);
    send_events(link, 66, 66);  // the 65th newer: the held EVACKs but the ALARM's go out, from the probe
    settle(link);
    for (std::uint32_t n = 2; n <= 66; ++n) CHECK(count(link.pump_received(), "EVACK,n=" + std::to_string(n) + "*") == 1);
    CHECK(count(link.pump_received(), "EVACK,n=1*") == 0);
    // The pump's answers to the probe's EVACKs are real bytes in the trace; the trace is the wire.
    CHECK(link.sent == link.pump_received());
    CHECK(link.received == link.pump_sent());
    CHECK(std::any_of(link.notes.begin(), link.notes.end(), [](const std::string& n) { return n.find("65 events newer than ALARM n=1") != std::string::npos; }));
    // Each EVACK the probe sent itself (n=2 to 65: held while fewer than 65 newer had come) is
    // told in a note before its bytes.
    CHECK(std::count_if(link.notes.begin(), link.notes.end(), [](const std::string& n) { return n.find("sent now by pumprig") != std::string::npos; }) == 64);
    CHECK(link.probes->take_records().empty());  // not judged yet

    clock.advance(Millis{10'000});
    link.pump->reply(overflow_event(1));  // the pump kept the ALARM: it comes again
    settle(link);
    CHECK(count(link.pump_received(), "EVACK,n=1*") >= 1);  // and is acknowledged at last
    const auto records = link.probes->take_records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].verb == "probe.overflow");
    CHECK(records[0].answer.kind == record::Answer::Kind::Ok);
    CHECK(records[0].answer.values.at("after_s") == "10.0");
    CHECK(link.sent == link.pump_received());
}

TEST_CASE("probe overflow: an ALARM not sent again within the limit after 65 newer events is recorded with no answer, and its EVACK still sent") {
    ManualClock clock(kDefaultVirtualEpoch);
    ProbedLink link(&clock);
    link.probes->arm_overflow();
    send_events(link, 1, 40);
    send_events(link, 41, 66);
    settle(link);
    clock.advance(Millis{11'900});
    CHECK(link.probes->take_records().empty());  // still within the limit
    clock.advance(Millis{100});
    const auto records = link.probes->take_records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].verb == "probe.overflow");
    CHECK(records[0].answer.kind == record::Answer::Kind::None);
    CHECK(records[0].step_label.find("ALARM LOW_RES n=1") != std::string::npos);
    settle(link);
    CHECK(count(link.pump_received(), "EVACK,n=1*") == 1);  // sent by the probe: the pump's queue drains
    CHECK(link.sent == link.pump_received());
    CHECK(link.received == link.pump_sent());
}

TEST_CASE("probe overflow: without an ALARM nothing is held") {
    ProbedLink link;
    link.probes->arm_overflow();
    send_events(link, 2, 80);
    for (std::uint32_t n = 2; n <= 80; ++n) CHECK(count(link.pump_received(), "EVACK,n=" + std::to_string(n) + "*") == 1);
    CHECK(link.notes.empty());
    CHECK(link.probes->take_records().empty());
}
