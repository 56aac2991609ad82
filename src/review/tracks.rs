//! The review screen's channels over hours of data, drawn as min/max columns at any zoom without holding the
//! case in memory.
//!
//! Two levels answer "min and max of each pixel column over this time range":
//! - **chunk level**, read when the case opens: the stored min/max of every chunk ([`CaseFile::chunk_summaries`],
//!   no sample decoded), with a [`MinMaxPyramid`] over the chunk minima and one over the maxima. A column takes
//!   every chunk it touches, so its envelope may reach at most one chunk beyond its edges; it is used only when a
//!   column spans at least [`COARSE_CHUNKS_PER_COLUMN`] chunks, where that is under half a column.
//! - **tiles** of [`TILE_SAMPLES`] samples, decoded on demand (off the UI thread by [`super::loader`]): per tile
//!   the min/max of every 16 samples with pyramids over them (exact to 16 samples, 0.5 byte per sample, kept),
//!   and the samples themselves for the most recently used tiles (exact to the sample, for deep zoom).
//!
//! A column whose tiles are not loaded yet is drawn from the chunk level and its tiles are asked for; the view
//! sharpens as they arrive. Sample `i` of a channel is at `i / sample_rate_hz` seconds.

use std::collections::{BTreeMap, VecDeque};

use crate::acquisition::calibration;
use crate::signal::decimate::{MinMax, MinMaxPyramid};
use crate::store::{CaseFile, ChannelInfo, ChunkSummary, StoreError};

/// Samples per tile (16 chunks of the recorder's largest size).
pub const TILE_SAMPLES: u64 = 65_536;
/// Samples per bucket of a tile's kept level.
const BUCKET_SAMPLES: u64 = 16;
/// Columns at least this many chunks wide are drawn from the chunk level.
pub const COARSE_CHUNKS_PER_COLUMN: u64 = 2;
/// Tiles whose samples are kept per channel (least recently used dropped first); ~1 MB of samples each.
const RAW_TILES_KEPT: usize = 24;

/// Min/max of stored summaries with pyramids over each (so any range of them is answered in a few steps).
#[derive(Clone, Debug, Default)]
struct SummaryLevel {
    mins: Vec<f32>,
    maxs: Vec<f32>,
    min_pyramid: MinMaxPyramid,
    max_pyramid: MinMaxPyramid,
}

impl SummaryLevel {
    fn new(mins: Vec<f32>, maxs: Vec<f32>) -> SummaryLevel {
        SummaryLevel {
            min_pyramid: MinMaxPyramid::build(&mins),
            max_pyramid: MinMaxPyramid::build(&maxs),
            mins,
            maxs,
        }
    }

    /// Min of the minima and max of the maxima of entries `[from, to)`.
    fn range(&self, from: usize, to: usize) -> MinMax {
        MinMax {
            min: self.min_pyramid.range(&self.mins, from, to).min,
            max: self.max_pyramid.range(&self.maxs, from, to).max,
        }
    }
}

/// One decoded tile.
#[derive(Clone, Debug)]
struct Tile {
    /// Buckets of [`BUCKET_SAMPLES`] samples (the last may be shorter).
    buckets: SummaryLevel,
    /// The samples, while the tile is among the recently used.
    raw: Option<Vec<f32>>,
}

/// Samples of one tile as loaded from the case file (what the loader thread sends back).
#[derive(Clone, Debug, PartialEq)]
pub struct TileData {
    /// Row id of the channel.
    pub channel_id: i64,
    /// Tile number: the tile holds samples `[tile * TILE_SAMPLES, (tile + 1) * TILE_SAMPLES)`.
    pub tile: u64,
    /// The samples (`NaN` where none were recorded), up to the channel's end.
    pub samples: Vec<f32>,
}

/// Reads tile `tile` of `channel` from the case file.
pub fn load_tile(file: &CaseFile, channel: &ChannelInfo, tile: u64) -> Result<TileData, StoreError> {
    let from = tile * TILE_SAMPLES;
    let to = ((tile + 1) * TILE_SAMPLES).min(channel.end_sample).max(from);
    let mut samples: Vec<f64> = file
        .read_samples(channel.id, from, to)?
        .values
        .into_iter()
        .map(f64::from)
        .collect();
    // Stored raw, shown calibrated (as live, and as the analysis reads it).
    let records = calibration::channel_calibrations(file, &channel.source, &channel.name)?;
    let records: Vec<&_> = records.iter().collect();
    calibration::calibrate_series(&mut samples, from, channel.sample_rate_hz, &records);
    Ok(TileData {
        channel_id: channel.id,
        tile,
        samples: samples.into_iter().map(|v| v as f32).collect(),
    })
}

