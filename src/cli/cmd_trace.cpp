// pumprig trace RUN_DIR|SUITE_DIR...: the traceability matrix (HTML and CSV) of the latest run
// of each scenario against the requirements catalogue, and with --release the release
// verification report. pumprig verify-record RUN_DIR|SUITE_DIR...: each run folder checked
// against its MANIFEST.sha256. docs/requirements.md, docs/record.md.
#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/parse_args.hpp"
#include "record/json.hpp"
#include "record/manifest.hpp"
#include "record/recorder.hpp"
#include "trace/build_info.hpp"
#include "trace/matrix.hpp"
#include "trace/render.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace pumprig::cli {

namespace {

std::vector<fs::path> as_paths(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

// "commit 1a2b3c4 of 2026-12-01T10:00:00+00:00" from git when the file is in a repository, else
// the file's modification time.
std::string revision_of(const fs::path& file) {
    const std::string cmd = "git -C '" + file.parent_path().string() + "' log -1 --format='commit %h of %cI' -- '" +
                            file.filename().string() + "' 2>/dev/null";
    std::string out;
    if (file.string().find('\'') == std::string::npos)
        if (FILE* p = ::popen(cmd.c_str(), "r")) {
            char buf[256];
            while (std::fgets(buf, sizeof buf, p)) out += buf;
            ::pclose(p);
        }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if (!out.empty()) return out;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return "date unknown";
    return "file dated " + record::iso_time(BenchTime{Millis{static_cast<long long>(st.st_mtime) * 1000}}) + " (not in a git repository)";
}

}  // namespace

int cmd_trace(int argc, char** argv) {
    std::vector<std::string> paths;
    std::string catalogue_path = std::string(PUMPRIG_SOURCE_DIR) + "/requirements";
    std::string out_dir, docs_dir = std::string(PUMPRIG_SOURCE_DIR) + "/docs";
    po::options_description desc(
        "pumprig trace RUN_DIR|SUITE_DIR...: traceability matrix of the latest run of each scenario against the requirements\n"
        "exit 0: no covered requirement failed; 1: one did; 2: bad input\nOptions");
    desc.add_options()("help,h", "show this help")(
        "requirements", po::value(&catalogue_path), "requirements catalogue: a file or a folder of *.json (default: the source tree's requirements/)")(
        "out", po::value(&out_dir), "folder for trace.html, trace.csv (and release.html); default: the first folder given (its parent for a run folder)")(
        "release", "also write release.html: the release verification report (tool, rig, pump, scenarios, matrix, detection power)")(
        "docs", po::value(&docs_dir), "where detection-power.md or detection-matrix.md is (default: the source tree's docs/)");
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "trace", desc, paths, vm)) return *done;
    if (paths.empty()) {
        std::cerr << "pumprig trace: give at least one run folder or suite folder\n";
        return kExitBadInput;
    }
    auto catalogue = trace::read_catalogue(catalogue_path);
    if (!catalogue) {
        std::cerr << "pumprig trace: " << catalogue.error().message << "\n";
        return kExitBadInput;
    }
    auto dirs = trace::find_run_folders(as_paths(paths));
    if (!dirs) {
        std::cerr << "pumprig trace: " << dirs.error().message << "\n";
        return kExitBadInput;
    }
    auto runs = trace::read_runs(*dirs);
    if (!runs) {
        std::cerr << "pumprig trace: " << runs.error().message << "\n";
        return kExitBadInput;
    }
    const auto matrix = trace::build_matrix(*catalogue, std::move(*runs));

    std::error_code ec;
    fs::path out = out_dir;
    if (out.empty()) out = fs::exists(fs::path(paths[0]) / "record.json", ec) ? fs::absolute(paths[0]).parent_path() : fs::path(paths[0]);
    fs::create_directories(out, ec);
    const bool release = vm.count("release") > 0;
    std::vector<std::pair<fs::path, std::string>> files = {
        {out / "trace.html", trace::matrix_html(matrix, out, "Traceability matrix")},
        {out / "trace.csv", trace::matrix_csv(matrix, out)}};
    if (release) {
        trace::ReleaseContext ctx;
        ctx.tool_version = kVersion;
        ctx.tool_build = trace::kBuildInfo;
        ctx.catalogue = catalogue_path;
        ctx.now = std::chrono::system_clock::now();
        for (const char* name : {"detection-power.md", "detection-matrix.md"}) {
            const fs::path f = fs::path(docs_dir) / name;
            std::ifstream in(f);
            if (!in) continue;
            std::stringstream ss;
            ss << in.rdbuf();
            ctx.detection_file = f.string();
            ctx.detection_markdown = ss.str();
            ctx.detection_revision = revision_of(f);
            break;
        }
        if (ctx.detection_file.empty()) std::cerr << "pumprig trace: warning: no detection-power.md nor detection-matrix.md in " << docs_dir << "\n";
        files.push_back({out / "release.html", trace::release_html(matrix, ctx, out)});
    }
    for (const auto& [file, text] : files) {
        if (auto w = record::write_file_atomic(file, text); !w) {
            std::cerr << "pumprig trace: " << w.error().message << "\n";
            return kExitBenchError;
        }
    }

    std::printf("%-14s %-13s %6s %6s %6s  %s\n", "requirement", "status", "pass", "fail", "inconc", "scenarios");
    for (const auto& row : matrix.rows) {
        std::string scen;
        for (const auto& s : row.scenarios) scen += (scen.empty() ? "" : ", ") + s;
        std::printf("%-14s %-13s %6zu %6zu %6zu  %s%s\n", row.requirement.id.c_str(), trace::to_string(row.status), row.pass, row.fail,
                    row.inconclusive, scen.c_str(), row.in_catalogue ? "" : "  (not in the catalogue)");
    }
    auto list = [](const char* what, const std::vector<const trace::RequirementRow*>& rows) {
        if (rows.empty()) return;
        std::printf("%s:", what);
        for (const auto* r : rows) std::printf(" %s", r->requirement.id.c_str());
        std::printf("\n");
    };
    std::printf("\n%zu runs (latest of each scenario), %zu older left out\n", matrix.runs.size(), matrix.superseded.size());
    list("not covered by any check", matrix.with_status(trace::Status::NotCovered));
    list("FAILED", matrix.with_status(trace::Status::Fail));
    list("INCONCLUSIVE (not verified)", matrix.with_status(trace::Status::Inconclusive));
    list("named by checks, not in the catalogue", matrix.unknown());
    if (!matrix.unlinked.empty()) std::printf("%zu checks name no requirement\n", matrix.unlinked.size());
    for (const auto& [file, text] : files) std::printf("wrote %s\n", file.string().c_str());
    return matrix.any_fail() ? kExitCheckFailed : kExitPass;
}

