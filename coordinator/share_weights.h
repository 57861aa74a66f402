// `--share-weights bits=B[,after=R][,sparsity=S[,prune_after=P][,prune_steps=N][,restart_lr=1]]`
// (#20): federated trained weight sharing, with Deep Compression's magnitude pruning before it
// when S > 0.
//
// Magnitude pruning (S > 0): at the end of round P the coordinator has set the fraction S
// of all weight-matrix entries with the smallest magnitude (one threshold over every matrix,
// ties by position) to exactly zero — in N steps (prune_steps, default 1) at the ends of
// rounds round(P·t/N), t = 1..N, step t to S·(1 - (1 - t/N)^3) (Zhu & Gupta's gradual
// schedule: large cuts first, small ones last, retraining between them); with restart_lr=1 the
// client lr's decay (--lr-decay) starts again after each step, so the pruned model retrains
// at the full --lr (PruningSchedule's lr origin, in the checkpoint). From the round after
// the first step the task says so
// (TrainOptions::pruned_zeros): clients keep every zero weight of a matrix at zero (its
// gradient zeroed; momentum, weight decay and FedProx then never move it) while the other
// weights retrain, and the coordinator sets them back to zero after each step, whatever the
// server rule did. A zero weight is a pruned one: the mask is the model's own zeros, so
// nothing travels and a checkpoint holds it. DI pruning (--prune) ends where this starts.
//
// Sharing: at the end of round R (> P; after its pruning step, if any) the coordinator
// clusters each weight matrix into 2^B values (Deep Compression's k-means with linear
// initialization, compression/kmeans.h; with S > 0 the zeros are one of them and k-means
// clusters the rest into 2^B - 1) and replaces every weight by its centroid. From round R+1
// the task says so (TrainOptions::shared_weights): clients keep equal weights equal while
// training (each weight's gradient replaced by its cluster's mean) and send only the
// centroids' change, one value per cluster, through the round's uplink pipeline; the
// coordinator expands it to the full model, aggregates as always and projects the new model
// onto the clusters (each to its mean: whatever the server rule did, the model keeps at most
// 2^B values per matrix). Clusters are the model's own equal weights
// (core/weight_clusters.h): nothing else travels, and a checkpoint of the model is a
// checkpoint of the clusters. Pruning ends where sharing starts. The downlink must be
// lossless (a lossy one would make equal weights unequal, and zeros not zero, on the clients).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace xfed::coordinator {

struct ShareWeightsSpec {
  int bits = 4;           // 2^bits values per weight matrix, 1..16
  int64_t after = 0;      // the round whose end clusters the model; 0: half the rounds
  double sparsity = 0;    // the fraction of weight-matrix entries magnitude-pruned, [0, 1)
  int64_t prune_after = 0;  // the round whose end prunes the last of them (sparsity > 0); 0: half of `after`
  int64_t prune_steps = 1;  // in how many steps, 1..prune_after
  bool restart_lr = false;  // restart the client lr decay at each pruning step (sparsity > 0)
  bool active_in(int64_t round) const { return round > after; }
  // The fraction pruned at the end of `round`, or 0 when it is no pruning step.
  double sparsity_at(int64_t round) const;
  // The end of the first pruning step (0: none): DI pruning ends there.
  int64_t first_pruning_round() const;
  bool zeros_pruned_in(int64_t round) const { return sparsity > 0 && round > first_pruning_round(); }
};

// "bits=B[,after=R][,sparsity=S[,prune_after=P][,prune_steps=N][,restart_lr=0|1]]" (any of them; "on" for the
// defaults); `rounds` resolves after=0 and bounds R; P < R, N <= P.
Result<ShareWeightsSpec> parse_share_weights(const std::string& text, int64_t rounds);
std::string share_weights_identity(const ShareWeightsSpec& spec);

}  // namespace xfed::coordinator