/// The columns of a view and the tiles that would make them exact.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Columns {
    /// Min/max per column (`NaN` where nothing was recorded).
    pub values: Vec<MinMax>,
    /// Tiles not loaded yet (columns drawn from the chunk level meanwhile).
    pub missing_tiles: Vec<u64>,
}

/// One channel on the review screen.
#[derive(Clone, Debug)]
pub struct Track {
    /// The channel as stored.
    pub channel: ChannelInfo,
    chunk_first: Vec<u64>,
    chunk_end: Vec<u64>,
    chunks: SummaryLevel,
    /// Length of the longest chunk.
    max_chunk_samples: u64,
    tiles: BTreeMap<u64, Tile>,
    raw_recent: VecDeque<u64>,
}

impl Track {
    /// The track of `channel` from its chunk summaries.
    pub fn new(channel: ChannelInfo, summaries: &[ChunkSummary]) -> Track {
        Track {
            chunk_first: summaries.iter().map(|c| c.first_sample).collect(),
            chunk_end: summaries.iter().map(|c| c.first_sample + c.num_samples).collect(),
            chunks: SummaryLevel::new(
                summaries.iter().map(|c| c.min).collect(),
                summaries.iter().map(|c| c.max).collect(),
            ),
            max_chunk_samples: summaries.iter().map(|c| c.num_samples).max().unwrap_or(1),
            channel,
            tiles: BTreeMap::new(),
            raw_recent: VecDeque::new(),
        }
    }

    /// Reads the chunk summaries of `channel` and builds its track.
    pub fn open(file: &CaseFile, channel: ChannelInfo) -> Result<Track, StoreError> {
        let records = calibration::channel_calibrations(file, &channel.source, &channel.name)?;
        let mut summaries = file.chunk_summaries(channel.id)?;
        if !records.is_empty() {
            for chunk in &mut summaries {
                let range = (chunk.first_sample, chunk.first_sample + chunk.num_samples);
                (chunk.min, chunk.max) = calibration::calibrate_envelope(
                    (chunk.min, chunk.max),
                    range,
                    channel.sample_rate_hz,
                    &records,
                );
            }
        }
        Ok(Track::new(channel, &summaries))
    }

    /// The sample index at `time_s` (clamped to the channel's samples).
    pub fn sample_at(&self, time_s: f64) -> u64 {
        let index = (time_s * self.channel.sample_rate_hz).round();
        if index <= 0.0 {
            0
        } else {
            (index as u64).min(self.channel.end_sample)
        }
    }

    /// Whether tile `tile` is loaded (with its samples when `need_raw`).
    pub fn has_tile(&self, tile: u64, need_raw: bool) -> bool {
        self.tiles
            .get(&tile)
            .is_some_and(|t| !need_raw || t.raw.is_some())
    }

    /// Adds a loaded tile.
    pub fn insert_tile(&mut self, data: TileData) {
        let mins_maxs: (Vec<f32>, Vec<f32>) = data
            .samples
            .chunks(BUCKET_SAMPLES as usize)
            .map(|bucket| {
                let m = crate::signal::decimate::min_max_columns(bucket, 1)[0];
                (m.min, m.max)
            })
            .unzip();
        self.tiles.insert(
            data.tile,
            Tile {
                buckets: SummaryLevel::new(mins_maxs.0, mins_maxs.1),
                raw: Some(data.samples),
            },
        );
        self.touch_raw(data.tile);
    }

    /// Marks `tile`'s samples as recently used, dropping the samples of the least recently used beyond the limit.
    fn touch_raw(&mut self, tile: u64) {
        self.raw_recent.retain(|&t| t != tile);
        self.raw_recent.push_back(tile);
        while self.raw_recent.len() > RAW_TILES_KEPT {
            if let Some(old) = self.raw_recent.pop_front()
                && let Some(t) = self.tiles.get_mut(&old)
            {
                t.raw = None;
            }
        }
    }

    /// The chunk-level envelope of samples `[from, to)`.
    fn coarse(&self, from: u64, to: u64) -> MinMax {
        let i = self.chunk_end.partition_point(|&end| end <= from);
        let j = self.chunk_first.partition_point(|&first| first < to);
        self.chunks.range(i, j.max(i))
    }

