// The bench lock as every bench command takes it (src/bench/bench_lock.hpp): only for rigs that
// need one (real or separately started benches), with this command line recorded as the
// holder's, waiting with --wait until the holder ends or `give_up` says so (a signal).
#pragma once
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include "bench/bench_lock.hpp"

namespace pumprig::cli {

inline Result<std::optional<bench::BenchLock>> lock_bench(const std::string& command, const bench::RigDescription& rig, int argc,
                                                          char** argv, bool wait, std::function<bool()> give_up = {}) {
    if (!bench::rig_needs_lock(rig)) return std::optional<bench::BenchLock>{};
    bench::LockOptions lo;
    lo.wait = wait;
    lo.command = "pumprig";
    for (int i = 0; i < argc; ++i) lo.command += std::string(" ") + argv[i];
    lo.give_up = std::move(give_up);
    lo.on_wait = [command](const bench::LockHolder& h) {
        std::cerr << "pumprig " << command << ": waiting for the bench, held by " << h.describe() << "\n";
    };
    auto l = bench::BenchLock::acquire(rig, lo);
    if (!l) return std::unexpected(l.error());
    return std::optional<bench::BenchLock>(std::move(*l));
}

}  // namespace pumprig::cli
