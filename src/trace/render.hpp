// The traceability matrix as CSV (one row per requirement and check) and as a self-contained
// HTML page, and the release verification report that embeds it. Every text from a record or
// the catalogue goes through report::escape_markup. Links to run reports are relative to the
// folder the page is written to. docs/requirements.md.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "trace/matrix.hpp"

namespace pumprig::trace {

// RFC 4180, CRLF line ends. Columns: requirement_id, requirement_status, in_catalogue, source,
// scenario, channel, run_dir, run_outcome, run_start, check_id, check_name, kind, verdict,
// tolerance_source, detail, report. A requirement no check covers has one row with the check
// columns empty; a check naming no requirement has one row with the requirement columns empty.
std::string matrix_csv(const Matrix& m, const std::filesystem::path& out_dir);

// The whole matrix page.
std::string matrix_html(const Matrix& m, const std::filesystem::path& out_dir, const std::string& title);

struct ReleaseContext {
    std::string tool_version;        // this pumprig's version
    std::string tool_build;          // its build: source commit when configured, compiler, build type
    std::string catalogue;           // where the catalogue was read
    std::string detection_file;      // docs/detection-power.md or docs/detection-matrix.md ("" none found)
    std::string detection_markdown;  // its text
    std::string detection_revision;  // "commit 1a2b3c4 of 2026-12-01T10:00:00Z", or the file's date
    std::chrono::system_clock::time_point now;
};

// The release verification report of a suite: tool, rig and meter calibration, pump identity,
// each scenario's verdict and record integrity, the matrix, and the tool's detection power.
std::string release_html(const Matrix& m, const ReleaseContext& ctx, const std::filesystem::path& out_dir);

// The little Markdown the project's docs use (headings, pipe tables, paragraphs, lists,
// `code`, **bold**, <br> in cells) as HTML, every other character escaped.
std::string markdown_to_html(std::string_view markdown);

}  // namespace pumprig::trace
