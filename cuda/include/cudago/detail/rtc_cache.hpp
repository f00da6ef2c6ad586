// The on-disk compile cache's file format, for the cache's own tests and its fuzz harness
// (fuzz/rtc_cache_fuzz.cpp); not part of the library's API.
//
// A file is the magic line "CUDAGO-RTC-CACHE-2\n", then length-prefixed blobs (a little-endian
// uint64 length, then the bytes): the key, the architecture, the image, the log; a uint64 count
// of lowered names (at most 2^20) and a blob pair for each; then a uint64 checksum (FNV-1a) of
// everything before it.
#pragma once

#include <cstdint>
#include <string>

#include "cudago/rtc.hpp"

namespace cudago::detail {

std::string rtc_cache_serialize(const std::string& key, const CompileResult& r);

// Parses `file` as the entry of `key`. False, with `r` in an unspecified state, unless the file
// is exactly a well-formed entry of that key with a non-empty image and a matching checksum.
bool rtc_cache_deserialize(const std::string& file, const std::string& key, CompileResult& r);

// The checksum the last 8 bytes of a file hold, of the bytes before them.
uint64_t rtc_cache_checksum(const std::string& data);

}  // namespace cudago::detail
