//! The HERACLES measurement protocol as a pure state machine: `handle(state, event) -> effects`.