    /// The exact envelope of `[from, to)` from loaded tiles, or `None` if one is missing.
    fn exact(&self, from: u64, to: u64, need_raw: bool) -> Option<MinMax> {
        let mut acc = MinMax::EMPTY;
        let mut tile = from / TILE_SAMPLES;
        while tile * TILE_SAMPLES < to {
            let t = self.tiles.get(&tile)?;
            let base = tile * TILE_SAMPLES;
            let (a, b) = (from.max(base) - base, to.min(base + TILE_SAMPLES) - base);
            let part = if need_raw {
                let raw = t.raw.as_ref()?;
                let (a, b) = ((a as usize).min(raw.len()), (b as usize).min(raw.len()));
                crate::signal::decimate::min_max_columns(&raw[a..b], 1)[0]
            } else {
                t.buckets
                    .range((a / BUCKET_SAMPLES) as usize, b.div_ceil(BUCKET_SAMPLES) as usize)
            };
            acc = MinMax {
                min: acc.min.min(part.min),
                max: acc.max.max(part.max),
            };
            tile += 1;
        }
        Some(acc)
    }

    /// Min/max of `num_columns` equal columns over `[from_s, to_s)`, exact where tiles are loaded, from the chunk
    /// level elsewhere (and always when a column spans [`COARSE_CHUNKS_PER_COLUMN`] chunks or more).
    pub fn columns(&mut self, from_s: f64, to_s: f64, num_columns: usize) -> Columns {
        let rate = self.channel.sample_rate_hz;
        let (from, to) = (from_s * rate, to_s * rate);
        let mut columns = Columns {
            values: Vec::with_capacity(num_columns),
            missing_tiles: Vec::new(),
        };
        if num_columns == 0 || to.partial_cmp(&from) != Some(std::cmp::Ordering::Greater) {
            columns.values.resize(num_columns, MinMax::EMPTY);
            return columns;
        }
        let per_column = (to - from) / num_columns as f64;
        let coarse_only = per_column >= (COARSE_CHUNKS_PER_COLUMN * self.max_chunk_samples) as f64;
        let need_raw = per_column < BUCKET_SAMPLES as f64;
        let end = self.channel.end_sample as f64;
        for c in 0..num_columns {
            let a = (from + per_column * c as f64).clamp(0.0, end) as u64;
            let b = (from + per_column * (c + 1) as f64).clamp(0.0, end).ceil() as u64;
            if b <= a {
                columns.values.push(MinMax::EMPTY);
                continue;
            }
            let value = if coarse_only {
                None
            } else {
                let exact = self.exact(a, b, need_raw);
                if exact.is_none() {
                    for tile in a / TILE_SAMPLES..=(b - 1) / TILE_SAMPLES {
                        if !self.has_tile(tile, need_raw) && !columns.missing_tiles.contains(&tile) {
                            columns.missing_tiles.push(tile);
                        }
                    }
                }
                exact
            };
            columns.values.push(value.unwrap_or_else(|| self.coarse(a, b)));
        }
        if need_raw {
            let (first, last) = (
                (from.max(0.0) as u64) / TILE_SAMPLES,
                (to.min(end) as u64) / TILE_SAMPLES,
            );
            for tile in first..=last {
                if self.has_tile(tile, true) {
                    self.touch_raw(tile);
                }
            }
        }
        columns
    }

