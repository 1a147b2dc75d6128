//! Entry point of the coordinator's page (`pact.html`, served at `/pact`): the field
//! app with the pact's screens, a binary of its own so the worker's bundle stays
//! without them.

fn main() {
    paktum_app::start_pact();
}
