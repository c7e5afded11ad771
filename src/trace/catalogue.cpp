#include "trace/catalogue.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "scenario/json_positions.hpp"

namespace pumprig::trace {

namespace fs = std::filesystem;
using nlohmann::json;
using scenario::detail::map_positions;
using scenario::detail::pointer_child;

namespace {

bool valid_id(const std::string& id) {
    // Parts of upper-case letters and digits joined by single '-': SRS-DEL-001, EOL-002, MTR-1.
    if (id.empty() || id.front() == '-' || id.back() == '-' || id.size() > 64) return false;
    for (std::size_t i = 0; i < id.size(); ++i) {
        const char c = id[i];
        if (c == '-' ? id[i - 1] == '-' : !((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    }
    return true;
}

Result<std::string> read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail(ErrorKind::BadInput, file.string() + ": cannot read the requirements catalogue");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Reads one file into `out`; `seen` maps ids to where they were first given.
Result<void> read_file(const fs::path& file, Catalogue& out, std::map<std::string, std::string>& seen) {
    auto text = read_text(file);
    if (!text) return std::unexpected(text.error());
    json doc;
    try {
        doc = json::parse(*text);
    } catch (const json::parse_error& e) {
        const auto pos = scenario::detail::position_of_offset(*text, e.byte > 0 ? e.byte - 1 : 0);
        return fail(ErrorKind::BadInput, file.string() + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) +
                                             ": not JSON: expected a catalogue {\"title\", \"requirements\": [...]}");
    }
    const auto positions = map_positions(*text);
    auto bad = [&](const std::string& pointer, const std::string& what) {
        const auto p = positions.value(pointer);
        return fail(ErrorKind::BadInput, file.string() + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " +
                                             (pointer.empty() ? "/" : pointer) + ": " + what);
    };
    if (!positions.duplicate_keys.empty()) return bad(positions.duplicate_keys.front(), "key given twice");
    if (!doc.is_object()) return bad("", "expected an object {\"title\", \"requirements\": [...]}");
    for (const auto& [k, v] : doc.items())
        if (k != "title" && k != "requirements" && k != "$schema")
            return bad(pointer_child("", k), "unknown key \"" + k + "\": expected \"title\" or \"requirements\"");
    if (doc.contains("title") && !doc["title"].is_string()) return bad("/title", "expected the catalogue's title as text");
    if (!doc.contains("requirements") || !doc["requirements"].is_array())
        return bad(doc.contains("requirements") ? "/requirements" : "", "expected \"requirements\": an array of {\"id\", \"text\", \"source\"}");
    const auto& list = doc["requirements"];
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string at = pointer_child("/requirements", i);
        const auto& r = list[i];
        if (!r.is_object()) return bad(at, "expected a requirement {\"id\", \"text\", \"source\"}");
        for (const auto& [k, v] : r.items())
            if (k != "id" && k != "text" && k != "source")
                return bad(pointer_child(at, k), "unknown key \"" + k + "\": expected \"id\", \"text\" or \"source\"");
        Requirement req;
        req.file = file;
        for (auto [key, field, what] : {std::tuple{"id", &req.id, "the requirement id, e.g. \"SRS-DEL-001\""},
                                        std::tuple{"text", &req.text, "the requirement in a sentence"},
                                        std::tuple{"source", &req.source, "its source, e.g. \"pump ICD section 7\""}}) {
            if (!r.contains(key)) return bad(at, std::string("missing \"") + key + "\": expected " + what);
            if (!r[key].is_string() || r[key].get<std::string>().find_first_not_of(" \t") == std::string::npos)
                return bad(pointer_child(at, key), std::string("expected ") + what + " (non-empty text)");
            *field = r[key].get<std::string>();
        }
        if (!valid_id(req.id))
            return bad(pointer_child(at, "id"), "\"" + req.id + "\": expected upper-case letters and digits in parts joined by '-', e.g. \"SRS-DEL-001\"");
        const std::string where = file.string() + " " + at;
        if (auto [it, fresh] = seen.emplace(req.id, where); !fresh)
            return bad(pointer_child(at, "id"), "requirement \"" + req.id + "\" is already defined at " + it->second);
        out.requirements.push_back(std::move(req));
    }
    out.files.push_back(file);
    return {};
}

}  // namespace

const Requirement* Catalogue::find(std::string_view id) const {
    for (const auto& r : requirements)
        if (r.id == id) return &r;
    return nullptr;
}

Result<Catalogue> read_catalogue(const fs::path& path) {
    std::error_code ec;
    std::vector<fs::path> files;
    if (fs::is_directory(path, ec)) {
        for (const auto& e : fs::directory_iterator(path, ec))
            if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
        std::sort(files.begin(), files.end());
        if (files.empty()) return fail(ErrorKind::BadInput, path.string() + ": no requirements catalogue (*.json) in this folder");
    } else if (fs::exists(path, ec)) {
        files.push_back(path);
    } else {
        return fail(ErrorKind::BadInput, path.string() + ": no such requirements catalogue (a file or a folder of *.json)");
    }
    Catalogue out;
    std::map<std::string, std::string> seen;
    for (const auto& f : files)
        if (auto r = read_file(f, out, seen); !r) return std::unexpected(r.error());
    return out;
}

std::vector<scenario::Diagnostic> unknown_requirement_ids(const Catalogue& catalogue, const fs::path& scenario_file) {
    std::vector<scenario::Diagnostic> out;
    auto text = read_text(scenario_file);
    if (!text) return out;
    json doc;
    try {
        doc = json::parse(*text);
    } catch (const json::exception&) {
        return out;
    }
    if (!doc.is_object()) return out;
    const auto positions = map_positions(*text);
    auto check_list = [&](const json& holder, const std::string& at) {
        if (!holder.is_object() || !holder.contains("requirements") || !holder["requirements"].is_array()) return;
        const auto& ids = holder["requirements"];
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (!ids[i].is_string() || catalogue.find(ids[i].get<std::string>())) continue;
            const std::string pointer = pointer_child(pointer_child(at, "requirements"), i);
            const auto p = positions.value(pointer);
            out.push_back({scenario_file, p.line, p.column, pointer,
                           "requirement \"" + ids[i].get<std::string>() + "\" is not in the requirements catalogue (" +
                               (catalogue.files.empty() ? std::string("empty") : catalogue.files.front().parent_path().string()) +
                               "): expected one of its ids, or a new entry there"});
        }
    };
    check_list(doc, "");
    if (doc.contains("checks") && doc["checks"].is_array())
        for (std::size_t i = 0; i < doc["checks"].size(); ++i) check_list(doc["checks"][i], pointer_child("/checks", i));
    return out;
}

}  // namespace pumprig::trace
