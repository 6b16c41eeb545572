// First occurrences of ids, in order, without an allocation per id: the warm path calls
// this for every id of every batch.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace vault_metadata {

// A hash for short ids: 11-character video ids are read as two words and mixed, a few
// instructions instead of a byte loop; anything else falls back to FNV-1a.
size_t id_hash(std::string_view id) noexcept;

// For unordered containers keyed by id and searched by string_view.
struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const noexcept { return id_hash(id); }
};

class DistinctIds {
public:
    explicit DistinctIds(size_t expected);
    // True the first time an id is seen. The view must stay valid while this object lives.
    bool insert(std::string_view id);

private:
    std::vector<std::string_view> slots_;  // open addressing; empty view = free
    size_t mask_;
    size_t used_ = 0;
    void grow();
};

}  // namespace vault_metadata
