//! The glyph network's training, on candle: the layers of [`super::net`]
//! built from candle's convolutions and linear layers, their gradient by
//! candle's autograd, its AdamW, and the trained weights laid out as
//! `models/digits.bin` holds them.
//!
//! Reading stays with `net.rs`'s own forward pass: the scan reads glyphs
//! one at a time, hundreds a page, where candle's tensors cost more to set
//! up than the arithmetic (`make bench`, "read one glyph": 175 µs against
//! 428 µs through candle). A test holds the two passes to the same probabilities,
//! so what training measured is what the scan runs.

use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Module, Result, Shape, Tensor, D};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use candle_nn::{conv2d, linear, AdamW, Conv2d, Conv2dConfig, Linear, Optimizer, ParamsAdamW, VarBuilder, VarMap};

use super::net::{self, Net, CLASSES, FLAT, HIDDEN, INPUT, KERNEL, MAPS1, MAPS2, PARAMETERS, SIDE};

/// Share of the hidden layer's units silenced at each training step
/// (dropout): the 60 000 digits are fewer than the hidden layer's
/// 100 000 weights could memorise.
const DROPOUT: f32 = 0.3;
/// AdamW's weight decay: a light pull of every weight towards zero.
const WEIGHT_DECAY: f64 = 1e-4;

/// Each tensor of the network: its name in the candle model and where it
/// stands in [`Net::params`].
const TENSORS: [(&str, std::ops::Range<usize>); 8] = [
    ("conv1.weight", net::W1..net::B1),
    ("conv1.bias", net::B1..net::W2),
    ("conv2.weight", net::W2..net::B2),
    ("conv2.bias", net::B2..net::W3),
    ("hidden.weight", net::W3..net::B3),
    ("hidden.bias", net::B3..net::W4),
    ("out.weight", net::W4..net::B4),
    ("out.bias", net::B4..PARAMETERS),
];

/// The glyph network's layers in candle: 5×5 convolution, ReLU, 2×2
/// max-pool, 5×5 convolution, ReLU, 2×2 max-pool, hidden layer with ReLU,
/// one output per class.
pub struct GlyphModel {
    conv1: Conv2d,
    conv2: Conv2d,
    hidden: Linear,
    out: Linear,
}

impl GlyphModel {
    pub fn new(vb: VarBuilder) -> Result<GlyphModel> {
        let valid = Conv2dConfig::default();
        Ok(GlyphModel {
            conv1: conv2d(1, MAPS1, KERNEL, valid, vb.pp("conv1"))?,
            conv2: conv2d(MAPS1, MAPS2, KERNEL, valid, vb.pp("conv2"))?,
            hidden: linear(FLAT, HIDDEN, vb.pp("hidden"))?,
            out: linear(HIDDEN, CLASSES, vb.pp("out"))?,
        })
    }

    /// Scores per class, `(batch, 1, SIDE, SIDE)` → `(batch, CLASSES)`, not
    /// yet normalised. In training, `dropout` multiplies the hidden units
    /// (`(batch, HIDDEN)`: 0 for a silenced unit, 1 / (1 − [`DROPOUT`]) for
    /// the others).
    pub fn forward(&self, input: &Tensor, dropout: Option<&Tensor>) -> Result<Tensor> {
        let x = max_pool(&self.conv1.forward(input)?.relu()?)?;
        let x = max_pool(&self.conv2.forward(&x)?.relu()?)?;
        let mut x = self.hidden.forward(&x.flatten_from(1)?)?.relu()?;
        if let Some(mask) = dropout {
            x = x.mul(mask)?;
        }
        self.out.forward(&x)
    }
}

/// 2×2 max-pooling by [`net::max_pool`], the very function the scan reads
/// with. Its gradient goes to the one input that was the maximum: candle's
/// own max-pool scales the gradient by how many inputs tied, which on
/// paper (one large tie) inflates it fourfold and shrinks it fourfold
/// everywhere else.
fn max_pool(x: &Tensor) -> Result<Tensor> {
    x.apply_op1(MaxPool)
}

struct MaxPool;

impl MaxPool {
    /// Maps laid one after another, and their side.
    fn maps_of(shape: &Shape) -> Result<(usize, usize)> {
        let (batch, maps, h, w) = shape.dims4()?;
        if h != w || h % 2 != 0 {
            candle_core::bail!("max-pool reads square maps of even side, not {h}×{w}")
        }
        Ok((batch * maps, h))
    }
}

