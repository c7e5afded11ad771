// Escaping for HTML and XML: the one function every text from a device or a scenario passes
// through before it lands in a report (HTML, inline SVG, JUnit XML).
#pragma once
#include <string>
#include <string_view>

namespace pumprig::report {

// Markup characters (& < > " ') become entities, so the result is safe both as element text
// and inside a quoted attribute. Bytes XML 1.0 cannot carry (control characters other than
// tab, line feed and carriage return; invalid UTF-8; U+FFFE, U+FFFF) become U+FFFD, so a
// hostile or garbled device string can neither inject markup nor make a JUnit file unreadable.
std::string escape_markup(std::string_view text);

// A number for a report: up to `digits` significant digits, "-" for NaN, "inf"/"-inf".
std::string format_number(double v, int digits = 6);

}  // namespace pumprig::report
