// Headless Chromium for tests of HTML pages: the DOM it builds from a file, or a screenshot.
// No network: the flags keep it off the net. As root it needs --no-sandbox (docs/platform.md).
#pragma once
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/run_command.hpp"

namespace pumprig::test {

inline CommandResult run_chromium(const std::filesystem::path& html, const std::string& what) {
    TempDir profile;
    return run_command({"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--user-data-dir=" + profile.path.string(), "--window-size=1100,2400", what,
                        "file://" + std::filesystem::absolute(html).string()},
                       std::chrono::seconds(120));
}

// The DOM after the page loaded.
inline std::string chromium_dom(const std::filesystem::path& html) {
    auto r = run_chromium(html, "--dump-dom");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

}  // namespace pumprig::test
