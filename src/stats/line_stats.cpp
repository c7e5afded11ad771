#include "stats/line_stats.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

namespace pumprig::stats {

bool is_attempt(const history::RunRecord& run) { return run.tested && (run.verdict == "PASS" || run.verdict == "FAIL"); }
bool is_station_error(const history::RunRecord& run) { return run.verdict == "ERROR" || run.verdict == "ABORTED"; }

std::optional<double> Yield::first_pass_yield() const {
    return units ? std::optional<double>(static_cast<double>(first_pass) / static_cast<double>(units)) : std::nullopt;
}
std::optional<double> Yield::final_yield() const {
    return units ? std::optional<double>(static_cast<double>(final_pass) / static_cast<double>(units)) : std::nullopt;
}

Yield compute_yield(std::span<const history::RunRecord> runs) {
    Yield y;
    std::map<std::string, std::pair<bool, bool>> unit;  // serial -> (first passed, last passed)
    for (const auto& r : runs) {
        if (is_station_error(r)) ++y.station_errors;
        if (!is_attempt(r)) continue;
        ++y.attempts;
        const bool pass = r.verdict == "PASS";
        auto [it, first] = unit.try_emplace(r.serial, pass, pass);
        if (!first) {
            ++y.retests;
            it->second.second = pass;
        }
    }
    y.units = unit.size();
    for (const auto& [serial, u] : unit) {
        y.first_pass += u.first;
        y.final_pass += u.second;
    }
    return y;
}

std::vector<ParetoBar> pareto(std::span<const history::RunRecord> runs) {
    std::map<std::pair<std::string, std::string>, ParetoBar> by_check;
    std::size_t all = 0;
    for (const auto& r : runs) {
        if (!is_attempt(r)) continue;
        for (const auto& m : r.measurements) {
            if (m.verdict == "PASS") continue;
            auto& bar = by_check[{m.scenario, m.check_id}];
            bar.scenario = m.scenario;
            bar.check_id = m.check_id;
            bar.name = m.name;
            (m.verdict == "FAIL" ? bar.fail : bar.inconclusive) += 1;
            ++all;
        }
    }
    std::vector<ParetoBar> bars;
    for (auto& [key, bar] : by_check) bars.push_back(std::move(bar));
    // std::map gave (scenario, check id) order; a stable sort keeps it among equal counts.
    std::stable_sort(bars.begin(), bars.end(), [](const ParetoBar& a, const ParetoBar& b) { return a.total() > b.total(); });
    std::size_t running = 0;
    for (auto& bar : bars) {
        running += bar.total();
        bar.cumulative_percent = 100.0 * static_cast<double>(running) / static_cast<double>(all);
    }
    return bars;
}

namespace {

double mean_of(std::span<const double> v) { return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

double mean_moving_range(std::span<const double> v) {
    if (v.size() < 2) return 0.0;
    double sum = 0;
    for (std::size_t i = 1; i < v.size(); ++i) sum += std::fabs(v[i] - v[i - 1]);
    return sum / static_cast<double>(v.size() - 1);
}

}  // namespace

Capability capability(std::span<const double> values, std::optional<double> lsl, std::optional<double> usl) {
    Capability c;
    c.n = values.size();
    c.lsl = lsl;
    c.usl = usl;
    if (values.empty()) return c;
    c.mean = mean_of(values);
    c.mr_bar = mean_moving_range(values);
    c.sigma_within = c.mr_bar / kD2;
    if (values.size() >= 2) {
        double ss = 0;
        for (double v : values) ss += (v - c.mean) * (v - c.mean);
        c.sigma_overall = std::sqrt(ss / static_cast<double>(values.size() - 1));
    }
    auto indices = [&](double sigma, std::optional<double>& p, std::optional<double>& pk) {
        if (!(sigma > 0)) return;
        if (lsl && usl) p = (*usl - *lsl) / (6 * sigma);
        std::optional<double> upper, lower;
        if (usl) upper = (*usl - c.mean) / (3 * sigma);
        if (lsl) lower = (c.mean - *lsl) / (3 * sigma);
        if (upper && lower) pk = std::min(*upper, *lower);
        else if (upper) pk = upper;
        else if (lower) pk = lower;
    };
    indices(c.sigma_within, c.cp, c.cpk);
    indices(c.sigma_overall, c.pp, c.ppk);
    return c;
}

const char* describe(RunRule rule) {
    switch (rule) {
        case RunRule::Beyond3Sigma: return "one point beyond 3 sigma";
        case RunRule::TwoOfThreeBeyond2: return "2 of 3 points in a row beyond 2 sigma, same side";
        case RunRule::FourOfFiveBeyond1: return "4 of 5 points in a row beyond 1 sigma, same side";
        case RunRule::EightOneSide: return "8 points in a row on one side of the centre line";
        case RunRule::SixTrending: return "6 points in a row steadily increasing or decreasing";
    }
    return "";
}

const char* short_name(RunRule rule) {
    switch (rule) {
        case RunRule::Beyond3Sigma: return "WE1";
        case RunRule::TwoOfThreeBeyond2: return "WE2";
        case RunRule::FourOfFiveBeyond1: return "WE3";
        case RunRule::EightOneSide: return "WE4";
        case RunRule::SixTrending: return "trend";
    }
    return "";
}

ControlChart individuals_chart(std::span<const double> values) {
    ControlChart ch;
    ch.center = mean_of(values);
    const double mr_bar = mean_moving_range(values);
    ch.sigma = mr_bar / kD2;
    ch.ucl = ch.center + 3 * ch.sigma;
    ch.lcl = ch.center - 3 * ch.sigma;
    ch.mr_ucl = 3.267 * mr_bar;
    if (!(ch.sigma > 0)) return ch;
    const auto z = [&](std::size_t i) { return (values[i] - ch.center) / ch.sigma; };
    // How many of the `len` points ending at i lie beyond k sigma on side `side` (+1 or -1).
    const auto beyond = [&](std::size_t i, std::size_t len, double k, int side) {
        std::size_t n = 0;
        for (std::size_t j = i + 1 - len; j <= i; ++j) n += side * z(j) > k;
        return n;
    };
    for (std::size_t i = 0; i < values.size(); ++i) {
        const int side = z(i) > 0 ? 1 : z(i) < 0 ? -1 : 0;
        if (std::fabs(z(i)) > 3) ch.hits.push_back({i, RunRule::Beyond3Sigma});
        if (side != 0 && i >= 2 && side * z(i) > 2 && beyond(i, 3, 2, side) >= 2) ch.hits.push_back({i, RunRule::TwoOfThreeBeyond2});
        if (side != 0 && i >= 4 && side * z(i) > 1 && beyond(i, 5, 1, side) >= 4) ch.hits.push_back({i, RunRule::FourOfFiveBeyond1});
        if (side != 0 && i >= 7 && beyond(i, 8, 0, side) == 8) ch.hits.push_back({i, RunRule::EightOneSide});
        if (i >= 5) {
            bool up = true, down = true;
            for (std::size_t j = i - 4; j <= i; ++j) {
                up = up && values[j] > values[j - 1];
                down = down && values[j] < values[j - 1];
            }
            if (up || down) ch.hits.push_back({i, RunRule::SixTrending});
        }
    }
    return ch;
}

std::vector<Series> numeric_series(std::span<const history::RunRecord> runs) {
    std::vector<Series> out;
    std::map<std::pair<std::string, std::string>, std::size_t> index;
    for (const auto& r : runs) {
        if (!is_attempt(r)) continue;
        for (const auto& m : r.measurements) {
            if (!m.measured) continue;
            auto [it, added] = index.try_emplace({m.scenario, m.check_id}, out.size());
            if (added) out.push_back(Series{m.scenario, m.check_id, m.name, m.unit, {}, {}, {}, m.lower, m.upper, false, 0});
            auto& s = out[it->second];
            if (!s.values.empty() && (s.lsl != m.lower || s.usl != m.upper)) s.limits_vary = true;
            s.lsl = m.lower;
            s.usl = m.upper;
            s.values.push_back(*m.measured);
            s.serials.push_back(r.serial);
            s.times.push_back(r.started_at);
            s.fails += m.verdict != "PASS";
        }
    }
    return out;
}

Histogram histogram(std::span<const double> values, double lo, double hi) {
    Histogram h;
    h.lo = lo;
    h.hi = hi;
    const std::size_t bins = std::max<std::size_t>(5, static_cast<std::size_t>(std::ceil(std::log2(std::max<std::size_t>(values.size(), 1)))) + 1);
    h.counts.assign(bins, 0);
    const double width = (hi - lo) / static_cast<double>(bins);
    for (double v : values) {
        if (!(width > 0)) {
            ++h.counts[bins / 2];
            continue;
        }
        const double k = std::floor((v - lo) / width);
        h.counts[static_cast<std::size_t>(std::clamp(k, 0.0, static_cast<double>(bins - 1)))] += 1;
    }
    return h;
}

}  // namespace pumprig::stats
