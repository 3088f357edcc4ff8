use std::sync::Arc;
use lossatlas::*;
use lossatlas_render::*;
fn main() {
    let objective = Objective::new(Dataset::seed(), Arc::new(linear(Activation::Tanh)), Loss::Mse);
    let plane = Plane::parameter_axes(objective.param_names()).unwrap();
    let grid = GridSpec::new(Axis::new("k", -2.0, 2.0, 100).unwrap(), Axis::new("b", -4.0, 4.0, 100).unwrap(), DEFAULT_GRID_BUDGET_BYTES).unwrap();
    let l = evaluate(&objective, &plane, &grid).unwrap();
    let small = GridSpec::new(Axis::new("weight k", -2.0, 2.0, 15).unwrap(), Axis::new("bias b", -4.0, 4.0, 15).unwrap(), DEFAULT_GRID_BUDGET_BYTES).unwrap();
    let ls = evaluate(&objective, &plane, &small).unwrap();
    let dir = "/work/target-surface/views";
    std::fs::create_dir_all(dir).unwrap();
    for (name, az, el, size, small) in [
        ("az0_el0", 0.0, 0.0, (900, 700), false),
        ("az120_el15", 120.0, 15.0, (900, 700), false),
        ("az180_el60", 180.0, 60.0, (900, 700), false),
        ("az-150_el30", -150.0, 30.0, (900, 700), true),
        ("small_400", -60.0, 30.0, (400, 300), false),
        ("large_1800", -60.0, 30.0, (1800, 1400), true),
        ("wide_1200x500", -60.0, 30.0, (1200, 500), false),
        ("el90_az-90", -90.0, 90.0, (900, 700), false),
    ] {
        let land = if small { &ls } else { &l };
        let fig = SurfaceFigure::new(land).title(format!("az {az} el {el}")).azimuth(az).elevation(el);
        let png = render(&fig, ImageFormat::Png, size).unwrap();
        std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
    }
}
