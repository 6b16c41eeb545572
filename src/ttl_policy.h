// How long an edge cache may keep an item.
#pragma once

#include <cstdint>

#include "video_meta.h"

namespace vault_metadata {

// Never above max_age, nor above what is left of the row's freshness (rounded down to a
// 60 s step, 10 s under ten minutes; 0 for a stale row);
// shorter for live and upcoming broadcasts, young videos and fast-growing ones, whose
// counts and state change while an edge would hold them.
int64_t edge_ttl(const VideoMeta& meta, int64_t max_age, int64_t now, bool stale) noexcept;

}  // namespace vault_metadata
