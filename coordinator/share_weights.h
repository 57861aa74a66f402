// `--share-weights bits=B[,after=R]` (#20): federated trained weight sharing. At the end of
// round R (after its pruning step, if any) the coordinator clusters each weight matrix of the
// global model into 2^B values (Deep Compression's k-means with linear initialization,
// compression/kmeans.h) and replaces every weight by its centroid. From round R+1 the task
// says so (TrainOptions::shared_weights): clients keep equal weights equal while training
// (each weight's gradient replaced by its cluster's mean) and send only the centroids' change, one
// value per cluster, through the round's uplink pipeline; the coordinator expands it to the
// full model, aggregates as always and projects the new model onto the clusters (each to its
// mean: whatever the server rule did, the model keeps at most 2^B values per matrix).
// Clusters are the model's own equal weights (core/weight_clusters.h): nothing else travels,
// and a checkpoint of the model is a checkpoint of the clusters. Pruning ends where sharing
// starts. The downlink must be lossless (a lossy one would make equal weights unequal on
// the clients).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace xfed::coordinator {

struct ShareWeightsSpec {
  int bits = 4;       // 2^bits values per weight matrix, 1..16
  int64_t after = 0;  // the round whose end clusters the model; 0: half the rounds
  bool active_in(int64_t round) const { return round > after; }
};

// "bits=B[,after=R]" (any of them; "on" for the defaults); `rounds` resolves after=0 and bounds R.
Result<ShareWeightsSpec> parse_share_weights(const std::string& text, int64_t rounds);
std::string share_weights_identity(const ShareWeightsSpec& spec);

}  // namespace xfed::coordinator
