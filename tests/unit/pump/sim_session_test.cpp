// The simulated pump against ICD sections 2 to 6: framing, errors and their precedence, retry
// safety, authentication, clock and programs.
#include "sim_support.hpp"

namespace pumprig::pump::sim::test {

namespace {
std::string crlf(std::string_view line) { return std::string(line) + "\r\n"; }

// Feeds a raw frame (as written in the ICD) and returns what the pump sent back.
std::string raw(PumpModel& pump, std::string_view line) {
    pump.receive(crlf(line));
    return pump.take_output();
}
std::string send_body(PumpModel& pump, std::string_view body) {
    pump.receive(codec::encode_frame(body));
    return pump.take_output();
}
}  // namespace

TEST_CASE("pump sim: the ICD example session, byte for byte") {
    PumpModelConfig config;
    config.forced_nonces = {"9F2C41D07A3B66E1"};
    PumpModel pump(config, kDefaultVirtualEpoch);
    CHECK(pump.take_output() == codec::encode_frame("EV,n=1,t=1767225600.000,type=BOOT,reason=POWER"));

    CHECK(raw(pump, "$1,HELLO*7613") == crlf("$1,OK,model=ITB-40,sn=SIM0001,fw=2.4.1,proto=1,nonce=9F2C41D07A3B66E1*0DCC"));
    CHECK(raw(pump, "$2,AUTH,mac=8B4B9D16778E3EE52BFA6FD7DA9A19C59BD92AE3EE9DBD723EE064AEA77B790F*B073") == crlf("$2,OK*52BB"));
    CHECK(raw(pump, "$3,STATUS*A0B0") ==
          crlf("$3,OK,state=STOPPED,t=1767225600.000,res_ml=0.000,conc_ug_ml=0,rate_ml_day=0.000,bolus=NONE,"
               "deliv_ml=0.000,step=0,batt_pct=100,alarms=NONE*40FA"));
    CHECK(raw(pump, "$4,REFILL,res_ml=20.000,conc_ug_ml=500*7C6F") == crlf("$4,OK*7522"));
    CHECK(raw(pump, "$4,REFILL,res_ml=20.000,conc_ug_ml=500*7C6E") == crlf("$0,ERR,code=CRC*C779"));

    CHECK(raw(pump, "$5,PROG.BEGIN*F997") == crlf("$5,OK*0396"));
    CHECK(raw(pump, "$6,PROG.STEP,start=00:00,dose_ug_day=250.0*C56B") == codec::encode_frame("6,OK"));
    CHECK(raw(pump, "$7,PROG.STEP,start=08:00,dose_ug_day=300.0*353C") == codec::encode_frame("7,OK"));
    CHECK(raw(pump, "$8,PROG.BOLUS,start=12:00,dose_ug=50.0,dur_min=10*DBA4") == codec::encode_frame("8,OK"));
    CHECK(raw(pump, "$9,PROG.COMMIT*D342") == crlf("$9,OK,steps=2,boluses=1,daily_ug=333.3*083D"));
    CHECK(raw(pump, "$10,PROG.READ*DD56") == crlf("$10,OK,steps=2,boluses=1,ptm=0,daily_ug=333.3*25E7"));
    CHECK(raw(pump, "$11,PROG.READ,step=2*DD06") == crlf("$11,OK,step=2,start=08:00,dose_ug_day=300.0*063E"));
    CHECK(raw(pump, "$12,PROG.READ,bolus=1*1C35") == crlf("$12,OK,bolus=1,start=12:00,dose_ug=50.0,dur_min=10*BF65"));

    // 12.5 s later; BOOT, not acknowledged, was sent again at 10 s, byte for byte.
    pump.advance(12'500ms);
    CHECK(pump.take_output() == codec::encode_frame("EV,n=1,t=1767225600.000,type=BOOT,reason=POWER"));
    CHECK(raw(pump, "$13,START*93CE") == crlf("$EV,n=2,t=1767225612.500,type=STATE,state=RUNNING*CE53") +
                                             crlf("$EV,n=3,t=1767225612.500,type=STEP,step=1,dose_ug_day=250.0*639C") +
                                             crlf("$13,OK*177C"));
    CHECK(raw(pump, "$14,EVACK,n=2*6C91") == crlf("$14,OK*4651"));
    CHECK(pump.snapshot().unacked_events == 2);  // BOOT and STEP still wait
}

TEST_CASE("pump sim: frames that cannot be read get CRC or SYNTAX with SEQ 0, or no answer") {
    PumpModel pump({}, kDefaultVirtualEpoch);
    pump.take_output();
    CHECK(raw(pump, "$1,STATUS*0000") == codec::encode_frame("0,ERR,code=CRC"));
    CHECK(send_body(pump, "abc,STATUS") == codec::encode_frame("0,ERR,code=SYNTAX"));
    CHECK(send_body(pump, "0,STATUS") == codec::encode_frame("0,ERR,code=SYNTAX"));
    CHECK(send_body(pump, "65536,STATUS") == codec::encode_frame("0,ERR,code=SYNTAX"));
    CHECK(send_body(pump, "STATUS") == codec::encode_frame("0,ERR,code=SYNTAX"));
    // SEQ readable, rest of the body not well formed: SYNTAX with the request's SEQ.
    CHECK(send_body(pump, "7,STATUS,junk") == codec::encode_frame("7,ERR,code=SYNTAX"));
    CHECK(send_body(pump, "8,STATUS,,x=1") == codec::encode_frame("8,ERR,code=SYNTAX"));
    CHECK(send_body(pump, "9") == codec::encode_frame("9,ERR,code=SYNTAX"));
    // Discarded without an answer: no '*', a byte outside 0x20..0x7E, over 256 bytes.
    CHECK(raw(pump, "$1,STATUS").empty());
    CHECK(raw(pump, "$1,STA\x01TUS*1234").empty());
    CHECK(raw(pump, "$1,STATUS," + std::string(260, 'x') + "*1234").empty());
    // Lower-case CRC digits are accepted; noise before '$' is ignored.
    std::string frame = codec::encode_frame("10,CLOCK");
    for (auto& c : frame) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    frame.replace(0, frame.find('*'), "$10,CLOCK");
    pump.receive("garbage\x07" + frame);
    CHECK(bodies(pump.take_output()) == std::vector<std::string>{"10,ERR,code=AUTH,msg=authenticate first (HELLO then AUTH)"});
}

TEST_CASE("pump sim: errors follow the ICD precedence order") {
    Host host;
    // UNKNOWN before AUTH: no session yet.
    CHECK(host.code("FLY") == "UNKNOWN");
    CHECK(host.code("start") == "UNKNOWN");
    // AUTH before ARG.
    CHECK(host.code("START,x=1") == "AUTH");
    CHECK(host.code("BOLUS,dose_ug=abc") == "AUTH");
    host.ready();
    // ARG before STATE (STOPPED would refuse BOLUS).
    CHECK(host.code("BOLUS,dose_ug=1.0,dur_min=x") == "ARG");
    CHECK(host.code("BOLUS,dose_ug=1.0") == "ARG");
    // STATE before RANGE.
    CHECK(host.code("BOLUS,dose_ug=1.0,dur_min=0") == "STATE");
    REQUIRE(host.code("START") == "OK");
    CHECK(host.code("BOLUS,dose_ug=1.0,dur_min=0") == "RANGE");
    CHECK(host.code("BOLUS,dose_ug=1.0,dur_min=1441") == "RANGE");
    // LOCKOUT before LIMIT: both apply to the second patient bolus here.
    REQUIRE(host.code("STOP") == "OK");
    REQUIRE(host.code("PROG.BEGIN") == "OK");
    REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=500.0") == "OK");
    REQUIRE(host.code("PROG.PTM,dose_ug=5.0,dur_min=1,lockout_min=60,max_day=1") == "OK");
    REQUIRE(host.code("PROG.COMMIT") == "OK");
    REQUIRE(host.code("START") == "OK");
    REQUIRE(host.code("PTM") == "OK");
    host.advance(2min);
    CHECK(host.code("PTM") == "LOCKOUT");
    host.advance(60min);
    CHECK(host.code("PTM") == "LIMIT");
    // STATE at end of service comes before ARG.
    host.pump.set_battery_pct(0);
    CHECK(host.code("START,x=1") == "STATE");
    CHECK(host.code("REFILL,res_ml=abc") == "STATE");
    CHECK(host.code("STATUS") == "OK");
}

TEST_CASE("pump sim: a repeated request is answered again without being executed") {
    Host host;
    host.ready();
    REQUIRE(host.code("START") == "OK");
    const std::string bolus = codec::encode_frame("500,BOLUS,dose_ug=10.0,dur_min=10");
    host.pump.receive(bolus);
    const std::string first = host.pump.take_output();
    CHECK(event_types(first) == std::vector<std::string>{"BOLUS_START"});
    host.pump.receive(bolus);  // the host's retry after a lost response
    const std::string second = host.pump.take_output();
    CHECK(second == codec::encode_frame("500,OK"));
    // Same SEQ, other body: SEQ, nothing executed.
    host.pump.receive(codec::encode_frame("500,BOLUS.CANCEL"));
    CHECK(bodies(host.pump.take_output()) ==
          std::vector<std::string>{"500,ERR,code=SEQ,msg=SEQ of the last request with another body"});
    CHECK(host.pump.snapshot().bolus == BolusKind::Clinician);
    // SYNTAX comes before SEQ, SEQ before UNKNOWN.
    host.pump.receive(codec::encode_frame("500,BOLUS,junk"));
    CHECK(bodies(host.pump.take_output()) == std::vector<std::string>{"500,ERR,code=SYNTAX"});
    host.pump.receive(codec::encode_frame("500,FLY"));
    CHECK(bodies(host.pump.take_output()).front().starts_with("500,ERR,code=SEQ"));
    host.pump.receive(bolus);  // neither of those replaced the last executed request
    CHECK(host.pump.take_output() == codec::encode_frame("500,OK"));
    // A refusal is kept as the previous response too, and repeated as it was.
    host.pump.receive(codec::encode_frame("501,PTM"));
    const std::string refused = host.pump.take_output();
    CHECK(bodies(refused).front().starts_with("501,ERR,code=STATE"));
    host.pump.receive(codec::encode_frame("501,PTM"));
    CHECK(host.pump.take_output() == refused);
    // A new SEQ is executed.
    host.seq = 502;
    CHECK(host.code("BOLUS.CANCEL") == "OK");
    CHECK(event_types(host.last_output) == std::vector<std::string>{"BOLUS_END"});
}

TEST_CASE("pump sim: AUTH needs a fresh nonce, and a failed AUTH keeps the session") {
    Host host;
    CHECK(host.code("AUTH,mac=" + std::string(64, '0')) == "AUTH");  // no HELLO yet
    const auto nonce = host.value("HELLO", "nonce");
    const auto mac = hmac_hex(nonce + ":SIM0001");
    // Either case of hexadecimal digits is accepted.
    std::string lower = mac;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(host.code("AUTH,mac=" + lower) == "OK");
    CHECK(host.code("CLOCK") == "OK");
    CHECK(host.code("AUTH,mac=" + mac) == "AUTH");  // the nonce was used up
    CHECK(host.code("CLOCK") == "OK");              // session still there
    // HELLO ends the session and closes an open edit.
    REQUIRE(host.code("PROG.BEGIN") == "OK");
    const auto nonce2 = host.value("HELLO", "nonce");
    CHECK(nonce2 != nonce);
    CHECK(host.code("CLOCK") == "AUTH");
    CHECK(host.code("AUTH,mac=" + hmac_hex(nonce2 + ":SIM0001")) == "OK");
    CHECK(host.code("PROG.STEP,start=00:00,dose_ug_day=1.0") == "STATE");
    // A mac that is not 64 hex digits is a failed AUTH; no mac at all is ARG.
    host.value("HELLO", "nonce");
    CHECK(host.code("AUTH,mac=XYZ") == "AUTH");
    host.value("HELLO", "nonce");
    CHECK(host.code("AUTH") == "ARG");
}

TEST_CASE("pump sim: three failed AUTH lock AUTH for 60 s of elapsed time") {
    Host host;
    for (int i = 0; i < 3; ++i) {
        host.value("HELLO", "nonce");
        CHECK(host.code("AUTH,mac=" + std::string(64, 'A')) == "AUTH");
    }
    CHECK(host.pump.snapshot().auth_locked);
    auto good_auth = [&] {
        const auto nonce = host.value("HELLO", "nonce");
        return host.code("AUTH,mac=" + hmac_hex(nonce + ":SIM0001"));
    };
    CHECK(good_auth() == "LOCKED");
    host.advance(59'999ms);
    CHECK(good_auth() == "LOCKED");  // LOCKED answers do not make the 60 s longer
    host.advance(1ms);
    CHECK(good_auth() == "OK");
    // The count started again at 0 after the lockout: two failures do not lock.
    for (int i = 0; i < 2; ++i) {
        host.value("HELLO", "nonce");
        CHECK(host.code("AUTH,mac=" + std::string(64, 'A')) == "AUTH");
    }
    CHECK(good_auth() == "OK");
    // A second lockout runs its own 60 s.
    for (int i = 0; i < 3; ++i) {
        host.value("HELLO", "nonce");
        CHECK(host.code("AUTH,mac=" + std::string(64, 'A')) == "AUTH");
    }
    host.advance(30s);
    CHECK(good_auth() == "LOCKED");
    host.advance(30s);
    CHECK(good_auth() == "OK");
}

TEST_CASE("pump sim: without a session only HELLO, AUTH, STATUS and EVACK are taken") {
    Host host;
    for (const char* verb : {"CLOCK", "PROG.BEGIN", "PROG.READ", "START", "STOP", "BOLUS.CANCEL", "PTM", "RESET",
                             "REFILL,res_ml=1.0,conc_ug_ml=500", "ALARM.CFG,low_res_ml=2.0", "PRIME,vol_ml=0.1"})
        CHECK_MESSAGE(host.code(verb) == "AUTH", verb);
    CHECK(host.code("STATUS") == "OK");
    CHECK(host.code("EVACK,n=1") == "OK");
    CHECK(host.code("EVACK,n=999") == "OK");  // also for an event not waiting
    CHECK(host.code("EVACK") == "ARG");
    CHECK(host.code("EVACK,n=1.0") == "ARG");
}

TEST_CASE("pump sim: nonces are 16 upper-case hex digits, new at each HELLO, from the seed") {
    Host a, b;
    PumpModelConfig other;
    other.seed = 2;
    Host c(other);
    const auto a1 = a.value("HELLO", "nonce"), a2 = a.value("HELLO", "nonce");
    CHECK(is_nonce_text(a1));
    CHECK(is_nonce_text(a2));
    CHECK(a1 != a2);
    CHECK(b.value("HELLO", "nonce") == a1);
    CHECK(c.value("HELLO", "nonce") != a1);
}

TEST_CASE("pump sim: keys unknown, missing or malformed are ARG") {
    Host host;
    host.login();
    CHECK(host.code("STATUS,verbose=1") == "ARG");
    CHECK(host.code("REFILL,res_ml=1.0") == "ARG");
    CHECK(host.code("REFILL,res_ml=1.0,conc_ug_ml=500.0") == "ARG");  // concentration is whole
    CHECK(host.code("REFILL,res_ml=1.0,conc_ug_ml=500,conc_ug_ml=500") == "ARG");
    for (const char* bad : {"1e3", "-1", "1.", ".5", "1.1234567", " 1", "1;0"})
        CHECK_MESSAGE(host.code(std::string("ALARM.CFG,low_res_ml=") + bad) == "ARG", bad);
    REQUIRE(host.code("PROG.BEGIN") == "OK");
    for (const char* bad : {"8:00", "24:00", "08:60", "0800", "08:00:00"})
        CHECK_MESSAGE(host.code(std::string("PROG.STEP,dose_ug_day=1.0,start=") + bad) == "ARG", bad);
    CHECK(host.code("PROG.BOLUS,start=12:00,dose_ug=1.0,dur_min=10.0") == "ARG");
    // Well formed but huge is out of range, not malformed.
    CHECK(host.code("PROG.BOLUS,start=12:00,dose_ug=1.0,dur_min=99999999999") == "RANGE");
}

TEST_CASE("pump sim: CLOCK reads always and sets only while STOPPED") {
    Host host;
    host.login();
    CHECK(host.ask_plain("CLOCK") == "OK,t=1767225600.000");
    host.advance(1'234ms);
    CHECK(host.ask_plain("CLOCK") == "OK,t=1767225601.234");
    CHECK(host.code("CLOCK,set=1767229200.5") == "OK");
    CHECK(host.ask_plain("CLOCK") == "OK,t=1767229200.500");
    CHECK(host.code("CLOCK,set=1767229200.5005") == "ARG");
    CHECK(host.code("CLOCK,when=1") == "ARG");
    host.advance(500ms);
    CHECK(host.status("t") == "1767229201.000");
    CHECK(host.pump.snapshot().elapsed == 1'734ms);  // elapsed time is not changed by setting the clock
    REQUIRE(host.code("REFILL,res_ml=20.0,conc_ug_ml=500") == "OK");
    REQUIRE(host.code("PRIME,vol_ml=0.01") == "OK");
    CHECK(host.code("CLOCK,set=1767229200") == "STATE");
    CHECK(host.code("CLOCK") == "OK");
}

TEST_CASE("pump sim: program edits, commits and reads follow the ICD rules") {
    Host host;
    host.login();
    CHECK(host.code("PROG.STEP,start=00:00,dose_ug_day=100.0") == "STATE");  // no edit open
    CHECK(host.code("PROG.COMMIT") == "STATE");
    REQUIRE(host.code("PROG.BEGIN") == "OK");
    REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=100.0") == "OK");
    CHECK(host.code("PROG.COMMIT") == "STATE");  // no concentration yet, and the edit is closed
    CHECK(host.code("PROG.STEP,start=01:00,dose_ug_day=100.0") == "STATE");
    REQUIRE(host.code("REFILL,res_ml=20.0,conc_ug_ml=500") == "OK");

    SUBCASE("limits on items") {
        REQUIRE(host.code("PROG.BEGIN") == "OK");
        for (int i = 0; i < 10; ++i)
            REQUIRE(host.code("PROG.STEP,start=" + codec::format_time_of_day(i * 60) + ",dose_ug_day=100.0") == "OK");
        CHECK(host.code("PROG.STEP,start=23:00,dose_ug_day=100.0") == "RANGE");
        for (int i = 0; i < 4; ++i) REQUIRE(host.code("PROG.BOLUS,start=12:00,dose_ug=1.0,dur_min=10") == "OK");
        CHECK(host.code("PROG.BOLUS,start=12:00,dose_ug=1.0,dur_min=10") == "RANGE");
        CHECK(host.code("PROG.PTM,dose_ug=1.0,dur_min=0,lockout_min=0,max_day=1") == "RANGE");
        CHECK(host.code("PROG.PTM,dose_ug=1.0,dur_min=1,lockout_min=1441,max_day=1") == "RANGE");
        CHECK(host.code("PROG.PTM,dose_ug=1.0,dur_min=1,lockout_min=0,max_day=25") == "RANGE");
        CHECK(host.code("PROG.PTM,dose_ug=1.0,dur_min=1,lockout_min=0,max_day=0") == "RANGE");
        CHECK(host.code("PROG.PTM,dose_ug=1.0,dur_min=1440,lockout_min=1440,max_day=24") == "OK");
        CHECK(host.ask_plain("PROG.COMMIT") == "OK,steps=10,boluses=4,daily_ug=104.0");
        CHECK(host.ask_plain("PROG.READ,ptm=1") == "OK,dose_ug=1.0,dur_min=1440,lockout_min=1440,max_day=24");
    }
    SUBCASE("whole-program rules at commit") {
        auto commit = [&](std::vector<std::string> items) {
            REQUIRE(host.code("PROG.BEGIN") == "OK");
            for (const auto& item : items) REQUIRE(host.code(item) == "OK");
            return host.code("PROG.COMMIT");
        };
        CHECK(commit({}) == "RANGE");
        CHECK(commit({"PROG.STEP,start=00:01,dose_ug_day=100.0"}) == "RANGE");
        CHECK(commit({"PROG.STEP,start=00:00,dose_ug_day=100.0", "PROG.STEP,start=00:00,dose_ug_day=100.0"}) == "RANGE");
        CHECK(commit({"PROG.STEP,start=00:00,dose_ug_day=100.0", "PROG.STEP,start=08:00,dose_ug_day=100.0",
                      "PROG.STEP,start=07:00,dose_ug_day=100.0"}) == "RANGE");
        // At 500 ug/mL: 0.048 mL/day is 24 ug/day, 24 mL/day is 12000 ug/day, 1.0 mL/h over
        // 60 min is 500 ug. The limits themselves are allowed.
        CHECK(commit({"PROG.STEP,start=00:00,dose_ug_day=23.999999"}) == "RANGE");
        CHECK(commit({"PROG.STEP,start=00:00,dose_ug_day=12000.000001"}) == "RANGE");
        CHECK(commit({"PROG.STEP,start=00:00,dose_ug_day=24.0"}) == "OK");
        CHECK(commit({"PROG.STEP,start=00:00,dose_ug_day=12000"}) == "OK");
        CHECK(commit({"PROG.STEP,start=00:00,dose_ug_day=24", "PROG.BOLUS,start=01:00,dose_ug=500.000001,dur_min=60"}) == "RANGE");
        CHECK(commit({"PROG.STEP,start=00:00,dose_ug_day=24", "PROG.PTM,dose_ug=500.000001,dur_min=60,lockout_min=0,max_day=1"}) == "RANGE");
        CHECK(commit({"PROG.STEP,start=00:00,dose_ug_day=24", "PROG.BOLUS,start=01:00,dose_ug=500,dur_min=60",
                      "PROG.PTM,dose_ug=500,dur_min=60,lockout_min=0,max_day=1"}) == "OK");
        // A failed commit leaves the program in force as it was.
        CHECK(commit({"PROG.STEP,start=00:01,dose_ug_day=100.0"}) == "RANGE");
        CHECK(host.ask_plain("PROG.READ") == "OK,steps=1,boluses=1,ptm=1,daily_ug=524.0");
    }
    SUBCASE("reads") {
        CHECK(host.ask_plain("PROG.READ") == "OK,steps=0,boluses=0,ptm=0,daily_ug=0.0");
        CHECK(host.code("PROG.READ,step=1") == "RANGE");
        REQUIRE(host.code("PROG.BEGIN") == "OK");
        REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=100.0") == "OK");
        REQUIRE(host.code("PROG.PTM,dose_ug=1.0,dur_min=5,lockout_min=10,max_day=2") == "OK");
        REQUIRE(host.code("PROG.PTM,dose_ug=2.5,dur_min=6,lockout_min=30,max_day=4") == "OK");  // replaces
        REQUIRE(host.code("PROG.COMMIT") == "OK");
        CHECK(host.ask_plain("PROG.READ,ptm=1") == "OK,dose_ug=2.5,dur_min=6,lockout_min=30,max_day=4");
        CHECK(host.code("PROG.READ,step=0") == "RANGE");
        CHECK(host.code("PROG.READ,step=2") == "RANGE");
        CHECK(host.code("PROG.READ,bolus=1") == "RANGE");
        CHECK(host.code("PROG.READ,step=x") == "ARG");
        CHECK(host.code("PROG.READ,step=1,bolus=1") == "ARG");
        CHECK(host.code("PROG.READ,ptm=0") == "ARG");
        REQUIRE(host.code("PROG.BEGIN") == "OK");
        REQUIRE(host.code("PROG.STEP,start=00:00,dose_ug_day=100.0") == "OK");
        REQUIRE(host.code("PROG.COMMIT") == "OK");
        CHECK(host.code("PROG.READ,ptm=1") == "STATE");
    }
}

}  // namespace pumprig::pump::sim::test
