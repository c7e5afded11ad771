// The traceability matrix: requirement -> scenarios -> checks -> verdict of the latest run of
// each scenario, built from the requirements catalogue and run folders (record.json as the run
// wrote it: the verdicts the run gave, covered by its manifest). Pure data; render.hpp writes
// it as CSV and HTML. docs/requirements.md says how a reviewer reads it.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "record/manifest.hpp"
#include "record/run_record.hpp"
#include "trace/catalogue.hpp"

namespace pumprig::trace {

// One run folder as read for the matrix.
struct RunEvidence {
    std::filesystem::path dir;
    record::RunRecord record;
    std::optional<record::ManifestCheck> manifest;  // unset: not checked
    std::string calibration_due;                    // the rig's meter.calibration_due as run ("" unknown)
};

// The run folders under `paths`: a folder holding record.json is one; any other folder is
// searched (a suite of runs). BadInput naming a path that is missing or holds no run folder.
Result<std::vector<std::filesystem::path>> find_run_folders(const std::vector<std::filesystem::path>& paths);

// Reads record.json, the manifest check and the rig's calibration date of each folder.
// BadInput naming the folder whose record cannot be read.
Result<std::vector<RunEvidence>> read_runs(const std::vector<std::filesystem::path>& dirs);

// One check of a run, as evidence.
struct CheckEvidence {
    std::size_t run = 0;  // index into Matrix::runs
    record::CheckResult check;
};

// PASS: every check naming it passed. FAIL: one failed. INCONCLUSIVE: none failed but one was
// inconclusive (not verified). NOT_COVERED: no check of the latest runs names it.
enum class Status { Pass, Fail, Inconclusive, NotCovered };
const char* to_string(Status s);  // "PASS", "FAIL", "INCONCLUSIVE", "NOT COVERED"

struct RequirementRow {
    Requirement requirement;
    bool in_catalogue = true;  // false: named by a check, missing from the catalogue
    std::vector<std::string> scenarios;  // scenarios whose checks name it, in run order
    std::vector<CheckEvidence> checks;
    std::size_t pass = 0, fail = 0, inconclusive = 0;
    Status status = Status::NotCovered;
};

struct Matrix {
    std::vector<RunEvidence> runs;                  // the latest run of each scenario (and channel)
    std::vector<std::filesystem::path> superseded;  // older runs of the same scenario, left out
    std::vector<RequirementRow> rows;               // the catalogue's order, then unknown ids
    std::vector<CheckEvidence> unlinked;            // checks that name no requirement

    std::vector<const RequirementRow*> with_status(Status s) const;
    std::vector<const RequirementRow*> unknown() const;  // ids not in the catalogue
    // A covered requirement has a FAIL (the exit code of `pumprig trace` is then 1).
    bool any_fail() const;
};

// The latest run of each scenario (by name and channel; ties: the later folder name) is the
// evidence; older ones are listed as superseded.
Matrix build_matrix(const Catalogue& catalogue, std::vector<RunEvidence> runs);

}  // namespace pumprig::trace
