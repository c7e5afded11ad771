// A property that fails inside a fuzz target must stop the run with the input saved: abort()
// does that under libFuzzer (it reports "deadly signal" and writes crash-<sha1>). The message
// says which property, so the report is readable without a debugger.
#pragma once
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                   \
        }                                                                                   \
    } while (0)
