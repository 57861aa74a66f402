#include "compression/messages.h"

namespace xfed::compression {

void TrainTask::write(ByteWriter& w) const {
  w.put_f64(lr);
  w.put_f64(momentum);
  w.put_f64(weight_decay);
  w.put_f64(prox_mu);
  w.put_u32(local_epochs);
  w.put_u32(batch);
  w.put_u64(seed);
  w.put_string(uplink);
}

bool TrainTask::read(ByteReader& r) {
  return r.get_f64(&lr) && r.get_f64(&momentum) && r.get_f64(&weight_decay) &&
         r.get_f64(&prox_mu) && r.get_u32(&local_epochs) && r.get_u32(&batch) &&
         r.get_u64(&seed) && r.get_string(&uplink, 4096) && batch > 0;
}

void UpdateMeta::write(ByteWriter& w) const {
  w.put_u64(samples);
  w.put_f64(train_loss);
  w.put_f64(seconds_compute);
  w.put_f64(seconds_decode);
  w.put_f64(seconds_encode);
}

bool UpdateMeta::read(ByteReader& r) {
  return r.get_u64(&samples) && r.get_f64(&train_loss) && r.get_f64(&seconds_compute) &&
         r.get_f64(&seconds_decode) && r.get_f64(&seconds_encode);
}

}  // namespace xfed::compression
