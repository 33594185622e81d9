#include "common/hostname.h"

#include <unistd.h>

namespace reelfarm {

std::string LocalHostname() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0) return "";
  return host;
}

}  // namespace reelfarm
