// The progress reporter run and eol share: a live line when stderr is a terminal, steady plain
// lines otherwise (a CI log), none with --quiet. docs/ci-runner.md, README.
#pragma once
#include <sys/ioctl.h>
#include <unistd.h>

#include <optional>

#include "run/progress.hpp"

namespace pumprig::cli {

inline std::optional<run::ProgressReporter> make_progress(bool quiet) {
    if (quiet) return std::nullopt;
    run::ProgressReporter::Options o;
    o.mode = isatty(STDERR_FILENO) ? run::ProgressReporter::Mode::Terminal : run::ProgressReporter::Mode::Plain;
    winsize ws{};
    if (o.mode == run::ProgressReporter::Mode::Terminal && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) o.columns = ws.ws_col;
    return std::optional<run::ProgressReporter>(std::in_place, o);
}

}  // namespace pumprig::cli