int cmd_verify_record(int argc, char** argv) {
    std::vector<std::string> paths;
    po::options_description desc(
        "pumprig verify-record RUN_DIR|SUITE_DIR...: check each run folder against its MANIFEST.sha256\n"
        "exit 0: every folder intact; 1: a file changed, added or missing, or no manifest; 2: bad input\nOptions");
    desc.add_options()("help,h", "show this help");
    po::variables_map vm;
    if (auto done = parse_args(argc, argv, "verify-record", desc, paths, vm)) return *done;
    if (paths.empty()) {
        std::cerr << "pumprig verify-record: give at least one run folder or suite folder\n";
        return kExitBadInput;
    }
    auto dirs = trace::find_run_folders(as_paths(paths));
    if (!dirs) {
        std::cerr << "pumprig verify-record: " << dirs.error().message << "\n";
        return kExitBadInput;
    }
    int code = kExitPass;
    for (const auto& d : *dirs) {
        auto check = record::verify_manifest(d);
        if (!check) {
            std::cout << d.string() << ": NOT VERIFIABLE: " << check.error().message << "\n";
            code = kExitCheckFailed;
            continue;
        }
        if (!check->has_manifest) {
            std::cout << d.string() << ": NOT VERIFIABLE: no " << record::kManifestFile
                      << " (a run that did not finish, or made by a pumprig without manifests)\n";
            code = kExitCheckFailed;
            continue;
        }
        if (check->intact()) {
            std::cout << d.string() << ": intact (manifest sha256 " << check->manifest_sha256 << ")\n";
            continue;
        }
        code = kExitCheckFailed;
        std::cout << d.string() << ": NOT INTACT (manifest sha256 " << check->manifest_sha256 << ")\n";
        for (const auto& f : check->changed) std::cout << "  changed  " << f << "\n";
        for (const auto& f : check->added) std::cout << "  added    " << f << "\n";
        for (const auto& f : check->missing) std::cout << "  missing  " << f << "\n";
    }
    return code;
}

}  // namespace pumprig::cli
