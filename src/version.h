#pragma once

#define VAULT_METADATA_VERSION "0.1.0"
