// The DOM headless Chromium builds from an HTML file: proof that a report page parses and
// renders in a browser. Flags keep it off the network; a profile folder of its own per call.
#pragma once
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "support/files.hpp"
#include "support/run_command.hpp"

namespace pumprig::test {

inline std::string chromium_dom(const std::filesystem::path& html) {
    TempDir profile;
    auto r = run_command({"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          "--user-data-dir=" + profile.path.string(), "--dump-dom", "file://" + std::filesystem::absolute(html).string()},
                         std::chrono::seconds(120));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

}  // namespace pumprig::test
