// Line and column of every value of a JSON text, by JSON pointer. nlohmann::json 3.11 keeps no
// positions (its SAX callbacks carry none either), so after nlohmann has accepted the text this
// small scanner walks it once more and notes where each value and each object key begins.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pumprig::scenario::detail {

struct TextPosition {
    int line = 1;    // 1 based
    int column = 1;  // 1 based, bytes
};

TextPosition position_of_offset(std::string_view text, std::size_t offset);

// "/" + key with '~' -> "~0" and '/' -> "~1" (RFC 6901).
std::string pointer_child(const std::string& parent, std::string_view key);
std::string pointer_child(const std::string& parent, std::size_t index);

struct PositionMap {
    std::map<std::string, TextPosition> values;  // pointer -> where the value begins
    std::map<std::string, TextPosition> keys;    // pointer -> where its key begins (members only)
    std::vector<std::string> duplicate_keys;     // pointers of members written twice (later ones)

    TextPosition value(const std::string& pointer) const;  // nearest known ancestor if absent
    TextPosition key(const std::string& pointer) const;    // the key, else the value
};

// `text` must be JSON that nlohmann::json::parse accepted.
PositionMap map_positions(std::string_view text);

}  // namespace pumprig::scenario::detail
