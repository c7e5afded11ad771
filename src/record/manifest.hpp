// Tamper evidence of a run folder: MANIFEST.sha256 lists the SHA-256 digest of every file the
// run wrote, in the format of coreutils' sha256sum ("<64 hex>  <name>" per line, names sorted),
// so a reviewer can check a folder with `sha256sum -c MANIFEST.sha256` and no pumprig at all.
// It is written last, once the run's files are final, and never rewritten: the digest of the
// manifest itself goes into the results history (eol) and ties the folder to its database row.
// The views that `pumprig report` may rebuild at any time (report.html, junit.xml,
// record.rebuilt.json) are left out of it, so a rebuild neither breaks nor rewrites it; they are
// derived from the files it covers. docs/record.md, "Tamper evidence".
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace pumprig::record {

inline constexpr const char* kManifestFile = "MANIFEST.sha256";

// Lower-case hexadecimal SHA-256 (OpenSSL libcrypto) of bytes, and of a file read in pieces.
std::string sha256_hex(std::string_view bytes);
Result<std::string> sha256_file_hex(const std::filesystem::path& file);

// Whether a file of a run folder (path relative to the folder, '/' separated) is a rebuildable
// view, left out of the manifest, or the manifest itself.
bool outside_manifest(std::string_view relative_name);

// Writes MANIFEST.sha256 over every regular file under dir (subfolders included) but the
// views; returns the manifest's own SHA-256 (what the results history stores).
Result<std::string> write_manifest(const std::filesystem::path& dir);

struct ManifestCheck {
    bool has_manifest = false;
    std::string manifest_sha256;         // digest of MANIFEST.sha256 as found
    std::vector<std::string> changed;    // listed, present, digest differs
    std::vector<std::string> missing;    // listed, not present
    std::vector<std::string> added;      // present (and not a view), not listed
    bool intact() const { return has_manifest && changed.empty() && missing.empty() && added.empty(); }
};

// Checks a run folder against its manifest. BadInput naming the file and line for a manifest
// that is not in the format above; a folder without a manifest is reported (has_manifest
// false), not an error.
Result<ManifestCheck> verify_manifest(const std::filesystem::path& dir);

}  // namespace pumprig::record
