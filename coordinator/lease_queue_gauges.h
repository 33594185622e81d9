#ifndef REELFARM_COORDINATOR_LEASE_QUEUE_GAUGES_H_
#define REELFARM_COORDINATOR_LEASE_QUEUE_GAUGES_H_

#include <memory>

#include "coordinator/lease_queue/lease_queue.h"
#include "prometheus/collectable.h"

namespace reelfarm {

// The lease queue's gauges, read from it at scrape time: reelfarm_jobs,
// reelfarm_sweeps, reelfarm_nodes_known, reelfarm_nodes_quarantined and
// reelfarm_device_progress. `queue` must outlive every scrape.
std::shared_ptr<prometheus::Collectable> LeaseQueueGauges(
    const LeaseQueue* queue);

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_LEASE_QUEUE_GAUGES_H_
