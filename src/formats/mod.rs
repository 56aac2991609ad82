//! File importers and exporters (WFDB, CD Leycom Inca CSV, LabChart text, ComboMap text, generic CSV), each
//! producing a [`crate::model::Recording`] and reporting malformed input with file and line.
