// The libserialport backend needs hardware; here only its error path can run.
#include <doctest/doctest.h>

#include "transport/byte_stream.hpp"

using namespace pumprig;

TEST_CASE("serialport: opening a missing device gives link lost naming the path") {
    const auto r = transport::open_serialport("/dev/ttyUSB-pumprig-missing", {});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::LinkLost);
    CHECK(r.error().message.find("/dev/ttyUSB-pumprig-missing") != std::string::npos);
}
