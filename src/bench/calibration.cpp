#include "bench/calibration.hpp"

#include "core/calendar.hpp"

namespace pumprig::bench {

std::vector<std::string> calibration_warnings(const RigDescription& rig, std::chrono::system_clock::time_point now) {
    std::vector<std::string> out;
    auto check = [&](const MeterLinkConfig& meter, const std::string& channel) {
        const auto due = parse_calendar_date(meter.calibration_due);
        if (!due || !date_is_past(*due, now)) return;
        out.push_back("warning: the flow meter" + (channel.empty() ? std::string() : " [" + channel + "]") + " was due for calibration on " +
                      meter.calibration_due + " (rig " + rig.file.string() + "): its accuracy (meter ICD section 2) is not assured");
    };
    if (rig.channels.empty()) check(rig.meter, rig.channel);
    for (const auto& ch : rig.channels) check(ch.meter, ch.name);
    return out;
}

}  // namespace pumprig::bench
