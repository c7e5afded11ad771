#include <doctest/doctest.h>

#include <cmath>

#include "report/markup.hpp"

using pumprig::report::escape_markup;
using pumprig::report::format_number;

TEST_CASE("escape_markup turns markup characters into entities") {
    CHECK(escape_markup("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;");
    CHECK(escape_markup("a & b") == "a &amp; b");
    CHECK(escape_markup("\"quoted\" and 'single'") == "&quot;quoted&quot; and &#39;single&#39;");
    // Already escaped text is escaped again: the input is text, never markup.
    CHECK(escape_markup("&lt;") == "&amp;lt;");
    CHECK(escape_markup("\" onmouseover=\"x") == "&quot; onmouseover=&quot;x");
    CHECK(escape_markup("]]><!--") == "]]&gt;&lt;!--");
}

TEST_CASE("escape_markup keeps valid UTF-8 and plain whitespace") {
    CHECK(escape_markup("500 \xC2\xB5L/h") == "500 \xC2\xB5L/h");  // µ
    CHECK(escape_markup("line 1\nline 2\ttab\r") == "line 1\nline 2\ttab\r");
    CHECK(escape_markup("\xF0\x9F\x92\x89") == "\xF0\x9F\x92\x89");  // a 4-byte character
    CHECK(escape_markup("") == "");
}

TEST_CASE("escape_markup replaces what XML cannot carry with U+FFFD") {
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(escape_markup(std::string("a\0b", 3)) == "a" + fffd + "b");
    CHECK(escape_markup("bell\x07") == "bell" + fffd);
    CHECK(escape_markup("esc\x1B[31m") == "esc" + fffd + "[31m");
    CHECK(escape_markup("\x7F") == fffd);
    CHECK(escape_markup("\xFF\xFE") == fffd + fffd);               // not UTF-8 at all
    CHECK(escape_markup("\xC3") == fffd);                          // truncated sequence
    CHECK(escape_markup("\xC0\xBC") == fffd + fffd);               // overlong '<'
    CHECK(escape_markup("\xED\xA0\x80") == fffd + fffd + fffd);    // a UTF-16 surrogate
    CHECK(escape_markup("\xEF\xBF\xBF") == fffd);                  // U+FFFF
}

TEST_CASE("format_number writes NaN and infinities readably") {
    CHECK(format_number(1.5) == "1.5");
    CHECK(format_number(103.76712, 6) == "103.767");
    CHECK(format_number(std::nan("")) == "-");
    CHECK(format_number(1.0 / 0.0) == "inf");
    CHECK(format_number(-1.0 / 0.0) == "-inf");
}
