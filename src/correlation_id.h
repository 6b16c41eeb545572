#pragma once

#include <string>

namespace vault_metadata {

// 96 bits from the kernel's CSPRNG as 24 lowercase hex characters. Nothing about the
// request or the visitor goes in.
std::string new_correlation_id();

// After fork(), in the child: the parent's unused random bytes must not be used twice.
void forget_correlation_randomness() noexcept;

}  // namespace vault_metadata
