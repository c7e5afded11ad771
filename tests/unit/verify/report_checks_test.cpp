// What the pump reports against the plan, and the meter's health (verify/report_checks.hpp).
#include <doctest/doctest.h>

#include <vector>

#include "synthetic.hpp"
#include "verify/report_checks.hpp"

using namespace pumprig;
using namespace pumprig::verify;
using namespace pumprig::verify::test;

namespace {

PumpStatusRecord status(BenchTime t, std::string state, double rate, double res, double deliv, double conc = 500) {
    PumpStatusRecord s;
    s.bench_t = t;
    s.pump_t = to_unix_seconds(t);
    s.state = std::move(state);
    s.rate_ml_day = rate;
    s.res_ml = res;
    s.deliv_ml = deliv;
    s.conc_ug_ml = conc;
    return s;
}

PumpEventRecord event(BenchTime t, std::uint32_t n, std::string type, std::map<std::string, std::string> values = {}) {
    PumpEventRecord e;
    e.bench_t = t;
    e.pump_t = to_unix_seconds(t);
    e.n = n;
    e.type = std::move(type);
    e.values = std::move(values);
    return e;
}

double hours_between(BenchTime a, BenchTime b) { return std::chrono::duration<double, std::ratio<3600>>(b - a).count(); }

const CheckResult* find(const std::vector<CheckResult>& v, const std::string& id) {
    for (const auto& r : v)
        if (r.id == id) return &r;
    return nullptr;
}

}  // namespace

TEST_CASE("verify status.rate passes the programmed rate to its printed decimals and fails 8 % off") {
    const std::vector<ExpectedReport> expected{{kT0, kT0 + 1h, 1.0, std::nullopt}};
    StatusReportParams p;
    auto ok = check_status_reports(std::vector{status(kT0 + 10min, "RUNNING", 1.0004, 20, 0)}, expected, p);
    REQUIRE(find(ok, "status.rate"));
    CHECK(find(ok, "status.rate")->verdict == Verdict::Pass);
    auto high = check_status_reports(std::vector{status(kT0 + 10min, "RUNNING", 1.0, 20, 0), status(kT0 + 20min, "RUNNING", 1.08, 20, 0)},
                                     expected, p);
    REQUIRE(find(high, "status.rate"));
    CHECK(find(high, "status.rate")->verdict == Verdict::Fail);
    CHECK(find(high, "status.rate")->measured == doctest::Approx(1.08));
}

TEST_CASE("verify status.rate judges only statuses answering RUNNING inside an interval and is left out otherwise") {
    const std::vector<ExpectedReport> expected{{kT0, kT0 + 1h, 1.0, std::nullopt}};
    // STOPPED (rate 0) and a status outside every interval are not judged: nothing to report.
    auto none = check_status_reports(std::vector{status(kT0 + 10min, "STOPPED", 0, 20, 0), status(kT0 + 2h, "RUNNING", 5, 20, 0)},
                                     expected, {});
    CHECK(none.empty());
}

TEST_CASE("verify status.concentration must equal the refill's") {
    const std::vector<ExpectedReport> expected{{kT0, kT0 + 1h, std::nullopt, 1000.0}};
    auto kept_old = check_status_reports(std::vector{status(kT0 + 1min, "STOPPED", 0, 30, 0, 500)}, expected, {});
    REQUIRE(find(kept_old, "status.concentration"));
    CHECK(find(kept_old, "status.concentration")->verdict == Verdict::Fail);
    auto right = check_status_reports(std::vector{status(kT0 + 1min, "STOPPED", 0, 30, 0, 1000)}, expected, {});
    CHECK(find(right, "status.concentration")->verdict == Verdict::Pass);
}

TEST_CASE("verify reservoir.accounting: the estimate falls by what deliv_ml counts, boluses included") {
    const std::vector<BenchTime> refills{kT0};
    const std::vector<PumpStatusRecord> honest{status(kT0 + 1min, "RUNNING", 1, 20.000, 0.000), status(kT0 + 1h, "RUNNING", 1, 19.958, 0.042),
                                               status(kT0 + 2h, "RUNNING", 1, 19.716, 0.284)};
    auto a = check_reservoir_accounting(honest, refills, {});
    REQUIRE(a.size() == 1);
    CHECK(a[0].verdict == Verdict::Pass);
    // A 0.2 mL bolus counted as delivered but not taken off the estimate.
    const std::vector<PumpStatusRecord> bolus_kept{status(kT0 + 1min, "RUNNING", 1, 20.000, 0.000),
                                                   status(kT0 + 2h, "RUNNING", 1, 19.916, 0.284)};
    auto b = check_reservoir_accounting(bolus_kept, refills, {});
    REQUIRE(b.size() == 1);
    CHECK(b[0].verdict == Verdict::Fail);
}

