// Pump ICD section 2 framing, checked byte for byte against every example frame of the ICD
// (sections 2 and 6), and the receiving rules one by one.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pump/codec/frame.hpp"

using namespace pumprig::pump::codec;

namespace {

struct IcdFrame {
    const char* line;  // as printed in the ICD, without CR LF
};

// Every frame printed in the ICD except the deliberately corrupted request of section 2.
const std::vector<IcdFrame> kIcdFrames = {
    {"$1,HELLO*7613"},
    {"$1,OK,model=ITB-40,sn=SIM0001,fw=2.4.1,proto=1,nonce=9F2C41D07A3B66E1*0DCC"},
    {"$2,AUTH,mac=8B4B9D16778E3EE52BFA6FD7DA9A19C59BD92AE3EE9DBD723EE064AEA77B790F*B073"},
    {"$2,OK*52BB"},
    {"$3,STATUS*A0B0"},
    {"$3,OK,state=STOPPED,t=1767225600.000,res_ml=0.000,conc_ug_ml=0,rate_ml_day=0.000,bolus=NONE,"
     "deliv_ml=0.000,step=0,batt_pct=100,alarms=NONE*40FA"},
    {"$4,REFILL,res_ml=20.000,conc_ug_ml=500*7C6F"},
    {"$4,OK*7522"},
    {"$0,ERR,code=CRC*C779"},
    {"$5,PROG.BEGIN*F997"},
    {"$5,OK*0396"},
    {"$6,PROG.STEP,start=00:00,dose_ug_day=250.0*C56B"},
    {"$7,PROG.STEP,start=08:00,dose_ug_day=300.0*353C"},
    {"$8,PROG.BOLUS,start=12:00,dose_ug=50.0,dur_min=10*DBA4"},
    {"$9,PROG.COMMIT*D342"},
    {"$9,OK,steps=2,boluses=1,daily_ug=333.3*083D"},
    {"$10,PROG.READ*DD56"},
    {"$10,OK,steps=2,boluses=1,ptm=0,daily_ug=333.3*25E7"},
    {"$11,PROG.READ,step=2*DD06"},
    {"$11,OK,step=2,start=08:00,dose_ug_day=300.0*063E"},
    {"$12,PROG.READ,bolus=1*1C35"},
    {"$12,OK,bolus=1,start=12:00,dose_ug=50.0,dur_min=10*BF65"},
    {"$13,START*93CE"},
    {"$EV,n=2,t=1767225612.500,type=STATE,state=RUNNING*CE53"},
    {"$EV,n=3,t=1767225612.500,type=STEP,step=1,dose_ug_day=250.0*639C"},
    {"$13,OK*177C"},
    {"$14,EVACK,n=2*6C91"},
    {"$14,OK*4651"},
};

std::string body_of(const std::string& line) { return line.substr(1, line.find('*') - 1); }

std::vector<DecodedLine> decode_all(std::string_view bytes, FrameDecoder& d) {
    d.feed(bytes);
    std::vector<DecodedLine> out;
    while (auto l = d.next()) out.push_back(*l);
    return out;
}

std::vector<DecodedLine> decode_all(std::string_view bytes) {
    FrameDecoder d;
    return decode_all(bytes, d);
}

}  // namespace

TEST_CASE("crc16 check value of 123456789 is 29B1") {
    CHECK(crc16_ccitt_false("123456789") == 0x29B1);
}

TEST_CASE("every ICD example frame is encoded byte for byte") {
    for (const auto& f : kIcdFrames) {
        const std::string line = f.line;
        CAPTURE(line);
        CHECK(encode_frame(body_of(line)) == line + "\r\n");
    }
}

TEST_CASE("every ICD example frame is decoded with a matching CRC") {
    for (const auto& f : kIcdFrames) {
        const std::string line = f.line;
        CAPTURE(line);
        const auto lines = decode_all(line + "\r\n");
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].status == DecodedLine::Status::Ok);
        CHECK(lines[0].body == body_of(line));
        CHECK(lines[0].raw == line);
    }
}

TEST_CASE("the ICD's corrupted REFILL request decodes as a bad CRC") {
    const auto lines = decode_all("$4,REFILL,res_ml=20.000,conc_ug_ml=500*7C6E\r\n");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].status == DecodedLine::Status::BadCrc);
    CHECK(lines[0].body == "4,REFILL,res_ml=20.000,conc_ug_ml=500");
    // and its answer is the ICD's frame
    CHECK(encode_frame("0,ERR,code=CRC") == "$0,ERR,code=CRC*C779\r\n");
}

TEST_CASE("receiving: bytes before the dollar are discarded whatever they are") {
    const auto lines = decode_all(std::string("\x00\xff garbage*1234\r\n", 17) + "$2,OK*52BB\r\n");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].body == "2,OK");
}

TEST_CASE("receiving: a dollar inside a line restarts the frame") {
    FrameDecoder d;
    const auto lines = decode_all("$3,OK,state=RUNN$2,OK*52BB\r\n", d);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].body == "2,OK");
    CHECK(d.discarded() == 1);
}

