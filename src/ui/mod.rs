//! egui views and widgets. Views draw from plain state and report what the user asked for as
//! [`action::Action`]s (or their own request types, turned into commands by the app); they never touch the engine or the disk. All colours and sizes live in [`theme`].

pub mod action;
pub mod demo;
pub mod icons;
pub mod keys;
pub mod live;
pub mod numbers;
pub mod protocol;
pub mod pv_loop;
pub mod review;
pub mod settings;
pub mod theme;
pub mod top_bar;
pub mod traces;
pub mod upload;
