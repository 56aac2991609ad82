//! Signal processing: resampling, Savitzky-Golay filters, beat detection (ECG R waves, arterial onsets, LV
//! pressure fiducials), beat quality control, steady windows, ensemble averaging and min/max decimation. Pure.
