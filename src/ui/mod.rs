//! egui views and widgets. All colours and sizes live in [`theme`].

pub mod theme;
