// Scenario files as an author (or a damaged file) could write them: the JSON parser, the
// position mapper, every step and check parser, unit parsing and the pump profile's range
// rules. An accepted scenario is also run through the reference model (nominal execution and
// expected delivery), as `pumprig validate` and `pumprig run` do.
// Properties: no crash, no hang; a refusal always has at least one diagnostic, each with a
// message and a position inside the text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "fuzz_check.hpp"
#include "scenario/expected.hpp"
#include "scenario/scenario.hpp"

using namespace pumprig;
using namespace pumprig::scenario;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static const std::filesystem::path fixtures = std::filesystem::path(PUMPRIG_SOURCE_DIR) / "fixtures";
    auto parsed = parse_scenario_text(text, "fuzz.json", fixtures);
    if (!parsed) {
        FUZZ_CHECK(!parsed.error().empty());
        const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
        for (const auto& d : parsed.error()) {
            FUZZ_CHECK(!d.message.empty());
            FUZZ_CHECK(d.line >= 0 && d.line <= lines);
            FUZZ_CHECK(d.column >= 0 && static_cast<std::size_t>(d.column) <= size + 1);
            (void)format(d);
        }
        return 0;
    }
    const BenchTime start{std::chrono::milliseconds{1'700'000'000'000}};
    const auto times = nominal_execution(*parsed, start);
    const auto plan = expand(*parsed, times);
    (void)plan.total_volume();
    return 0;
}
