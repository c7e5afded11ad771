#include "cli/stop_signals.hpp"

#include <csignal>
#include <cstring>

namespace pumprig::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int sig) {
    int none = 0;
    g_signal.compare_exchange_strong(none, sig);
    g_stop.store(true);
}

}  // namespace

std::atomic<bool>& install_stop_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
    return g_stop;
}

std::string stop_signal_name() {
    switch (g_signal.load()) {
        case SIGINT: return "SIGINT";
        case SIGTERM: return "SIGTERM";
        case SIGHUP: return "SIGHUP";
        case SIGQUIT: return "SIGQUIT";
        default: return "";
    }
}

}  // namespace pumprig::cli