TEST_CASE("verify reservoir.accounting stops where the estimate reaches 0.000 and starts again at each refill") {
    const std::vector<BenchTime> refills{kT0, kT0 + 3h};
    const std::vector<PumpStatusRecord> s{status(kT0 + 1min, "RUNNING", 1, 0.600, 0.000), status(kT0 + 1h, "RUNNING", 1, 0.100, 0.500),
                                          // The estimate stopped at 0 while delivery went on: not judged.
                                          status(kT0 + 2h, "RUNNING", 0.048, 0.000, 0.650),
                                          // After the second refill the count starts from the new base.
                                          status(kT0 + 3h + 1min, "STOPPED", 0, 10.000, 0.650), status(kT0 + 4h, "RUNNING", 1, 9.958, 0.692)};
    auto r = check_reservoir_accounting(s, refills, {});
    REQUIRE(r.size() == 1);
    CHECK(r[0].verdict == Verdict::Pass);
}

TEST_CASE("verify boluses.count fails on a bolus given twice or skipped, per kind") {
    BolusCountParams p;
    p.from = kT0;
    p.to = kT0 + 2h;
    const std::vector<PlannedBolusCount> planned{{"PERIODIC", 1}};
    const std::vector<PumpEventRecord> once{event(kT0 + 10min, 3, "BOLUS_START", {{"kind", "PERIODIC"}}),
                                            // a re-sent line is the same event
                                            event(kT0 + 10min, 3, "BOLUS_START", {{"kind", "PERIODIC"}})};
    CHECK(check_bolus_count(once, planned, p).verdict == Verdict::Pass);
    auto twice = once;
    twice.push_back(event(kT0 + 20min, 5, "BOLUS_START", {{"kind", "PERIODIC"}}));
    const auto r = check_bolus_count(twice, planned, p);
    CHECK(r.verdict == Verdict::Fail);
    CHECK(r.detail.find("PERIODIC 2 started, 1 planned") != std::string::npos);
    CHECK(check_bolus_count(std::vector<PumpEventRecord>{}, planned, p).verdict == Verdict::Fail);
}

TEST_CASE("verify prime delivered event: PRIME_END vol_ml within a stroke of the volume asked for") {
    ExpectedPriming x;
    x.start = kT0;
    x.end = kT0 + 12min;
    x.volume = Volume::from_ml(0.2);
    CHECK(check_priming_report(std::vector{event(kT0 + 12min, 4, "PRIME_END", {{"vol_ml", "0.200"}})}, x, {}, kT0 + 2h).verdict ==
          Verdict::Pass);
    CHECK(check_priming_report(std::vector{event(kT0 + 14min, 4, "PRIME_END", {{"vol_ml", "0.240"}})}, x, {}, kT0 + 2h).verdict ==
          Verdict::Fail);
    // Not yet seen and the run ended before an hour past the end: not decided.
    CHECK(check_priming_report(std::vector<PumpEventRecord>{}, x, {}, kT0 + 20min).verdict == Verdict::Inconclusive);
}

