#pragma once

#include <string>

namespace vault_metadata {

// 96 bits from the kernel's CSPRNG as 24 lowercase hex characters. Nothing about the
// request or the visitor goes in.
std::string new_correlation_id();

}  // namespace vault_metadata
