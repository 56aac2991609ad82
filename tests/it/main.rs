//! The one integration-test binary: each file is a module testing one capability through the public API.

mod layering;
