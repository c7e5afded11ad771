// printable(): text from files and devices shown on a terminal without its control characters.
#include <doctest/doctest.h>

#include "core/text.hpp"

using pumprig::printable;

TEST_CASE("printable escapes terminal control characters and keeps other text") {
    CHECK(printable("continuous 6 h") == "continuous 6 h");
    // An escape sequence that would clear the screen, a carriage return that hides text.
    CHECK(printable("a\x1b[2Jb") == "a\\x1B[2Jb");
    CHECK(printable("PASS\rFAIL") == "PASS\\rFAIL");
    CHECK(printable("x\ny\tz") == "x\\ny\\tz");
    CHECK(printable(std::string("n\0l", 3)) == "n\\x00l");
    CHECK(printable("del\x7f") == "del\\x7F");
    // UTF-8 kept; C1 controls (U+009B, CSI) escaped.
    CHECK(printable("50 \xC2\xB5L") == "50 \xC2\xB5L");
    CHECK(printable("a\xC2\x9B" "2Jb") == "a\\xC2\\x9B2Jb");
}