    /// The samples of `[from_s, to_s)` from loaded tiles (for drawing single samples at deep zoom), with the time
    /// of the first; `None` when a tile is missing.
    pub fn samples(&self, from_s: f64, to_s: f64) -> Option<(f64, Vec<f32>)> {
        let rate = self.channel.sample_rate_hz;
        let from = self.sample_at(from_s);
        let to = self.sample_at(to_s).max(from);
        let mut out = Vec::with_capacity((to - from) as usize);
        let mut tile = from / TILE_SAMPLES;
        while tile * TILE_SAMPLES < to {
            let raw = self.tiles.get(&tile)?.raw.as_ref()?;
            let base = tile * TILE_SAMPLES;
            let (a, b) = (
                (from.max(base) - base) as usize,
                (to.min(base + TILE_SAMPLES) - base) as usize,
            );
            out.extend_from_slice(raw.get(a.min(raw.len())..b.min(raw.len()))?);
            tile += 1;
        }
        Some((from as f64 / rate, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(end_sample: u64) -> ChannelInfo {
        ChannelInfo {
            id: 1,
            source_id: 1,
            source: "sim".into(),
            name: "pa".into(),
            unit: "mmHg".into(),
            sample_rate_hz: 1000.0,
            calibration: None,
            first_sample: 0,
            end_sample,
            num_samples: end_sample,
        }
    }

    fn signal(n: u64) -> Vec<f32> {
        (0..n).map(|i| ((i * 7919) % 1013) as f32 - 500.0).collect()
    }

    fn summaries(samples: &[f32], chunk: usize) -> Vec<ChunkSummary> {
        samples
            .chunks(chunk)
            .enumerate()
            .map(|(k, c)| {
                let m = crate::signal::decimate::min_max_columns(c, 1)[0];
                ChunkSummary {
                    first_sample: (k * chunk) as u64,
                    num_samples: c.len() as u64,
                    min: m.min,
                    max: m.max,
                }
            })
            .collect()
    }

    fn scan(samples: &[f32]) -> MinMax {
        crate::signal::decimate::min_max_columns(samples, 1)[0]
    }

    #[test]
    fn coarse_columns_contain_the_exact_envelope_and_tiles_make_them_exact() {
        let n = 300_000;
        let samples = signal(n);
        let mut track = Track::new(channel(n), &summaries(&samples, 250));
        // Zoomed out: chunk level only, never narrower than the truth, never wider than one chunk each side.
        let cols = track.columns(0.0, 300.0, 100);
        assert!(cols.missing_tiles.is_empty());
        for (c, got) in cols.values.iter().enumerate() {
            let (a, b) = (c * 3000, (c + 1) * 3000);
            let truth = scan(&samples[a..b]);
            let wide = scan(&samples[a.saturating_sub(250)..(b + 250).min(n as usize)]);
            assert!(got.min <= truth.min && got.max >= truth.max);
            assert!(got.min >= wide.min && got.max <= wide.max);
        }
        // Zoomed in: tiles are asked for, then the columns are exact to 16 samples.
        let cols = track.columns(10.0, 12.0, 50);
        assert_eq!(cols.missing_tiles, vec![0]);
        track.insert_tile(TileData {
            channel_id: 1,
            tile: 0,
            samples: samples[..TILE_SAMPLES as usize].to_vec(),
        });
        let cols = track.columns(10.0, 12.0, 50);
        assert!(cols.missing_tiles.is_empty());
        for (c, got) in cols.values.iter().enumerate() {
            let (a, b) = (10_000 + c * 40, 10_000 + (c + 1) * 40);
            let truth = scan(&samples[a..b]);
            let bucketed = scan(&samples[a / 16 * 16..b.div_ceil(16) * 16]);
            assert!(got.min <= truth.min && got.max >= truth.max);
            assert!(got.min >= bucketed.min && got.max <= bucketed.max);
        }
        // Deeper than 16 samples per column: exact to the sample.
        let cols = track.columns(20.0, 20.1, 25);
        for (c, got) in cols.values.iter().enumerate() {
            let (a, b) = (20_000 + c * 4, 20_000 + (c + 1) * 4);
            assert_eq!(*got, scan(&samples[a..b]));
        }
        let (t0, values) = track.samples(20.0, 20.01).unwrap();
        assert_eq!(t0, 20.0);
        assert_eq!(values, samples[20_000..20_010]);
    }

    #[test]
    fn a_view_across_tiles_and_past_the_end_is_exact_or_empty() {
        let n = 140_000;
        let samples = signal(n);
        let mut track = Track::new(channel(n), &summaries(&samples, 4096));
        for tile in 0..3 {
            let from = (tile * TILE_SAMPLES) as usize;
            let to = ((tile + 1) * TILE_SAMPLES).min(n) as usize;
            track.insert_tile(TileData {
                channel_id: 1,
                tile,
                samples: samples[from..to].to_vec(),
            });
        }
        let cols = track.columns(60.0, 160.0, 100);
        assert!(cols.missing_tiles.is_empty());
        for (c, got) in cols.values.iter().enumerate() {
            let (a, b) = (60_000 + c * 1000, 60_000 + (c + 1) * 1000);
            if a >= n as usize {
                assert!(got.is_empty(), "column {c} is past the end");
            } else {
                let truth = scan(&samples[a..b.min(n as usize)]);
                let bucketed = scan(&samples[a / 16 * 16..(b.div_ceil(16) * 16).min(n as usize)]);
                assert!(got.min <= truth.min && got.max >= truth.max, "column {c}");
                assert!(got.min >= bucketed.min && got.max <= bucketed.max, "column {c}");
            }
        }
    }
}
