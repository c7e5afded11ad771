// Text from files and devices made safe to print on a terminal: a scenario name, a pump's
// serial or an error quoting what a device sent may hold control characters (an escape
// sequence that moves the cursor or rewrites the line, a carriage return that hides text).
#pragma once
#include <string>
#include <string_view>

namespace pumprig {

// `text` with every control character (C0, DEL, and C1 as UTF-8 encodes it) shown as \xHH;
// tab, carriage return and line feed as \t, \r, \n. Other text, UTF-8 included, is kept.
std::string printable(std::string_view text);

}  // namespace pumprig
