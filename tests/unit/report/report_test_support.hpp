// Synthetic data for the report tests: checks and samples made by hand, no bench.
#pragma once
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "record/version.hpp"
#include "report/html_report.hpp"
#include "verify/checks.hpp"

namespace pumprig::report::test {

inline const BenchTime kStart{Millis{1'767'225'600'000}};  // 2026-01-01T00:00:00Z

inline verify::CheckResult check(std::string id, verify::Verdict v, double measured, double expected, double lower, double upper) {
    verify::CheckResult c;
    c.id = std::move(id);
    c.name = "check " + c.id;
    c.kind = "volume";
    c.measured = measured;
    c.expected = expected;
    c.unit = "uL";
    c.lower = lower;
    c.upper = upper;
    c.tolerance = "15 % of expected";
    c.verdict = v;
    c.requirements = {"SRS-DEL-001"};
    return c;
}

// n samples at 1 s from kStart at a constant flow, total growing accordingly.
inline std::vector<verify::Sample> steady_samples(std::size_t n, double flow_ul_h) {
    std::vector<verify::Sample> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        verify::Sample s;
        s.t = kStart + Millis{static_cast<long long>(i) * 1000};
        s.flow = FlowRate{flow_ul_h};
        s.total = Volume{flow_ul_h * static_cast<double>(i) / 3600.0};
        s.valid = true;
        s.counter = static_cast<std::uint16_t>(i);
        s.status = 1;
        out.push_back(s);
    }
    return out;
}

// A view of a 1-hour run at 500 uL/h with one event and one alarm.
inline RunView small_view() {
    RunView v;
    auto& r = v.record;
    r.tool.version = kToolVersion;
    r.rig.name = "sim";
    r.rig.file = "rig/sim.json";
    r.rig.simulated = true;
    r.pump = record::PumpIdentity{"ITB-40", "SIM0001", "2.4.1", 1};
    r.meter = "LF-2000,SN=LF0001";
    r.scenario.name = "continuous";
    r.scenario.file = "scenarios/functions/continuous.json";
    r.scenario.sha256 = std::string(64, 'a');
    r.seed = 1;
    r.start = kStart;
    r.end = kStart + Millis{3600'000};
    r.state = record::RunState::Complete;
    r.outcome = record::Outcome::Pass;
    v.outcome = "PASS";
    v.start = kStart;
    v.end = kStart + Millis{3600'000};
    v.samples = steady_samples(3601, 500.0);
    v.expected = {verify::ExpectedSegment{kStart, v.end, FlowRate{500.0}, "basal step 1"}};
    verify::PumpEventRecord step;
    step.bench_t = kStart + Millis{1000};
    step.type = "STEP";
    step.n = 1;
    step.values = {{"step", "1"}};
    verify::PumpEventRecord alarm;
    alarm.bench_t = kStart + Millis{1800'000};
    alarm.type = "ALARM";
    alarm.n = 2;
    alarm.values = {{"code", "LOW_RES"}, {"state", "SET"}};
    v.events = {step, alarm};
    v.checks = {check("volume.1", verify::Verdict::Pass, 500.2, 500.0, 425.0, 575.0)};
    return v;
}

}  // namespace pumprig::report::test