TEST_CASE("verify meter health: AIR readings and a frozen counter are meter faults that discount meter-based checks") {
    SeriesSpec spec;
    spec.rate = [](BenchTime) { return 40.0; };
    auto samples = make_series(spec);
    const std::vector<ExpectedSegment> segments{{kT0, kT0 + 1h, FlowRate{40}, "basal"}};
    auto healthy = check_meter_health(samples, segments, {}, Millis{0}, {});
    REQUIRE(find(healthy, "meter.air"));
    CHECK(find(healthy, "meter.air")->verdict == Verdict::Pass);
    CHECK(find(healthy, "meter.frozen")->verdict == Verdict::Pass);
    CHECK_FALSE(meter_fault(healthy));

    samples[100].status = 0x2;  // AIR, not VALID
    samples[100].valid = false;
    for (std::size_t i = 200; i < 210; ++i) {  // counter still for 10 s
        samples[i].stale = true;
        samples[i].valid = false;
    }
    auto sick = check_meter_health(samples, segments, {}, Millis{0}, {});
    CHECK(find(sick, "meter.air")->verdict == Verdict::Fail);
    CHECK(find(sick, "meter.frozen")->verdict == Verdict::Fail);
    CHECK(find(sick, "meter.frozen")->measured == doctest::Approx(10.0));
    REQUIRE(meter_fault(sick));

    CheckResult volume;
    volume.id = "volume.1";
    volume.kind = "volume";
    volume.verdict = Verdict::Fail;
    CheckResult event_check;
    event_check.id = "event.1";
    event_check.kind = "event";
    event_check.verdict = Verdict::Fail;
    std::vector<CheckResult> all = sick;
    all.push_back(volume);
    all.push_back(event_check);
    discount_meter_checks(all);
    CHECK(find(all, "volume.1")->verdict == Verdict::Inconclusive);
    CHECK(find(all, "volume.1")->detail.starts_with("meter fault"));
    CHECK(find(all, "event.1")->verdict == Verdict::Fail);  // the pump's own report still counts
}

TEST_CASE("verify meter.zero: flow while stopped with the pump's count unchanged is the meter's zero") {
    const BenchTime stop = kT0 + 30min;
    SeriesSpec spec;
    spec.to = kT0 + 2h;
    spec.rate = [&](BenchTime t) { return t < stop ? 40.0 : 0.0; };
    auto samples = make_series(spec);
    const std::vector<ExpectedSegment> segments{{kT0, stop, FlowRate{40}, "basal"}, {stop, kT0 + 2h, FlowRate{0}, "stopped"}};
    std::vector<PumpStatusRecord> statuses;
    for (BenchTime t = stop + 1min; t < kT0 + 2h; t += 1min) statuses.push_back(status(t, "STOPPED", 0, 19.98, 0.020));
    MeterHealthParams p;
    p.settling = 2min;
    auto ok = check_meter_health(samples, segments, statuses, Millis{0}, p);
    REQUIRE(find(ok, "meter.zero"));
    CHECK(find(ok, "meter.zero")->verdict == Verdict::Pass);

    // The meter drifts 3 uL/h while nothing flows.
    for (auto& s : samples)
        if (s.t > stop) s.total = Volume{s.total.ul + 3.0 * hours_between(stop, s.t)};
    auto drift = check_meter_health(samples, segments, statuses, Millis{0}, p);
    CHECK(find(drift, "meter.zero")->verdict == Verdict::Fail);

    // The same flow with the pump counting strokes is the pump's, not the meter's: not judged.
    statuses.back().deliv_ml = 0.025;
    auto pump_flow = check_meter_health(samples, segments, statuses, Millis{0}, p);
    CHECK(find(pump_flow, "meter.zero") == nullptr);
}

TEST_CASE("verify stop.end: PASS when STATUS said STOPPED, FAIL when the pump said it kept on, INCONCLUSIVE when it said nothing") {
    const BenchTime end{Millis{3'600'000}};
    const auto stopped = check_stop_at_end(record::SafeStopInfo{true, true, true, "pump stopped (STATUS state=STOPPED)", ""}, end, {"SRS-DEL-004"});
    CHECK(stopped.id == "stop.end");
    CHECK(stopped.verdict == Verdict::Pass);
    CHECK(stopped.requirements == std::vector<std::string>{"SRS-DEL-004"});
    CHECK(stopped.tolerance_source.find("ICD 7") != std::string::npos);

    // STOP answered OK, STATUS still RUNNING (pump defect stop_ignored): the pump's own word.
    const auto ignored = check_stop_at_end(record::SafeStopInfo{true, true, false, "... (51 attempts over 10.0 s)", "STOP answered OK but STATUS says state=RUNNING"},
                                           end, {});
    CHECK(ignored.verdict == Verdict::Fail);
    CHECK(ignored.detail.find("state=RUNNING") != std::string::npos);

    // No answer at all (link lost): nothing says what the pump did.
    const auto lost = check_stop_at_end(record::SafeStopInfo{true, false, false, "STOP failed: link lost (3 attempts over 10.1 s)", ""}, end, {});
    CHECK(lost.verdict == Verdict::Inconclusive);
    CHECK(lost.detail.find("link lost") != std::string::npos);

    // A run killed before its safe stop (a rebuilt report).
    CHECK(check_stop_at_end(std::nullopt, end, {}).verdict == Verdict::Inconclusive);
}
