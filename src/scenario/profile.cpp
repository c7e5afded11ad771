#include "scenario/profile.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_reader.hpp"

namespace pumprig::scenario {
namespace {

using nlohmann::json;

// A problem at a JSON pointer of the profile (named with its line and column when reported).
struct ProfileError {
    std::string pointer;
    std::string message;
    bool at_key = false;  // an unknown key: its own place, not its value's
};

// Profiles are small and written once per pump model: the first problem is reported, by key.
class ProfileReader {
public:
    explicit ProfileReader(const std::filesystem::path& file) : file_(file) {}

    const json& member(const json& obj, const std::string& where, const std::string& key) {
        if (!obj.is_object()) throw ProfileError{where, "expected an object"};
        auto it = obj.find(key);
        if (it == obj.end()) throw ProfileError{where, "missing key \"" + key + "\""};
        return *it;
    }

    template <class T>
    T quantity(const json& obj, const std::string& where, const std::string& key,
               Result<T> (*parse)(std::string_view)) {
        const json& v = member(obj, where, key);
        if (!v.is_string()) throw ProfileError{where + "/" + key, "expected a string with a unit"};
        auto r = parse(v.get<std::string>());
        if (!r) throw ProfileError{where + "/" + key, r.error().message};
        return *r;
    }

    int whole(const json& obj, const std::string& where, const std::string& key) {
        const json& v = member(obj, where, key);
        if (!v.is_number_integer() || v.get<std::int64_t>() < std::numeric_limits<int>::min() ||
            v.get<std::int64_t>() > std::numeric_limits<int>::max())
            throw ProfileError{where + "/" + key, "expected a whole number"};
        return v.get<int>();
    }

    IntRange range(const json& obj, const std::string& where, const std::string& key) {
        const json& v = member(obj, where, key);
        only_keys(v, where + "/" + key, {"min", "max"});
        IntRange r{whole(v, where + "/" + key, "min"), whole(v, where + "/" + key, "max")};
        if (r.min > r.max) throw ProfileError{where + "/" + key, "min is above max"};
        return r;
    }

    void only_keys(const json& obj, const std::string& where, std::initializer_list<const char*> keys) {
        if (!obj.is_object()) throw ProfileError{where, "expected an object"};
        for (const auto& [k, _] : obj.items())
            if (std::none_of(keys.begin(), keys.end(), [&](const char* a) { return k == a; }))
                throw ProfileError{pointer_child(where, k), "unknown key \"" + k + "\"", true};
    }

private:
    std::filesystem::path file_;
};

}  // namespace

Result<PumpProfile> load_pump_profile(const std::filesystem::path& file) {
    auto read = read_json_file(file);
    if (!read) {
        if (read.error().kind == ErrorKind::Io) return fail(ErrorKind::Io, "cannot read pump profile " + file.string());
        return fail(ErrorKind::BadInput, "pump profile " + read.error().message);
    }
    const json& doc = read->root();
    ProfileReader r(file);
    PumpProfile p;
    try {
        r.only_keys(doc, "", {"model", "reservoir", "basal_rate", "minimum_rate", "bolus_max_rate",
                              "concentration", "accuracy", "stroke", "low_reservoir",
                              "empty_reservoir", "prime_min", "max_steps", "max_boluses",
                              "bolus_duration_min", "ptm_lockout_min", "ptm_max_per_day"});
        p.id = file.stem().string();
        const json& model = r.member(doc, "", "model");
        if (!model.is_string()) throw ProfileError{"/model", "expected a string"};
        p.model = model.get<std::string>();
        p.reservoir = r.quantity(doc, "", "reservoir", parse_volume);
        const json& basal = r.member(doc, "", "basal_rate");
        r.only_keys(basal, "/basal_rate", {"min", "max"});
        p.basal_min = r.quantity(basal, "/basal_rate", "min", parse_flow_rate);
        p.basal_max = r.quantity(basal, "/basal_rate", "max", parse_flow_rate);
        p.minimum_rate = r.quantity(doc, "", "minimum_rate", parse_flow_rate);
        p.bolus_max_rate = r.quantity(doc, "", "bolus_max_rate", parse_flow_rate);
        const json& conc = r.member(doc, "", "concentration");
        r.only_keys(conc, "/concentration", {"min", "max"});
        p.concentration_min = r.quantity(conc, "/concentration", "min", parse_concentration);
        p.concentration_max = r.quantity(conc, "/concentration", "max", parse_concentration);
        p.accuracy = r.quantity(doc, "", "accuracy", parse_percent);
        p.stroke = r.quantity(doc, "", "stroke", parse_volume);
        const json& low = r.member(doc, "", "low_reservoir");
        r.only_keys(low, "/low_reservoir", {"default", "min", "max"});
        p.low_res_default = r.quantity(low, "/low_reservoir", "default", parse_volume);
        p.low_res_min = r.quantity(low, "/low_reservoir", "min", parse_volume);
        p.low_res_max = r.quantity(low, "/low_reservoir", "max", parse_volume);
        p.empty_res = r.quantity(doc, "", "empty_reservoir", parse_volume);
        p.prime_min = r.quantity(doc, "", "prime_min", parse_volume);
        p.max_steps = r.whole(doc, "", "max_steps");
        p.max_boluses = r.whole(doc, "", "max_boluses");
        p.bolus_duration_min = r.range(doc, "", "bolus_duration_min");
        p.ptm_lockout_min = r.range(doc, "", "ptm_lockout_min");
        p.ptm_max_per_day = r.range(doc, "", "ptm_max_per_day");
        if (p.basal_min > p.basal_max) throw ProfileError{"/basal_rate", "min is above max"};
        if (p.concentration_min > p.concentration_max) throw ProfileError{"/concentration", "min is above max"};
        if (p.concentration_min.ug_per_ml <= 0) throw ProfileError{"/concentration/min", "expected above 0"};
    } catch (const ProfileError& e) {
        const auto at = e.at_key ? read->key_at(e.pointer) : read->value_at(e.pointer);
        return fail(ErrorKind::BadInput, "pump profile " + describe_at(file.string(), at, e.pointer.empty() ? "/" : e.pointer, e.message));
    }
    return p;
}

Result<PumpProfile> find_pump_profile(const std::filesystem::path& fixtures_dir, std::string_view id) {
    // The id names a file in fixtures/pumps: a '/', a leading '.' or an absolute path would let
    // a scenario load any .json file on the machine (security review, issue 7).
    const bool plain_name = !id.empty() && id.front() != '.' && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
    if (!plain_name)
        return fail(ErrorKind::BadInput, "pump profile id \"" + std::string(id) +
                                             "\" is not a plain name; expected letters, digits, '-', '_' and '.' "
                                             "naming a file in fixtures/pumps, such as \"itb-40\"");
    const auto dir = fixtures_dir / "pumps";
    const auto file = dir / (std::string(id) + ".json");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        std::set<std::string> known;
        for (const auto& e : std::filesystem::directory_iterator(dir, ec))
            if (e.path().extension() == ".json") known.insert(e.path().stem().string());
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        return fail(ErrorKind::BadInput, "unknown pump profile \"" + std::string(id) +
                                             "\"; expected one of " +
                                             (list.empty() ? "(none in " + dir.string() + ")" : list));
    }
    return load_pump_profile(file);
}

}  // namespace pumprig::scenario
