// The one strict reader of every JSON input file (scenarios, rigs, pump and meter profiles).
// Refuses what nlohmann::json alone would take or crash on: a key written twice (nlohmann keeps
// the last silently), a number beyond a double (1e999: out_of_range, no position), nesting
// deeper than the limit, a file larger than the limit. Every problem names the line and column
// and, once the text is JSON, the JSON pointer. A JsonDocument keeps where each value and key
// begins, so field-level readers working on nlohmann::json can name line/column too.
#pragma once
#include <cstddef>
#include <expected>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pumprig {

struct TextPosition {
    int line = 1;    // 1 based
    int column = 1;  // 1 based, bytes
};

TextPosition position_of_offset(std::string_view text, std::size_t offset);

// "/" + key with '~' -> "~0" and '/' -> "~1" (RFC 6901).
std::string pointer_child(const std::string& parent, std::string_view key);
std::string pointer_child(const std::string& parent, std::size_t index);

struct JsonLimits {
    std::size_t max_bytes = 16u << 20;  // inputs are hand-written descriptions, never data
    int max_depth = 64;                 // every input nests a few levels
};

// A problem found while reading: where, the pointer ("" when the text is not JSON yet), what.
struct JsonProblem {
    TextPosition at;
    std::string pointer;
    std::string message;  // "invalid JSON: ...", "key written twice; expected each key once", ...
};

class JsonDocument {
public:
    const nlohmann::json& root() const { return root_; }
    // Where the value at `pointer` begins (its nearest known ancestor if absent).
    TextPosition value_at(const std::string& pointer) const;
    // Where the key of the member at `pointer` begins, else its value.
    TextPosition key_at(const std::string& pointer) const;

private:
    friend std::expected<JsonDocument, JsonProblem> read_json_text(std::string_view, const JsonLimits&);
    nlohmann::json root_;
    std::map<std::string, TextPosition> values_;
    std::map<std::string, TextPosition> keys_;
};

std::expected<JsonDocument, JsonProblem> read_json_text(std::string_view text, const JsonLimits& limits = {});

// "SOURCE:LINE:COLUMN: at POINTER: MESSAGE" (no "at" part when the pointer is unknown): the one
// shape of a bad-input message about a JSON file.
std::string describe_at(const std::string& source, TextPosition at, const std::string& pointer, const std::string& message);
std::string describe(const std::string& source, const JsonProblem& problem);

// Reads a file whole (refusing one over the size limit before reading it) and parses it;
// BadInput naming the file and place otherwise, Io when it cannot be read.
Result<JsonDocument> read_json_file(const std::filesystem::path& file, const JsonLimits& limits = {});
// The file's text, bounded by the size limit (for readers that report problems their own way).
Result<std::string> read_text_file(const std::filesystem::path& file, const JsonLimits& limits = {});

}  // namespace pumprig
