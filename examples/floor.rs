//! The benchmark floor (`make bench`): read, hash and decode every photo
//! under a folder and nothing else, in a rayon pool of N threads — what no
//! reader of these photos can go below.
//!
//! `cargo run --release --example floor -- DIR [JOBS]`

use std::time::Instant;

use protocol_ocr::scan::{decode, discover, hash};
use rayon::prelude::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: floor DIR [JOBS]");
    let jobs: usize = args.next().and_then(|j| j.parse().ok()).unwrap_or_else(num_cpus);
    let started = Instant::now();
    let inputs = discover::discover(std::path::Path::new(&dir), false, None);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().expect("worker threads");
    let decoded: usize = pool.install(|| {
        inputs
            .par_iter()
            .filter(|i| i.found == discover::Found::Image)
            .map(|i| {
                let Ok(bytes) = std::fs::read(&i.path) else { return 0 };
                let _sha = hash::hash_bytes(&bytes);
                decode::decode(&bytes).map(|img| img.to_luma8().len().min(1)).unwrap_or(0)
            })
            .sum()
    });
    println!("{decoded} photos read, hashed and decoded in {:.2} s", started.elapsed().as_secs_f64());
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
