//! Entry point of the field app's wasm binary.

fn main() {
    paktum_app::start();
}