impl CustomOp1 for MaxPool {
    fn name(&self) -> &'static str {
        "max-pool-2x2"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (maps, side) = MaxPool::maps_of(layout.shape())?;
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("max-pool reads a contiguous tensor")
        };
        let (pooled, _) = net::max_pool(&storage.as_slice::<f32>()?[start..end], maps, side);
        let (batch, channels, _, _) = layout.shape().dims4()?;
        Ok((CpuStorage::F32(pooled), Shape::from((batch, channels, side / 2, side / 2))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let (maps, side) = MaxPool::maps_of(arg.shape())?;
        let input = arg.flatten_all()?.to_vec1::<f32>()?;
        let (_, at) = net::max_pool(&input, maps, side);
        let mut grad = vec![0.0f32; input.len()];
        for (&i, g) in at.iter().zip(grad_res.flatten_all()?.to_vec1::<f32>()?) {
            grad[i as usize] += g;
        }
        Ok(Some(Tensor::from_vec(grad, arg.shape(), arg.device())?))
    }
}

/// A glyph network in training: candle's weights, the optimiser, and the
/// seeded generator of its dropout (candle's own draws from an unseeded
/// one: the same seed would not train the same network).
pub struct GlyphTrainer {
    varmap: VarMap,
    model: GlyphModel,
    optimiser: AdamW,
    dropout: ChaCha8Rng,
}

impl GlyphTrainer {
    /// Training that starts from `start`'s weights; `seed` draws its dropout.
    pub fn new(start: &Net, rate: f64, seed: u64) -> Result<GlyphTrainer> {
        let (varmap, model) = weighted_model(start)?;
        let params = ParamsAdamW { lr: rate, weight_decay: WEIGHT_DECAY, ..Default::default() };
        let optimiser = AdamW::new(varmap.all_vars(), params)?;
        Ok(GlyphTrainer { varmap, model, optimiser, dropout: ChaCha8Rng::seed_from_u64(seed) })
    }

    /// One step on a batch of glyph inputs (each [`INPUT`] values, ink 1)
    /// and their classes, at learning rate `rate`; returns the batch's
    /// mean cross-entropy.
    pub fn step(&mut self, inputs: Vec<f32>, labels: Vec<u32>, rate: f64) -> Result<f32> {
        let batch = labels.len();
        let input = Tensor::from_vec(inputs, (batch, 1, SIDE, SIDE), &Device::Cpu)?;
        let labels = Tensor::from_vec(labels, batch, &Device::Cpu)?;
        let kept = 1.0 / (1.0 - DROPOUT);
        let mask: Vec<f32> =
            (0..batch * HIDDEN).map(|_| if self.dropout.gen::<f32>() < DROPOUT { 0.0 } else { kept }).collect();
        let mask = Tensor::from_vec(mask, (batch, HIDDEN), &Device::Cpu)?;
        let logits = self.model.forward(&input, Some(&mask))?;
        let loss = candle_nn::loss::cross_entropy(&logits, &labels)?;
        self.optimiser.set_learning_rate(rate);
        self.optimiser.backward_step(&loss)?;
        loss.to_scalar::<f32>()
    }

    /// The weights as the scan reads them.
    pub fn net(&self) -> Result<Net> {
        weights_of(&self.varmap)
    }
}

/// Sets `varmap`'s tensors to `net`'s weights.
fn set_weights(varmap: &VarMap, net: &Net) -> Result<()> {
    let data = varmap.data().lock().expect("the weights' lock");
    for (name, range) in TENSORS {
        let var = data.get(name).ok_or_else(|| candle_core::Error::Msg(format!("the model has no {name}")))?;
        var.set(&Tensor::from_slice(&net.params[range], var.shape(), &Device::Cpu)?)?;
    }
    Ok(())
}

