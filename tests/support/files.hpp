// Files for tests that drive pumprig as a user: a temporary folder removed at the end, and a
// whole file read as text.
#pragma once
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace pumprig::test {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/pumprig-test-XXXXXX";
        // A test without its folder cannot mean anything: fail it (doctest reports the throw).
        if (!mkdtemp(tmpl)) throw std::runtime_error("cannot create a temporary folder under /tmp");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

}  // namespace pumprig::test
