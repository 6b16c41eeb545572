// First occurrences of ids, in order, without an allocation per id: the warm path calls
// this for every id of every batch.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace vault_metadata {

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