/// `varmap`'s tensors as a [`Net`].
fn weights_of(varmap: &VarMap) -> Result<Net> {
    let data = varmap.data().lock().expect("the weights' lock");
    let mut params = vec![0.0f32; PARAMETERS];
    for (name, range) in TENSORS {
        let var = data.get(name).ok_or_else(|| candle_core::Error::Msg(format!("the model has no {name}")))?;
        params[range].copy_from_slice(&var.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(Net { params })
}

/// The candle model with `net`'s weights.
pub fn model_of(net: &Net) -> Result<GlyphModel> {
    weighted_model(net).map(|(_, model)| model)
}

/// The candle model with `net`'s weights, and the weights' variables.
fn weighted_model(net: &Net) -> Result<(VarMap, GlyphModel)> {
    let varmap = VarMap::new();
    let model = GlyphModel::new(VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu))?;
    set_weights(&varmap, net)?;
    Ok((varmap, model))
}

/// Class probabilities of a batch of glyph inputs by `model` (what the
/// training optimised), one row per glyph.
pub fn classify_batch(model: &GlyphModel, inputs: &[[f32; INPUT]]) -> Result<Vec<Vec<f32>>> {
    let flat: Vec<f32> = inputs.iter().flatten().copied().collect();
    let input = Tensor::from_vec(flat, (inputs.len(), 1, SIDE, SIDE), &Device::Cpu)?;
    candle_nn::ops::softmax(&model.forward(&input, None)?, D::Minus1)?.to_vec2::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_net(seed: u64) -> Net {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Net::initial(|| rng.gen::<f32>())
    }

    fn random_inputs(seed: u64, n: usize) -> Vec<[f32; INPUT]> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let mut input = [0.0f32; INPUT];
                // Paper (0) with strokes of ink: ties in the pools, as on a page.
                for v in input.iter_mut() {
                    *v = if rng.gen_bool(0.3) { rng.gen::<f32>() } else { 0.0 };
                }
                input
            })
            .collect()
    }

    #[test]
    fn the_scans_forward_pass_reads_as_the_trained_model_does() {
        let net = random_net(3);
        let inputs = random_inputs(4, 5);
        let batch = classify_batch(&model_of(&net).unwrap(), &inputs).unwrap();
        for (input, trained) in inputs.iter().zip(&batch) {
            let scanned = net.classify(input);
            for (a, b) in scanned.iter().zip(trained) {
                assert!((a - b).abs() < 1e-5, "{scanned:?} against {trained:?}");
            }
        }
    }

    #[test]
    fn weights_go_to_candle_and_back_unchanged() {
        let net = random_net(5);
        let trainer = GlyphTrainer::new(&net, 1e-3, 1).unwrap();
        assert_eq!(trainer.net().unwrap(), net);
    }

    #[test]
    fn the_pools_gradient_goes_to_the_one_maximum_even_among_ties() {
        // One 2×2 window of equal values, one with a single maximum.
        let x = candle_core::Var::from_vec(vec![0.5f32, 0.5, 0.5, 0.5], (1, 1, 2, 2), &Device::Cpu).unwrap();
        let y = candle_core::Var::from_vec(vec![0.1f32, 0.9, 0.2, 0.3], (1, 1, 2, 2), &Device::Cpu).unwrap();
        for (var, expected) in [(&x, [1.0f32, 0.0, 0.0, 0.0]), (&y, [0.0, 1.0, 0.0, 0.0])] {
            let grads = max_pool(var.as_tensor()).unwrap().sum_all().unwrap().backward().unwrap();
            let grad = grads.get(var.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert_eq!(grad, expected);
        }
    }

    #[test]
    fn training_steps_lower_the_loss_on_what_they_see() {
        let mut trainer = GlyphTrainer::new(&random_net(6), 2e-3, 1).unwrap();
        let inputs = random_inputs(7, 16);
        let labels: Vec<u32> = (0..16).map(|i| (i % CLASSES) as u32).collect();
        let flat: Vec<f32> = inputs.iter().flatten().copied().collect();
        let first = trainer.step(flat.clone(), labels.clone(), 2e-3).unwrap();
        let mut last = first;
        for _ in 0..30 {
            last = trainer.step(flat.clone(), labels.clone(), 2e-3).unwrap();
        }
        assert!(last < first * 0.5, "loss {first} -> {last}");
    }

    #[test]
    fn a_seed_trains_the_same_network() {
        let inputs: Vec<f32> = random_inputs(8, 8).iter().flatten().copied().collect();
        let labels: Vec<u32> = (0..8).collect();
        let trained = |seed| {
            let mut trainer = GlyphTrainer::new(&random_net(9), 2e-3, seed).unwrap();
            for _ in 0..3 {
                trainer.step(inputs.clone(), labels.clone(), 2e-3).unwrap();
            }
            trainer.net().unwrap()
        };
        assert_eq!(trained(1), trained(1));
        assert_ne!(trained(1), trained(2), "the seed draws the dropout");
    }
}
