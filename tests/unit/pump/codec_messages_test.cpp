// Pump ICD bodies: fields, number formats, requests, responses, events, redaction, and the
// AUTH mac of the ICD's example session.
#include <doctest/doctest.h>

#include "pump/codec/fields.hpp"
#include "pump/codec/messages.hpp"
#include "pump/driver/pump_key.hpp"

using namespace pumprig::pump;
using namespace pumprig::pump::codec;

TEST_CASE("decimal numbers accept the ICD forms") {
    CHECK(parse_decimal("1") == doctest::Approx(1.0));
    CHECK(parse_decimal("1.5") == doctest::Approx(1.5));
    CHECK(parse_decimal("0.000001") == doctest::Approx(0.000001));
    CHECK(parse_decimal("1767225612.500") == doctest::Approx(1767225612.5));
    CHECK(parse_decimal("20.000").value() == 20.0);
    CHECK(parse_decimal("007").value() == 7.0);
}

TEST_CASE("decimal numbers reject sign, exponent, spaces and bad fractions") {
    for (const char* bad : {"-1", "+1", "1e3", " 1", "1 ", "1.", ".5", "1.1234567", "", ".", "1,5", "1.2.3", "0x10",
                            "inf", "nan"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_decimal(bad).has_value());
    }
}

TEST_CASE("whole numbers take digits only") {
    CHECK(parse_whole("0") == 0u);
    CHECK(parse_whole("65535") == 65535u);
    for (const char* bad : {"", "-1", "1.0", "1e3", " 1", "12a", "1234567890"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_whole(bad).has_value());
    }
}

TEST_CASE("times of day are HH:MM from 00:00 to 23:59") {
    CHECK(parse_time_of_day("00:00") == 0);
    CHECK(parse_time_of_day("08:00") == 480);
    CHECK(parse_time_of_day("23:59") == 1439);
    for (const char* bad : {"24:00", "12:60", "8:00", "08:0", "0800", "08-00", "", "08:00 "}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_time_of_day(bad).has_value());
    }
    CHECK(format_time_of_day(0) == "00:00");
    CHECK(format_time_of_day(720) == "12:00");
    CHECK(format_time_of_day(1439) == "23:59");
}

TEST_CASE("fixed decimals are printed as the pump prints them") {
    CHECK(format_fixed(20.0, 3) == "20.000");
    CHECK(format_fixed(250.0, 1) == "250.0");
    CHECK(format_fixed(333.33, 1) == "333.3");
    CHECK(format_fixed(1767225612.5, 3) == "1767225612.500");
    CHECK(format_fixed(0.048, 3) == "0.048");
    CHECK(format_fixed(-0.0, 3) == "0.000");
}

TEST_CASE("requests parse and print the ICD bodies") {
    const auto r = parse_request("4,REFILL,res_ml=20.000,conc_ug_ml=500");
    REQUIRE(r);
    CHECK(r->seq == 4);
    CHECK(r->verb == "REFILL");
    CHECK(r->args.get("res_ml") == "20.000");
    CHECK(r->args.get("conc_ug_ml") == "500");
    CHECK(r->body() == "4,REFILL,res_ml=20.000,conc_ug_ml=500");
    CHECK_FALSE(parse_request("0,HELLO"));
    CHECK_FALSE(parse_request("65536,HELLO"));
    CHECK_FALSE(parse_request("x,HELLO"));
    CHECK_FALSE(parse_request("1,HELLO,,a=1"));
    CHECK_FALSE(parse_request("1,HELLO,a=1,B=2"));
}

TEST_CASE("responses parse OK and ERR, keep unknown keys") {
    const auto ok = parse_response(
        "3,OK,state=STOPPED,t=1767225600.000,res_ml=0.000,conc_ug_ml=0,rate_ml_day=0.000,bolus=NONE,"
        "deliv_ml=0.000,step=0,batt_pct=100,alarms=NONE,future_key=x");
    REQUIRE(ok);
    CHECK(ok->seq == 3);
    CHECK(ok->ok);
    CHECK(ok->values.get("state") == "STOPPED");
    CHECK(ok->values.get("future_key") == "x");

    const auto err = parse_response("0,ERR,code=CRC");
    REQUIRE(err);
    CHECK(err->seq == 0);
    CHECK_FALSE(err->ok);
    CHECK(err->code == "CRC");
    const auto with_msg = parse_response("7,ERR,code=RANGE,msg=dose too high");
    REQUIRE(with_msg);
    CHECK(with_msg->code == "RANGE");
    CHECK(with_msg->values.get("msg") == "dose too high");

    CHECK_FALSE(parse_response("3,ERR"));
    CHECK_FALSE(parse_response("3,MAYBE"));
    CHECK(classify("14,OK") == LineKind::Response);
    CHECK(classify("EV,n=2,t=1.0,type=BOOT") == LineKind::Event);
    CHECK(classify("HELLO,OK") == LineKind::Malformed);
}

TEST_CASE("events parse the ICD example and keep the time text for duplicates") {
    const auto e = parse_event("EV,n=3,t=1767225612.500,type=STEP,step=1,dose_ug_day=250.0");
    REQUIRE(e);
    CHECK(e->n == 3);
    CHECK(e->t == doctest::Approx(1767225612.5));
    CHECK(e->t_text == "1767225612.500");
    CHECK(e->type == "STEP");
    CHECK(e->values.get("dose_ug_day") == "250.0");
    CHECK_FALSE(parse_event("EV,n=3,type=STEP"));
    CHECK_FALSE(parse_event("EV,n=-3,t=1.0,type=STEP"));
    CHECK_FALSE(parse_event("EV,n=3,t=1e9,type=STEP"));
}

TEST_CASE("redact replaces the AUTH mac") {
    const std::string body = "2,AUTH,mac=8B4B9D16778E3EE52BFA6FD7DA9A19C59BD92AE3EE9DBD723EE064AEA77B790F";
    const auto out = redact(body);
    CHECK(out.find("8B4B9D16") == std::string::npos);
    CHECK(out.starts_with("2,AUTH,mac="));
    const auto frame = redact("$2,AUTH,mac=8B4B9D16778E3EE52BFA6FD7DA9A19C59BD92AE3EE9DBD723EE064AEA77B790F*B073\r\n");
    CHECK(frame.find("8B4B9D16") == std::string::npos);
    CHECK(frame.ends_with("*B073\r\n"));
    CHECK(redact("3,STATUS") == "3,STATUS");
}

TEST_CASE("the AUTH mac of the ICD example session") {
    const auto key = PumpKey::from_hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    REQUIRE(key);
    CHECK(auth_mac(*key, "9F2C41D07A3B66E1", "SIM0001") ==
          "8B4B9D16778E3EE52BFA6FD7DA9A19C59BD92AE3EE9DBD723EE064AEA77B790F");
}
