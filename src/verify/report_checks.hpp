// Checks of what the pump reports about itself (STATUS values, event counts and volumes),
// against pumprig's plan, and health checks of the meter. A defect that stays inside the ±15 %
// delivery band (an 8 % rate error) cannot fail a meter check; it is caught here, by the numbers
// the pump's firmware computes and reports, which the ICD fixes exactly. docs/checks.md.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "record/outcome.hpp"
#include "record/run_record.hpp"
#include "verify/checks.hpp"

namespace pumprig::verify {

// ---------------------------------------------------------------------------------------------
// 8. STATUS values against the plan

// What STATUS must say over an interval of the run (bench time), from pumprig's plan.
struct ExpectedReport {
    BenchTime from{};
    BenchTime to{};
    std::optional<double> rate_ml_day;  // basal rate while RUNNING (EMPTY_RES: 0.048); unset: not judged
    std::optional<double> conc_ug_ml;   // concentration of the last refill; unset: not judged
};

struct StatusReportParams {
    // The pump prints mL/day with 3 decimals (ICD section 2): half a unit of the last digit.
    double rate_print_resolution_ml_day = 0.0005;
    std::vector<std::string> requirements;
};
// "status.rate": every STATUS read inside an interval with an expected rate and answering
// state=RUNNING, its rate_ml_day against the expected one; the worst is reported.
// "status.concentration": every STATUS inside an interval with an expected concentration.
// A check with nothing to judge (no status inside an interval) is left out.
std::vector<CheckResult> check_status_reports(std::span<const PumpStatusRecord> statuses,
                                              std::span<const ExpectedReport> expected,
                                              const StatusReportParams& params);

// "reservoir.accounting": after a refill the pump's reservoir estimate must go down by what it
// counts as delivered (deliv_ml), boluses and priming included: for every STATUS after the
// refill (until the next one, while the estimate is above 0.000), (res_ml at the first status
// - res_ml) against (deliv_ml - deliv_ml at the first status). `refills`: bench times of the
// refills answered OK. Empty when fewer than two statuses follow a refill.
struct AccountingParams {
    // Four printed values of 3 decimals (±0.0005 mL each) and one stroke either way (an
    // estimate may be updated a stroke apart from the count).
    double tolerance_ml = 4 * 0.0005 + 0.00025;
    std::vector<std::string> requirements;
};
std::vector<CheckResult> check_reservoir_accounting(std::span<const PumpStatusRecord> statuses,
                                                    std::span<const BenchTime> refills, const AccountingParams& params);

// "boluses.count": the BOLUS_START events (deduplicated) of each kind against the boluses the
// plan expects, within [from, to]. measured = events, expected = planned, both over all kinds;
// FAIL when any kind differs (a bolus skipped, given twice, or given on a retried request).
struct BolusCountParams {
    BenchTime from{};
    BenchTime to{};
    PumpClockMapping clock{};
    std::vector<std::string> requirements;
};
struct PlannedBolusCount {
    std::string kind;  // CLINICIAN, PERIODIC, PTM
    int count = 0;
};
CheckResult check_bolus_count(std::span<const PumpEventRecord> events, std::span<const PlannedBolusCount> planned,
                              const BolusCountParams& params);

// "<id>": the PRIME_END event after a priming started, its vol_ml against the expected primed
// volume, ± one stroke and the print rounding (the pump's own count of whole strokes).
struct ExpectedPriming {
    std::string id = "prime.1.delivered.event";
    BenchTime start{};
    BenchTime end{};       // expected end (the event is looked for up to an hour after it)
    Volume volume{};
    std::vector<std::string> requirements;
};
CheckResult check_priming_report(std::span<const PumpEventRecord> events, const ExpectedPriming& priming,
                                 const PumpClockMapping& clock, BenchTime run_end);

// ---------------------------------------------------------------------------------------------
// 9. Meter health (kind "meter"): faults of the meter, not of the pump

struct MeterHealthParams {
    // Longest the meter's sample counter may stand still (frozen readings), as the data
    // quality limit of every meter window allows (DataQualityLimits::max_gap).
    Millis max_frozen{5000};
    AccuracySpec accuracy{};
    Millis settling{0};       // skipped at the start of a stopped period (line tail)
    Millis min_zero_window{10 * 60'000};
    double line_tau_uncertainty = 0.5;  // the line's tail is judged over tau x (1 +- this)
    Millis zero_flow_block{60'000};   // the flow register is judged per mean over this
    FlowRate flow_resolution{0.01};   // meter ICD section 2
    std::vector<std::string> requirements;
};
// "meter.air": readings with the AIR bit (measured: how many; limit 0: air in the line makes
// the meter's data untrustworthy). "meter.frozen": the longest time the sample counter stood
// still (s). "meter.zero": over each settled period in which pumprig expects no delivery and
// the pump's own deliv_ml did not move, the meter's mean flow must be within its zero accuracy
// (0.1 uL/h, ICD section 2, plus one count of the total over the window); the worst period is
// reported; left out when the run has no such period (nor samples for the others).
// "meter.zero.flow": over the same periods, the flow register's mean per minute against the
// same zero accuracy plus its resolution (0.01 uL/h): a register that drifts while the total
// stays right is a meter fault too.
std::vector<CheckResult> check_meter_health(std::span<const Sample> samples, std::span<const ExpectedSegment> expected,
                                            std::span<const PumpStatusRecord> statuses, Millis line_tau,
                                            const MeterHealthParams& params);

// ---------------------------------------------------------------------------------------------
// The pump left stopped at the end of the run

// "stop.end", from what the run's safe stop found (record.json "safe_stop": STOP, then a
// STATUS): ICD 7 allows STOP in every state and STOP stops all delivery, so a pump that, told
// to stop, reports RUNNING, PRIMING or SUSPENDED (`refusal`) fails, whatever else the run
// showed. PASS when a STATUS confirmed STOPPED; INCONCLUSIVE when the pump never said (link
// lost, simulator gone, a run killed before its safe stop: `stop` unset).
CheckResult check_stop_at_end(const std::optional<record::SafeStopInfo>& stop, BenchTime at, std::vector<std::string> requirements);

// The failed meter checks, named: the outcome rule's (record/outcome.hpp).
using record::meter_fault;
// True for the checks whose verdict rests on meter data (volume, rate, bolus volume, meter
// timing, reservoir against the meter, IEC 60601): with a faulty meter they are not trusted.
bool rests_on_meter(const CheckResult& result);
// With a meter fault, turns every verdict resting on meter data into INCONCLUSIVE, naming the
// fault: a faulty meter neither fails nor clears the pump.
void discount_meter_checks(std::vector<CheckResult>& results);

}  // namespace pumprig::verify
