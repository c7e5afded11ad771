#include "core/json_reader.hpp"

#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

namespace pumprig {

using nlohmann::json;

namespace {

// The position after byte `c`.
void advance(TextPosition& p, char c) {
    if (c == '\n') {
        ++p.line;
        p.column = 1;
    } else {
        ++p.column;
    }
}

}  // namespace

TextPosition position_of_offset(std::string_view text, std::size_t offset) {
    TextPosition p;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) advance(p, text[i]);
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

std::string pointer_child(const std::string& parent, std::size_t index) { return parent + "/" + std::to_string(index); }

TextPosition JsonDocument::value_at(const std::string& pointer) const {
    std::string p = pointer;
    for (;;) {
        if (auto it = values_.find(p); it != values_.end()) return it->second;
        if (p.empty()) return {};
        p.erase(p.rfind('/'));
    }
}

TextPosition JsonDocument::key_at(const std::string& pointer) const {
    if (auto it = keys_.find(pointer); it != keys_.end()) return it->second;
    return value_at(pointer);
}

namespace {

// Offset of the bracket that opens level max_depth + 1 (outside strings), if any. Run before
// anything recurses, so a file of 100000 '[' is refused instead of overflowing the stack.
std::optional<std::size_t> offset_beyond_depth(std::string_view text, int max_depth) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) return i;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return std::nullopt;
}

// Walks text nlohmann has accepted once more and notes where each value and object key begins
// (nlohmann 3.11 keeps no positions, and its SAX callbacks carry none either).
class PositionScanner {
public:
    PositionScanner(std::string_view text, std::map<std::string, TextPosition>& values, std::map<std::string, TextPosition>& keys)
        : text_(text), values_(values), keys_(keys) {
        if (text_.starts_with("\xEF\xBB\xBF")) i_ = 3;  // byte order mark, skipped by nlohmann too
    }

    std::vector<std::string> duplicate_keys;  // pointers of members written twice (the later ones)

    void value(const std::string& pointer) {
        skip_space();
        values_.insert_or_assign(pointer, position(i_));
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
            const std::string key = json::parse(raw).get<std::string>();
            const std::string child = pointer_child(pointer, key);
            if (keys_.contains(child)) duplicate_keys.push_back(child);
            keys_.insert_or_assign(child, position(key_start));
            skip_space();
            ++i_;  // :
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
        while (i_ < text_.size() && text_[i_] != ',' && text_[i_] != '}' && text_[i_] != ']' && !is_space(text_[i_])) ++i_;
    }

    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    void skip_space() { while (i_ < text_.size() && is_space(text_[i_])) ++i_; }
    char peek() const { return i_ < text_.size() ? text_[i_] : '\0'; }

    // Offsets only grow while scanning, so line/column is counted incrementally.
    TextPosition position(std::size_t offset) {
        for (; counted_ < offset && counted_ < text_.size(); ++counted_) advance(pos_, text_[counted_]);
        return pos_;
    }

    std::string_view text_;
    std::map<std::string, TextPosition>& values_;
    std::map<std::string, TextPosition>& keys_;
    std::size_t i_ = 0;
    std::size_t counted_ = 0;
    TextPosition pos_;
};

JsonProblem syntax_problem(std::string_view text, const json::parse_error& e) {
    // e.byte counts the bytes read, the offending one included.
    const std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    std::string what = e.what();
    // nlohmann's text is "[json.exception.parse_error.101] parse error at line L, column C:
    // <detail>"; keep the detail, the position is ours.
    if (auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    return {position_of_offset(text, offset), "", "invalid JSON: " + what};
}

// nlohmann throws out_of_range.406 for a number beyond a double, without a position; its text
// is "... number overflow parsing '<literal>'": point at the first occurrence of that literal
// standing alone as a number.
JsonProblem overflow_problem(std::string_view text, const json::out_of_range& e) {
    const std::string what = e.what();
    const auto open = what.find('\'');
    const auto close = what.rfind('\'');
    std::string literal;
    if (open != std::string::npos && close > open) literal = what.substr(open + 1, close - open - 1);
    std::size_t offset = 0;
    auto number_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+'; };
    for (auto at = literal.empty() ? std::string_view::npos : text.find(literal); at != std::string_view::npos;
         at = text.find(literal, at + 1)) {
        const std::size_t end = at + literal.size();
        if ((at == 0 || !number_char(text[at - 1])) && (end >= text.size() || !number_char(text[end]))) {
            offset = at;
            break;
        }
    }
    return {position_of_offset(text, offset), "",
            "invalid JSON: number " + (literal.empty() ? std::string("literal") : literal) +
                " is out of range; expected a number that fits a double (about 1e308)"};
}

}  // namespace

std::expected<JsonDocument, JsonProblem> read_json_text(std::string_view text, const JsonLimits& limits) {
    if (text.size() > limits.max_bytes)
        return std::unexpected(JsonProblem{{}, "", std::to_string(text.size()) + " bytes; expected at most " +
                                                       std::to_string(limits.max_bytes) + " bytes"});
    if (const auto deep = offset_beyond_depth(text, limits.max_depth))
        return std::unexpected(JsonProblem{position_of_offset(text, *deep), "",
                                           "nesting deeper than " + std::to_string(limits.max_depth) +
                                               " levels; expected objects and arrays nested a few levels"});
    JsonDocument doc;
    try {
        doc.root_ = json::parse(text);
    } catch (const json::parse_error& e) {
        return std::unexpected(syntax_problem(text, e));
    } catch (const json::out_of_range& e) {
        return std::unexpected(overflow_problem(text, e));
    }
    PositionScanner scanner(text, doc.values_, doc.keys_);
    scanner.value("");
    if (!scanner.duplicate_keys.empty()) {
        const auto& p = scanner.duplicate_keys.front();
        return std::unexpected(JsonProblem{doc.key_at(p), p, "key written twice; expected each key once"});
    }
    return doc;
}

std::string describe_at(const std::string& source, TextPosition at, const std::string& pointer, const std::string& message) {
    return source + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
           (pointer.empty() ? std::string() : "at " + pointer + ": ") + message;
}

std::string describe(const std::string& source, const JsonProblem& problem) {
    return describe_at(source, problem.at, problem.pointer, problem.message);
}

Result<std::string> read_text_file(const std::filesystem::path& file, const JsonLimits& limits) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (!ec && size > limits.max_bytes)
        return fail(ErrorKind::BadInput, file.string() + ": " + std::to_string(size) + " bytes; expected at most " +
                                             std::to_string(limits.max_bytes) + " bytes");
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail(ErrorKind::Io, file.string() + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return fail(ErrorKind::Io, file.string() + ": cannot read");
    return text.str();
}

Result<JsonDocument> read_json_file(const std::filesystem::path& file, const JsonLimits& limits) {
    auto text = read_text_file(file, limits);
    if (!text) return std::unexpected(text.error());
    auto doc = read_json_text(*text, limits);
    if (!doc) return fail(ErrorKind::BadInput, describe(file.string(), doc.error()));
    return std::move(*doc);
}

}  // namespace pumprig
