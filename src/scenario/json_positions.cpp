#include "scenario/json_positions.hpp"

#include <nlohmann/json.hpp>

namespace pumprig::scenario::detail {

TextPosition position_of_offset(std::string_view text, std::size_t offset) {
    TextPosition p;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++p.line;
            p.column = 1;
        } else {
            ++p.column;
        }
    }
    return p;
}

std::string pointer_child(const std::string& parent, std::string_view key) {
    std::string out = parent + "/";
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

std::string pointer_child(const std::string& parent, std::size_t index) {
    return parent + "/" + std::to_string(index);
}

TextPosition PositionMap::value(const std::string& pointer) const {
    std::string p = pointer;
    for (;;) {
        if (auto it = values.find(p); it != values.end()) return it->second;
        if (p.empty()) return {};
        p.erase(p.rfind('/'));
    }
}

TextPosition PositionMap::key(const std::string& pointer) const {
    if (auto it = keys.find(pointer); it != keys.end()) return it->second;
    return value(pointer);
}

namespace {

class Scanner {
public:
    Scanner(std::string_view text, PositionMap& map) : text_(text), map_(map) {
        if (text_.starts_with("\xEF\xBB\xBF")) i_ = 3;  // byte order mark, skipped by nlohmann too
    }

    void value(const std::string& pointer) {
        skip_space();
        map_.values.emplace(pointer, position_of_offset_cached(i_));
        if (i_ >= text_.size()) return;
        const char c = text_[i_];
        if (c == '{') object(pointer);
        else if (c == '[') array(pointer);
        else if (c == '"') string_token();
        else scalar();
    }

private:
    void object(const std::string& pointer) {
        ++i_;  // {
        skip_space();
        if (peek() == '}') { ++i_; return; }
        for (;;) {
            skip_space();
            const std::size_t key_start = i_;
            const std::string_view raw = string_token();
            // Keys may hold escapes: let nlohmann decode the token it already validated.
            const std::string key = nlohmann::json::parse(raw).get<std::string>();
            const std::string child = pointer_child(pointer, key);
            if (map_.keys.contains(child)) map_.duplicate_keys.push_back(child);
            map_.keys.insert_or_assign(child, position_of_offset_cached(key_start));
            skip_space();
            ++i_;  // :
            map_.values.erase(child);
            value(child);
            skip_space();
            if (peek() == ',') { ++i_; continue; }
            ++i_;  // }
            return;
        }
    }

    void array(const std::string& pointer) {
        ++i_;  // [
        skip_space();
        if (peek() == ']') { ++i_; return; }
        for (std::size_t index = 0;; ++index) {
            value(pointer_child(pointer, index));
            skip_space();
            if (peek() == ',') { ++i_; continue; }
            ++i_;  // ]
            return;
        }
    }

    std::string_view string_token() {
        const std::size_t start = i_;
        ++i_;  // opening quote
        while (i_ < text_.size() && text_[i_] != '"') i_ += text_[i_] == '\\' ? 2 : 1;
        ++i_;  // closing quote
        return text_.substr(start, i_ - start);
    }

    void scalar() {
        while (i_ < text_.size() && text_[i_] != ',' && text_[i_] != '}' && text_[i_] != ']' &&
               !is_space(text_[i_]))
            ++i_;
    }

    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    void skip_space() { while (i_ < text_.size() && is_space(text_[i_])) ++i_; }
    char peek() const { return i_ < text_.size() ? text_[i_] : '\0'; }

    // Offsets only grow while scanning, so line/column is counted incrementally.
    TextPosition position_of_offset_cached(std::size_t offset) {
        for (; counted_ < offset && counted_ < text_.size(); ++counted_) {
            if (text_[counted_] == '\n') {
                ++pos_.line;
                pos_.column = 1;
            } else {
                ++pos_.column;
            }
        }
        return pos_;
    }

    std::string_view text_;
    PositionMap& map_;
    std::size_t i_ = 0;
    std::size_t counted_ = 0;
    TextPosition pos_;
};

}  // namespace

PositionMap map_positions(std::string_view text) {
    PositionMap map;
    Scanner scanner(text, map);
    scanner.value("");
    return map;
}

}  // namespace pumprig::scenario::detail
