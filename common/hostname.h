#ifndef REELFARM_COMMON_HOSTNAME_H_
#define REELFARM_COMMON_HOSTNAME_H_

#include <string>

namespace reelfarm {

// This machine's hostname; empty if it cannot be read.
std::string LocalHostname();

}  // namespace reelfarm

#endif  // REELFARM_COMMON_HOSTNAME_H_
