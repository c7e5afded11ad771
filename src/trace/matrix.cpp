#include "trace/matrix.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "record/folder.hpp"

namespace pumprig::trace {

namespace fs = std::filesystem;

const char* to_string(Status s) {
    switch (s) {
        case Status::Pass: return "PASS";
        case Status::Fail: return "FAIL";
        case Status::Inconclusive: return "INCONCLUSIVE";
        case Status::NotCovered: return "NOT COVERED";
    }
    return "?";
}

Result<std::vector<fs::path>> find_run_folders(const std::vector<fs::path>& paths) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& p : paths) {
        if (!fs::is_directory(p, ec)) return fail(ErrorKind::BadInput, p.string() + ": no such folder (expected a run folder or a folder of them)");
        const std::size_t before = out.size();
        if (fs::exists(p / "record.json", ec)) {
            out.push_back(p);
            continue;
        }
        for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (!it->is_directory()) continue;
            if (fs::exists(it->path() / "record.json", ec)) {
                out.push_back(it->path());
                it.disable_recursion_pending();  // a run folder holds no run folders
            }
        }
        if (out.size() == before) return fail(ErrorKind::BadInput, p.string() + ": no run folder (a folder holding record.json) in it");
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Result<std::vector<RunEvidence>> read_runs(const std::vector<fs::path>& dirs) {
    std::vector<RunEvidence> out;
    for (const auto& d : dirs) {
        auto rec = record::read_record(d / "record.json");
        if (!rec) return std::unexpected(rec.error());
        RunEvidence ev;
        ev.dir = d;
        ev.record = std::move(*rec);
        if (auto m = record::verify_manifest(d)) ev.manifest = std::move(*m);
        // The rig as run: its meter's calibration due date (bench/calibration.hpp). The rig file
        // was checked when the run started; here a missing or odd one only leaves the date unknown.
        std::ifstream rig(d / "rig.json");
        const auto j = nlohmann::json::parse(rig, nullptr, false);
        if (j.is_object() && j.contains("meter") && j["meter"].is_object() && j["meter"].contains("calibration_due") &&
            j["meter"]["calibration_due"].is_string())
            ev.calibration_due = j["meter"]["calibration_due"].get<std::string>();
        out.push_back(std::move(ev));
    }
    return out;
}

std::vector<const RequirementRow*> Matrix::with_status(Status s) const {
    std::vector<const RequirementRow*> out;
    for (const auto& r : rows)
        if (r.in_catalogue && r.status == s) out.push_back(&r);
    return out;
}

std::vector<const RequirementRow*> Matrix::unknown() const {
    std::vector<const RequirementRow*> out;
    for (const auto& r : rows)
        if (!r.in_catalogue) out.push_back(&r);
    return out;
}

bool Matrix::any_fail() const {
    return std::any_of(rows.begin(), rows.end(), [](const RequirementRow& r) { return r.status == Status::Fail; });
}

Matrix build_matrix(const Catalogue& catalogue, std::vector<RunEvidence> runs) {
    Matrix m;
    // Latest run per scenario and channel.
    std::map<std::pair<std::string, std::string>, std::size_t> latest;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const auto key = std::pair{runs[i].record.scenario.name, runs[i].record.rig.channel};
        auto [it, fresh] = latest.emplace(key, i);
        if (fresh) continue;
        const auto& a = runs[it->second];
        const auto& b = runs[i];
        const bool newer = b.record.start > a.record.start || (b.record.start == a.record.start && b.dir > a.dir);
        if (newer) {
            m.superseded.push_back(a.dir);
            it->second = i;
        } else {
            m.superseded.push_back(b.dir);
        }
    }
    std::vector<std::size_t> used;
    for (const auto& [key, i] : latest) used.push_back(i);
    std::sort(used.begin(), used.end(), [&](std::size_t a, std::size_t b) {
        return std::tie(runs[a].record.scenario.name, runs[a].record.rig.channel) <
               std::tie(runs[b].record.scenario.name, runs[b].record.rig.channel);
    });
    for (auto i : used) m.runs.push_back(std::move(runs[i]));
    std::sort(m.superseded.begin(), m.superseded.end());

    std::map<std::string, std::size_t> row_of;
    for (const auto& r : catalogue.requirements) {
        row_of[r.id] = m.rows.size();
        m.rows.push_back({r, true, {}, {}, 0, 0, 0, Status::NotCovered});
    }
    for (std::size_t ri = 0; ri < m.runs.size(); ++ri) {
        for (const auto& c : m.runs[ri].record.checks) {
            if (c.requirements.empty()) {
                m.unlinked.push_back({ri, c});
                continue;
            }
            for (const auto& id : c.requirements) {
                auto it = row_of.find(id);
                if (it == row_of.end()) {
                    Requirement unknown;
                    unknown.id = id;
                    it = row_of.emplace(id, m.rows.size()).first;
                    m.rows.push_back({unknown, false, {}, {}, 0, 0, 0, Status::NotCovered});
                }
                auto& row = m.rows[it->second];
                row.checks.push_back({ri, c});
                const auto& name = m.runs[ri].record.scenario.name;
                if (std::find(row.scenarios.begin(), row.scenarios.end(), name) == row.scenarios.end()) row.scenarios.push_back(name);
                (c.verdict == record::Verdict::Pass ? row.pass : c.verdict == record::Verdict::Fail ? row.fail : row.inconclusive)++;
            }
        }
    }
    for (auto& row : m.rows) {
        if (row.checks.empty()) row.status = Status::NotCovered;
        else if (row.fail) row.status = Status::Fail;
        else if (row.inconclusive) row.status = Status::Inconclusive;
        else row.status = Status::Pass;
    }
    return m;
}

}  // namespace pumprig::trace
