#include "trace/catalogue.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/json_reader.hpp"

namespace pumprig::trace {

namespace fs = std::filesystem;
using nlohmann::json;

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

// Reads one file into `out`; `seen` maps ids to where they were first given.
Result<void> read_file(const fs::path& file, Catalogue& out, std::map<std::string, std::string>& seen) {
    // The one strict reader of input files: duplicate keys, huge numbers, depth and size.
    auto read = read_json_file(file);
    if (!read) return std::unexpected(read.error());
    const json& doc = read->root();
    auto bad = [&](const std::string& pointer, const std::string& what) {
        return fail(ErrorKind::BadInput, describe_at(file.string(), read->value_at(pointer), pointer.empty() ? "/" : pointer, what));
    };
    if (!doc.is_object()) return bad("", "expected an object {\"title\", \"requirements\": [...]}");
    for (const auto& [k, v] : doc.items())
        if (k != "title" && k != "requirements" && k != "$schema")
            return bad(pointer_child("", k), "unknown key \"" + k + "\": expected \"title\" or \"requirements\"");
    if (doc.contains("title") && !doc.at("title").is_string()) return bad("/title", "expected the catalogue's title as text");
    if (!doc.contains("requirements") || !doc.at("requirements").is_array())
        return bad(doc.contains("requirements") ? "/requirements" : "", "expected \"requirements\": an array of {\"id\", \"text\", \"source\"}");
    const auto& list = doc.at("requirements");
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
            if (!r.at(key).is_string() || r.at(key).get<std::string>().find_first_not_of(" \t") == std::string::npos)
                return bad(pointer_child(at, key), std::string("expected ") + what + " (non-empty text)");
            *field = r.at(key).get<std::string>();
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
    // A scenario that does not read is the scenario parser's finding, not this one's.
    auto read = read_json_file(scenario_file);
    if (!read) return out;
    const json& doc = read->root();
    if (!doc.is_object()) return out;
    auto check_list = [&](const json& holder, const std::string& at) {
        if (!holder.is_object() || !holder.contains("requirements") || !holder.at("requirements").is_array()) return;
        const auto& ids = holder.at("requirements");
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (!ids[i].is_string() || catalogue.find(ids[i].get<std::string>())) continue;
            const std::string pointer = pointer_child(pointer_child(at, "requirements"), i);
            const auto p = read->value_at(pointer);
            out.push_back({scenario_file, p.line, p.column, pointer,
                           "requirement \"" + ids[i].get<std::string>() + "\" is not in the requirements catalogue (" +
                               (catalogue.files.empty() ? std::string("empty") : catalogue.files.front().parent_path().string()) +
                               "): expected one of its ids, or a new entry there"});
        }
    };
    check_list(doc, "");
    if (doc.contains("checks") && doc.at("checks").is_array())
        for (std::size_t i = 0; i < doc.at("checks").size(); ++i) check_list(doc.at("checks")[i], pointer_child("/checks", i));
    return out;
}

}  // namespace pumprig::trace