TEST_CASE("receiving: CR before LF is optional") {
    const auto lines = decode_all("$2,OK*52BB\n$4,OK*7522\r\n");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].body == "2,OK");
    CHECK(lines[1].body == "4,OK");
}

TEST_CASE("receiving: lower-case CRC digits are accepted") {
    const auto lines = decode_all("$1,OK,model=ITB-40,sn=SIM0001,fw=2.4.1,proto=1,nonce=9F2C41D07A3B66E1*0dcc\r\n");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].status == DecodedLine::Status::Ok);
}

TEST_CASE("receiving: a line without a star is discarded") {
    FrameDecoder d;
    CHECK(decode_all("$2,OK52BB\r\n", d).empty());
    CHECK(d.discarded() == 1);
}

TEST_CASE("receiving: a CRC field that is not four hex digits is discarded") {
    FrameDecoder d;
    CHECK(decode_all("$2,OK*52B\r\n$2,OK*52BBB\r\n$2,OK*52BG\r\n", d).empty());
    CHECK(d.discarded() == 3);
}

TEST_CASE("receiving: a byte outside 0x20 to 0x7E discards the line") {
    FrameDecoder d;
    CHECK(decode_all(std::string("$2,O\x01K*52BB\r\n"), d).empty());
    CHECK(decode_all(std::string("$2,O\x80K*52BB\r\n"), d).empty());
    CHECK(decode_all(std::string("$2,O\tK*52BB\r\n"), d).empty());
    CHECK(decode_all(std::string("$2,O\rK*52BB\r\n"), d).empty());  // CR only before LF
    CHECK(d.discarded() == 4);
    // the decoder is ready for the next line
    CHECK(decode_all("$2,OK*52BB\r\n", d).size() == 1);
}

TEST_CASE("receiving: the longest valid frame is accepted, an over-long line discarded") {
    // A valid body is at most 240 bytes, so the longest valid line is 248 bytes; lines of 249
    // to 256 bytes fail the body rule and longer ones the 256-byte rule. Both are discarded,
    // and the decoder must not grow without bound on an endless line.
    FrameDecoder d;
    const std::string ok_body(240, 'b');
    const std::string max_valid = encode_frame(ok_body);
    CHECK(max_valid.size() == 248);
    auto lines = decode_all(max_valid, d);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].body == ok_body);

    const std::string body241(241, 'c');
    CHECK(decode_all(encode_frame(body241), d).empty());
    const std::string line257 = "$" + std::string(250, 'c') + "*0000\n";
    CHECK(line257.size() == 257);
    CHECK(decode_all(line257, d).empty());
    CHECK(decode_all("$" + std::string(100000, 'c'), d).empty());
    CHECK(decode_all("*0000\r\n", d).empty());
    CHECK(d.discarded() == 3);
    CHECK(decode_all("$2,OK*52BB\r\n", d).size() == 1);
}

TEST_CASE("receiving: a line split across many feeds decodes once") {
    FrameDecoder d;
    const std::string frame = "$EV,n=2,t=1767225612.500,type=STATE,state=RUNNING*CE53\r\n";
    std::vector<DecodedLine> lines;
    for (char c : frame) {
        d.feed(std::string_view(&c, 1));
        while (auto l = d.next()) lines.push_back(*l);
    }
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].body == "EV,n=2,t=1767225612.500,type=STATE,state=RUNNING");
}

TEST_CASE("valid bodies are 1 to 240 printable characters other than dollar and star") {
    CHECK(is_valid_body("1,HELLO"));
    CHECK(is_valid_body(std::string(240, 'x')));
    CHECK_FALSE(is_valid_body(""));
    CHECK_FALSE(is_valid_body(std::string(241, 'x')));
    CHECK_FALSE(is_valid_body("1,HE$LLO"));
    CHECK_FALSE(is_valid_body("1,HE*LLO"));
    CHECK_FALSE(is_valid_body("1,HE\nLLO"));
}

TEST_CASE("receiving: a decoder asked to report dropped lines queues them as Dropped with their raw bytes") {
    // The pump (and the ICD's receiver) drops them silently; the host's driver wants to know
    // that a broken line came, to send its request again at once.
    FrameDecoder quiet, told(true);
    const std::string broken = "$12,O\x01K*1234\r\n";
    const std::string good = encode_frame("13,OK");
    for (auto* d : {&quiet, &told}) d->feed(broken + good);
    CHECK(quiet.next()->body == "13,OK");
    CHECK_FALSE(quiet.next());
    auto first = told.next();
    REQUIRE(first);
    CHECK(first->status == DecodedLine::Status::Dropped);
    CHECK(first->raw == "$12,O\x01K*1234");
    CHECK(first->body.empty());
    CHECK(told.next()->body == "13,OK");
    CHECK(quiet.discarded() == 1);
    CHECK(told.discarded() == 1);
}
