//! Test harness shared by Paktum's integration tests and benchmarks: start the real
//! relay on a loopback port, and drive simulated devices that speak the
//! automerge-repo protocol over a real WebSocket through `shared`'s `Replica`.

pub mod certs;
pub mod device;
pub mod http;
pub mod pact;
pub mod postgres;
pub mod proxy;
pub mod raw;
pub mod relay;
pub mod synthetic;

/// The relay binary as its own process (for tests that must kill it).
pub use paktum_launch as launch;

pub use device::Device;
pub use relay::TestRelay;
