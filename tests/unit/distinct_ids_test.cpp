#include "distinct_ids.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace vault_metadata {
namespace {

TEST(DistinctIds, KeepsFirstOccurrencesOnly) {
    DistinctIds seen(4);
    EXPECT_TRUE(seen.insert("dQw4w9WgXcQ"));
    EXPECT_TRUE(seen.insert("9bZkp7q19f0"));
    EXPECT_FALSE(seen.insert("dQw4w9WgXcQ"));
    EXPECT_FALSE(seen.insert("9bZkp7q19f0"));
    EXPECT_TRUE(seen.insert("kJQP7kiw5Fk"));
}

TEST(DistinctIds, AgreesWithAStdSetBeyondItsExpectedSize) {
    std::vector<std::string> ids;
    for (int i = 0; i < 5000; ++i) ids.push_back("id" + std::to_string(i % 1700));
    DistinctIds seen(10);  // grows
    std::set<std::string> reference;
    for (const std::string& id : ids) EXPECT_EQ(seen.insert(id), reference.insert(id).second) << id;
}

}  // namespace
}  // namespace vault_metadata
