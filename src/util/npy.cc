#include "util/npy.h"

#include <zlib.h>

#include <cstdint>
#include <cstring>

#include "format/model_io.h"

namespace xbnn::util {
namespace {

size_t ItemSizeOf(const std::string& d) {
  if (d == "f4" || d == "i4" || d == "u4") return 4;
  if (d == "f8" || d == "i8" || d == "u8") return 8;
  if (d == "i2" || d == "u2" || d == "f2") return 2;
  if (d == "i1" || d == "u1" || d == "b1") return 1;
  return 0;
}

// Value of `key` in the header dict, e.g. 'descr': '<f4'.
bool HeaderField(const std::string& h, const std::string& key, std::string* out) {
  size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return false;
  size_t colon = h.find(':', k);
  if (colon == std::string::npos) return false;
  size_t start = h.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos) return false;
  size_t end;
  if (h[start] == '\'') {
    end = h.find('\'', start + 1);
    if (end == std::string::npos) return false;
    *out = h.substr(start + 1, end - start - 1);
  } else if (h[start] == '(') {
    end = h.find(')', start);
    if (end == std::string::npos) return false;
    *out = h.substr(start + 1, end - start - 1);
  } else {
    end = h.find_first_of(",}", start);
    if (end == std::string::npos) return false;
    *out = h.substr(start, end - start);
  }
  return true;
}

uint32_t U32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }
uint16_t U16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint64_t U64(const uint8_t* p) { return U32(p) | (static_cast<uint64_t>(U32(p + 4)) << 32); }

}  // namespace

int64_t NpyArray::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t NpyArray::ItemSize() const { return ItemSizeOf(dtype); }

