// The requirements catalogue: requirements/*.json, each file {"title", "requirements": [{"id",
// "text", "source"}]}, read strictly (unknown keys, duplicate ids and empty texts are errors
// naming the file, line, column and JSON pointer). The scenarios and checks name these ids;
// `pumprig validate` checks that every id they name is in the catalogue, `pumprig trace` turns
// runs into a traceability matrix over it. docs/requirements.md.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "scenario/scenario.hpp"

namespace pumprig::trace {

struct Requirement {
    std::string id;      // "SRS-DEL-001": letters and digits in parts joined by '-'
    std::string text;    // the requirement in a sentence
    std::string source;  // where it comes from: "pump ICD section 7", "IEC 60601-2-24 clause ...", "meter ICD section 2"
    std::filesystem::path file;  // the catalogue file that holds it
};

struct Catalogue {
    std::vector<Requirement> requirements;  // in file order, files sorted by name
    std::vector<std::filesystem::path> files;
    const Requirement* find(std::string_view id) const;
};

// A catalogue file, or a folder of them (*.json, not recursive). BadInput naming the file and
// place ("requirements/pump.json:12:7: /requirements/3/id: ...").
Result<Catalogue> read_catalogue(const std::filesystem::path& path);

// The requirement ids a scenario file names (its "requirements" and each check's) that the
// catalogue lacks, one diagnostic each with the file, line, column and pointer. A file that is
// not JSON gives nothing here (scenario validation reports it).
std::vector<scenario::Diagnostic> unknown_requirement_ids(const Catalogue& catalogue, const std::filesystem::path& scenario_file);

}  // namespace pumprig::trace
