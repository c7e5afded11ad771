// The signals that end a bench command the orderly way: SIGINT (Ctrl-C), SIGTERM (a CI job
// cancelled or timed out), SIGHUP (the terminal or SSH session closed) and SIGQUIT (Ctrl-\).
// Each only sets a flag; the run stops at its next step or sample, stops the pump, confirms
// it and writes its record and reports (docs/reliability.md). SIGPIPE is ignored for every
// command (main.cpp): a closed output pipe is a failed write, never the end of a run.
#pragma once
#include <atomic>
#include <string>

namespace pumprig::cli {

// Installs the handlers (once per process) and returns the flag they set.
std::atomic<bool>& install_stop_signals();
// The name of the first stop signal received ("SIGTERM"), or "" if none came.
std::string stop_signal_name();

}  // namespace pumprig::cli
