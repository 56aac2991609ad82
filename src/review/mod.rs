//! Offline review of recorded cases, without egui: the review screen's data (channels as pyramid-backed
//! [`tracks`] loaded lazily by a [`loader`] thread), the [`follow_up`] form and its clinical endpoints, and the
//! [`sign_off`] bound to a digest of the results, the [`markers`] in words. The views in `ui/review/` draw these and send edits; every
//! edit goes through the store's audited API.

pub mod analysis;
pub mod beat_table;
pub mod endpoints;
pub mod follow_up;
pub mod loader;
pub mod markers;
pub mod session;
pub mod sign_off;
pub mod tracks;
pub mod waveforms;
pub mod worker;
