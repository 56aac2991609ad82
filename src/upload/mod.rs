//! Export bundles of a case (endpoints, per-beat tables, waveforms, report) and the upload queue.
