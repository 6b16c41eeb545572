#include "distinct_ids.h"

#include <cstdint>
#include <cstring>

namespace vault_metadata {

size_t id_hash(std::string_view id) noexcept {
    if (id.size() == 11) {
        uint64_t head = 0, tail = 0;
        std::memcpy(&head, id.data(), 8);
        std::memcpy(&tail, id.data() + 8, 3);
        uint64_t h = (head ^ (tail << 40) ^ tail) * 0x9E3779B97F4A7C15ull;
        return static_cast<size_t>(h ^ (h >> 32));
    }
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : id) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return static_cast<size_t>(h ^ (h >> 29));
}

namespace {

size_t table_size_for(size_t expected) noexcept {
    size_t size = 16;
    while (size < expected * 2) size <<= 1;
    return size;
}

}  // namespace

DistinctIds::DistinctIds(size_t expected) : slots_(table_size_for(expected)), mask_(slots_.size() - 1) {}

bool DistinctIds::insert(std::string_view id) {
    if (id.empty()) return false;  // the empty view marks a free slot; no video id is empty
    if ((used_ + 1) * 2 > slots_.size()) grow();
    for (size_t i = id_hash(id) & mask_;; i = (i + 1) & mask_) {
        if (slots_[i].empty()) {
            slots_[i] = id;
            ++used_;
            return true;
        }
        if (slots_[i] == id) return false;
    }
}

void DistinctIds::grow() {
    std::vector<std::string_view> old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, std::string_view());
    mask_ = slots_.size() - 1;
    used_ = 0;
    for (std::string_view id : old) {
        if (!id.empty()) insert(id);
    }
}

}  // namespace vault_metadata
