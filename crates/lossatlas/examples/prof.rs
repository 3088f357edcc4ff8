use lossatlas::net::*;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
fn main() {
    let which = std::env::args().nth(1).unwrap_or("B".into());
    let (mlp, data) = if which == "B" {
        let mlp = Mlp::new(&[784, 256, 10], Activation::Relu, Head::CrossEntropy).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let normal = Normal::new(0.0, 1.0).unwrap();
        let features = (0..2000 * 784).map(|_| normal.sample(&mut rng)).collect();
        let labels = (0..2000).map(|i| (i % 10) as u32).collect();
        (mlp, Samples::new("random", features, 784, Targets::Classes { labels, n_classes: 10 }).unwrap())
    } else {
        (
            Mlp::new(&[2, 64, 64, 2], Activation::Tanh, Head::CrossEntropy).unwrap(),
            Samples::moons(1000, 0.1, 0).unwrap(),
        )
    };
    let objective = NetObjective::<f32>::new(&mlp, &data).unwrap();
    let w = mlp.init_params(1);
    let d = Directions::random(&mlp, &w, 7, Normalization::Filter, BiasDirections::Zero, false).unwrap();
    let axis: Vec<f64> = (0..51).map(|i| -1.0 + 2.0 * i as f64 / 50.0).collect();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let v = pool
            .install(|| PlaneEvaluator::new(&objective, &w, &d.d1, &d.d2).unwrap().evaluate(&axis, &axis));
        println!("{} {:.3}", v.loss[1300], t.elapsed().as_secs_f64());
    }
}