Result<NpyArray> ParseNpy(std::span<const uint8_t> b, const std::string& what) {
  auto bad = [&](const std::string& why) { return Status::Error(what + ": not a valid .npy file: " + why); };
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0) return bad("missing the \\x93NUMPY magic");
  int major = b[6];
  size_t header_len, offset;
  if (major == 1) {
    header_len = U16(b.data() + 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) return bad("truncated header");
    header_len = U32(b.data() + 8);
    offset = 12;
  } else {
    return bad("unsupported version " + std::to_string(major));
  }
  if (header_len > b.size() - offset) return bad("truncated header");
  std::string h(reinterpret_cast<const char*>(b.data()) + offset, header_len);
  std::string descr, fortran, shape;
  if (!HeaderField(h, "descr", &descr) || !HeaderField(h, "fortran_order", &fortran) ||
      !HeaderField(h, "shape", &shape)) {
    return bad("header lacks descr, fortran_order or shape");
  }
  NpyArray a;
  if (descr.size() < 2) return bad("bad dtype '" + descr + "'");
  char order = descr[0];
  a.dtype = (order == '<' || order == '|' || order == '=') ? descr.substr(1) : descr;
  if (order == '>' && ItemSizeOf(descr.substr(1)) > 1) return bad("big-endian data is not supported");
  if (order == '>') a.dtype = descr.substr(1);
  if (ItemSizeOf(a.dtype) == 0) return bad("unsupported dtype '" + descr + "'");
  if (fortran.find("True") != std::string::npos) return bad("Fortran-order arrays are not supported");
  size_t pos = 0;
  while (pos < shape.size()) {
    size_t next = shape.find(',', pos);
    std::string tok = shape.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    tok.erase(0, tok.find_first_not_of(' '));
    tok.erase(tok.find_last_not_of(' ') + 1);
    if (!tok.empty()) {
      char* end = nullptr;
      long long v = std::strtoll(tok.c_str(), &end, 10);
      if (*end != '\0' || v < 0 || v > (int64_t{1} << 40)) return bad("bad shape '(" + shape + ")'");
      a.shape.push_back(v);
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  int64_t n = 1;
  for (int64_t d : a.shape) {
    if (d > 0 && n > (int64_t{1} << 40) / d) return bad("shape too large");
    n *= d;
  }
  size_t data_bytes = static_cast<size_t>(n) * ItemSizeOf(a.dtype);
  size_t start = offset + header_len;
  if (b.size() - start < data_bytes) {
    return bad("data is truncated (" + std::to_string(b.size() - start) + " bytes, expected " + std::to_string(data_bytes) + ")");
  }
  a.data.assign(b.begin() + static_cast<ptrdiff_t>(start), b.begin() + static_cast<ptrdiff_t>(start + data_bytes));
  return a;
}

Result<NpyArray> ReadNpy(const std::string& path) {
  auto bytes = format::ReadFileBytes(path, int64_t{1} << 34);
  if (!bytes.ok()) return bytes.status();
  return ParseNpy(*bytes, path);
}

Result<std::vector<std::pair<std::string, NpyArray>>> ReadNpz(const std::string& path) {
  auto file = format::ReadFileBytes(path, int64_t{1} << 34);
  if (!file.ok()) return file.status();
  const std::vector<uint8_t>& b = *file;
  std::vector<std::pair<std::string, NpyArray>> out;
  size_t p = 0;
  while (p + 4 <= b.size() && U32(b.data() + p) == 0x04034b50) {
    if (p + 30 > b.size()) return Status::Error(path + ": truncated zip entry");
    uint16_t flags = U16(b.data() + p + 6), method = U16(b.data() + p + 8);
    uint64_t csize = U32(b.data() + p + 18), usize = U32(b.data() + p + 22);
    uint16_t name_len = U16(b.data() + p + 26), extra_len = U16(b.data() + p + 28);
    if (p + 30 + name_len + extra_len > b.size()) return Status::Error(path + ": truncated zip entry");
    std::string name(reinterpret_cast<const char*>(b.data()) + p + 30, name_len);
    // Zip64: sizes live in the extra field (id 1) when the header says 0xFFFFFFFF.
    size_t e = p + 30 + name_len, e_end = e + extra_len;
    while (e + 4 <= e_end) {
      uint16_t id = U16(b.data() + e), len = U16(b.data() + e + 2);
      if (id == 1 && e + 4 + len <= e_end) {
        size_t q = e + 4;
        if (usize == 0xFFFFFFFF && q + 8 <= e + 4 + len) { usize = U64(b.data() + q); q += 8; }
        if (csize == 0xFFFFFFFF && q + 8 <= e + 4 + len) { csize = U64(b.data() + q); }
      }
      e += 4u + len;
    }
    if (method != 0 && method != 8) {
      return Status::Error(path + ": entry '" + name + "' uses zip method " + std::to_string(method) +
                           " (only stored and deflate are supported)");
    }
    if (flags & 8) return Status::Error(path + ": entry '" + name + "' uses a data descriptor, which is not supported");
    size_t data = e_end;
    // (Sizes from a Zip64 field can be near 2^64: compared without adding to them.)
    if (csize > b.size() - data || (method == 0 && csize != usize)) {
      return Status::Error(path + ": entry '" + name + "' is truncated");
    }
    std::span<const uint8_t> payload(b.data() + data, csize);
    std::vector<uint8_t> inflated;
    if (method == 8) {  // numpy.savez_compressed: raw deflate
      // zlib takes 32-bit lengths; and deflate expands at most ~1032x, so a larger claim is a
      // broken or hostile entry, refused before its memory is allocated.
      if (usize > UINT32_MAX || csize > UINT32_MAX) {
        return Status::Error(path + ": entry '" + name + "' is too large (" +
                             std::to_string(usize) + " bytes; at most 4 GiB per compressed entry)");
      }
      if (usize > csize * 1032 + 64) {
        return Status::Error(path + ": entry '" + name + "' claims " + std::to_string(usize) +
                             " bytes from " + std::to_string(csize) +
                             " compressed ones, more than deflate can give");
      }
      inflated.resize(usize);
      z_stream zs{};
      if (inflateInit2(&zs, -15) != Z_OK) return Status::Error(path + ": zlib init failed");
      zs.next_in = const_cast<Bytef*>(payload.data());
      zs.avail_in = static_cast<uInt>(payload.size());
      zs.next_out = inflated.data();
      zs.avail_out = static_cast<uInt>(inflated.size());
      int rc = inflate(&zs, Z_FINISH);
      bool ok = rc == Z_STREAM_END && zs.total_out == usize;
      inflateEnd(&zs);
      if (!ok) return Status::Error(path + ": entry '" + name + "' does not decompress");
      payload = inflated;
    }
    auto arr = ParseNpy(payload, path + ":" + name);
    if (!arr.ok()) return arr.status();
    if (name.size() > 4 && name.ends_with(".npy")) name.resize(name.size() - 4);
    out.emplace_back(name, std::move(*arr));
    p = data + csize;
  }
  if (out.empty()) return Status::Error(path + ": not an .npz archive (no stored .npy entries found)");
  return out;
}

std::vector<uint8_t> SerializeNpy(const NpyArray& a) {
  std::string descr = (a.ItemSize() == 1 ? "|" : "<") + a.dtype;
  // numpy writes (3,) for rank 1 and (2, 3) otherwise.
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i) {
    shape += std::to_string(a.shape[i]);
    if (a.shape.size() == 1 || i + 1 < a.shape.size()) shape += ", ";
  }
  if (a.shape.size() == 1) shape.pop_back();
  shape += ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(static_cast<uint8_t>(header.size() & 0xff));
  out.push_back(static_cast<uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), a.data.begin(), a.data.end());
  return out;
}

Status WriteNpy(const std::string& path, const NpyArray& a) { return format::WriteFileBytes(path, SerializeNpy(a)); }

}  // namespace xbnn::util
