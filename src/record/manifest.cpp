#include "record/manifest.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "record/recorder.hpp"

namespace pumprig::record {

namespace fs = std::filesystem;

namespace {

std::string hex(const unsigned char* md, unsigned int len) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 0xF];
    }
    return out;
}

// Every regular file under dir but the views and the manifest, relative names sorted.
std::vector<std::string> covered_files(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        const std::string rel = fs::relative(it->path(), dir).generic_string();
        // A view being rebuilt now (write_file_atomic's "<name>.tmp") is no part of the record.
        const bool view_in_progress = rel.ends_with(".tmp") && outside_manifest(std::string_view(rel).substr(0, rel.size() - 4));
        if (!outside_manifest(rel) && !view_in_progress) names.push_back(rel);
    }
    std::sort(names.begin(), names.end());
    return names;
}

bool is_hex_digest(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
    return hex(md, len);
}

Result<std::string> sha256_file_hex(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail(ErrorKind::Io, "cannot read " + file.string());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return fail(ErrorKind::Io, "SHA-256 unavailable in libcrypto");
    char buf[1 << 16];
    while (in) {
        in.read(buf, sizeof buf);
        if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf, static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) return fail(ErrorKind::Io, "cannot read " + file.string());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    return hex(md, len);
}

bool outside_manifest(std::string_view name) {
    return name == kManifestFile || name == "report.html" || name == "junit.xml" || name == "record.rebuilt.json";
}

Result<std::string> write_manifest(const fs::path& dir) {
    std::string text;
    for (const auto& name : covered_files(dir)) {
        auto digest = sha256_file_hex(dir / name);
        if (!digest) return std::unexpected(digest.error());
        text += *digest + "  " + name + "\n";
    }
    if (auto w = write_file_atomic(dir / kManifestFile, text); !w) return std::unexpected(w.error());
    return sha256_hex(text);
}

Result<ManifestCheck> verify_manifest(const fs::path& dir) {
    ManifestCheck out;
    const fs::path file = dir / kManifestFile;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return fail(ErrorKind::BadInput, dir.string() + ": not a folder");
    if (!fs::exists(file, ec)) return out;
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    out.has_manifest = true;
    out.manifest_sha256 = sha256_hex(text);
    std::map<std::string, std::string> listed;
    std::istringstream lines(text);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
        // sha256sum's text form: digest, two spaces (or space and '*' for binary mode), name.
        if (line.size() < 67 || !is_hex_digest(std::string_view(line).substr(0, 64)) || line[64] != ' ' ||
            (line[65] != ' ' && line[65] != '*'))
            return fail(ErrorKind::BadInput, file.string() + ":" + std::to_string(n) +
                                                 ": expected \"<64 lower-case hex digits>  <file name>\" (sha256sum format)");
        listed[line.substr(66)] = line.substr(0, 64);
    }
    for (const auto& [name, digest] : listed) {
        if (!fs::exists(dir / name, ec)) {
            out.missing.push_back(name);
            continue;
        }
        auto now = sha256_file_hex(dir / name);
        if (!now || *now != digest) out.changed.push_back(name);
    }
    for (const auto& name : covered_files(dir))
        if (!listed.contains(name)) out.added.push_back(name);
    return out;
}

}  // namespace pumprig::record
