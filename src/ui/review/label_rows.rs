//! Where the labels of the review's traces go, so that no two overlap however close their times: window labels
//! and marker labels (annotations' too, placed as markers) share rows of one height in a strip of their own above the lanes (never over a trace), and a
//! label takes the first row where its span is free, within the strip's width ([`fit`]). Markers whose labels
//! find no free row are gathered, left to right, into count chips ("+3") on a row of their own below the others;
//! the chip's hover and accessible label give every gathered marker's full text. Pure geometry (points in, rows
//! out), so the layout is tested without drawing.

/// Points kept free between two labels on one row.
pub(super) const GAP: f32 = 6.0;

/// The label rows at the top of the traces and the spans taken on each.
#[derive(Clone, Debug)]
pub(super) struct LabelRows {
    /// y of the first row's top.
    top: f32,
    /// Height of one row.
    row_height: f32,
    /// Taken spans `(left, right)`, row by row.
    taken: Vec<Vec<(f32, f32)>>,
}

impl LabelRows {
    /// No row taken yet; row 0 starts at `top`.
    pub(super) fn new(top: f32, row_height: f32) -> LabelRows {
        LabelRows {
            top,
            row_height,
            taken: Vec::new(),
        }
    }

    /// y of the top of `row`.
    pub(super) fn y_of(&self, row: usize) -> f32 {
        self.top + row as f32 * self.row_height
    }

    /// Rows with anything on them (the next free row's index).
    pub(super) fn len(&self) -> usize {
        self.taken.len()
    }

    fn is_free(&self, row: usize, left: f32, right: f32) -> bool {
        self.taken
            .get(row)
            .is_none_or(|spans| spans.iter().all(|&(a, b)| right + GAP <= a || b + GAP <= left))
    }

    fn occupy(&mut self, row: usize, left: f32, right: f32) {
        if self.taken.len() <= row {
            self.taken.resize(row + 1, Vec::new());
        }
        self.taken[row].push((left, right));
    }

    /// Takes the first row below `max_rows` where `[x, x + width]` is free; `None` when every one is taken there.
    pub(super) fn take(&mut self, x: f32, width: f32, max_rows: usize) -> Option<usize> {
        let row = (0..max_rows).find(|&row| self.is_free(row, x, x + width))?;
        self.occupy(row, x, x + width);
        Some(row)
    }

    /// Takes the first row where `[x, x + width]` is free, however deep (a label that is always shown).
    pub(super) fn take_any(&mut self, x: f32, width: f32) -> usize {
        let row = (0..)
            .find(|&row| self.is_free(row, x, x + width))
            .unwrap_or_default();
        self.occupy(row, x, x + width);
        row
    }
}

/// Where a label wanted at `x`, `width` wide, goes in a strip from `left` to `right`, and the room it has there:
/// at `x` when it fits; else shifted left to end at `right` (as far as `left`), so that its text reads whole; a
/// label still wider than its room is to be shortened to it with an ellipsis, never cut mid-word by the edge.
pub(super) fn fit(x: f32, width: f32, left: f32, right: f32) -> (f32, f32) {
    let start = x.min(right - width).max(left);
    (start, (right - start).max(0.0))
}

/// A marker's label to place: its left edge (beside the marker's line) and its width.
#[derive(Clone, Copy, Debug)]
pub(super) struct Wanted {
    /// Left edge.
    pub x: f32,
    /// Width of its text.
    pub width: f32,
}

/// Markers gathered into one count chip where their labels found no free row.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Chip {
    /// Left edge: the first gathered marker's label's.
    pub x: f32,
    /// Width of the chip with its count.
    pub width: f32,
    /// The chips' row, below every other.
    pub row: usize,
    /// Indices of the gathered markers.
    pub markers: Vec<usize>,
}

/// Where the marker labels went.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct MarkerLayout {
    /// Each marker's label row, or `None` when it is gathered into a chip.
    pub rows: Vec<Option<usize>>,
    /// The chips, left to right.
    pub chips: Vec<Chip>,
}

/// Places marker labels (in order of time, so of `x`) on rows below `max_rows` of `rows`, around what is already
/// there (the window labels); those that find no free row are gathered into chips, `chip_width(n)` wide for `n`
/// markers, on the first row below everything: a marker joins the chip before it when its label would start
/// before that chip ends.
pub(super) fn place_markers(
    rows: &mut LabelRows,
    wanted: &[Wanted],
    max_rows: usize,
    chip_width: impl Fn(usize) -> f32,
) -> MarkerLayout {
    let placed: Vec<Option<usize>> = wanted
        .iter()
        .map(|label| rows.take(label.x, label.width, max_rows))
        .collect();
    let chip_row = rows.len();
    let mut chips: Vec<Chip> = Vec::new();
    for (index, label) in wanted.iter().enumerate() {
        if placed[index].is_some() {
            continue;
        }
        match chips.last_mut() {
            Some(chip) if label.x < chip.x + chip.width + GAP => {
                chip.markers.push(index);
                chip.width = chip_width(chip.markers.len());
            }
            _ => chips.push(Chip {
                x: label.x,
                width: chip_width(1),
                row: chip_row,
                markers: vec![index],
            }),
        }
    }
    for chip in &chips {
        rows.occupy(chip_row, chip.x, chip.x + chip.width);
    }
    MarkerLayout { rows: placed, chips }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A label's or chip's `(row, left, right)`.
    type Span = (usize, f32, f32);

    /// Every label and chip, for overlap checks.
    fn spans(layout: &MarkerLayout, wanted: &[Wanted]) -> Vec<Span> {
        let labels = layout
            .rows
            .iter()
            .zip(wanted)
            .filter_map(|(row, w)| row.map(|row| (row, w.x, w.x + w.width)));
        let chips = layout.chips.iter().map(|c| (c.row, c.x, c.x + c.width));
        labels.chain(chips).collect()
    }

    fn overlapping(spans: &[Span]) -> Option<(Span, Span)> {
        for (i, a) in spans.iter().enumerate() {
            for b in &spans[i + 1..] {
                if a.0 == b.0 && a.1 < b.2 && b.1 < a.2 {
                    return Some((*a, *b));
                }
            }
        }
        None
    }

    #[test]
    fn close_markers_stagger_then_gather_into_a_chip_and_none_overlaps() {
        // Seven markers 4 points apart, 120 points wide: three rows take three, the rest share one chip.
        let wanted: Vec<Wanted> = (0..7)
            .map(|i| Wanted {
                x: 100.0 + 4.0 * i as f32,
                width: 120.0,
            })
            .collect();
        let mut rows = LabelRows::new(0.0, 14.0);
        let layout = place_markers(&mut rows, &wanted, 3, |n| 20.0 + n as f32);
        assert_eq!(layout.rows[..3], [Some(0), Some(1), Some(2)]);
        assert!(layout.rows[3..].iter().all(Option::is_none));
        assert_eq!(layout.chips.len(), 1);
        assert_eq!(layout.chips[0].markers, [3, 4, 5, 6]);
        assert_eq!(layout.chips[0].row, 3);
        assert_eq!(overlapping(&spans(&layout, &wanted)), None);
    }

    #[test]
    fn a_label_is_shifted_left_to_end_at_the_edge_and_given_the_room_it_has() {
        // Fits where it is wanted.
        assert_eq!(fit(100.0, 50.0, 0.0, 500.0), (100.0, 400.0));
        // Meets the right edge: shifted left to end there, whole.
        assert_eq!(fit(480.0, 50.0, 0.0, 500.0), (450.0, 50.0));
        // A window's label wanted before the left edge starts at it.
        assert_eq!(fit(-30.0, 50.0, 0.0, 500.0), (0.0, 500.0));
        // Wider than the whole strip: from the left edge, with the strip's width to be shortened to.
        assert_eq!(fit(480.0, 600.0, 0.0, 500.0), (0.0, 500.0));
    }

    #[test]
    fn markers_far_apart_share_the_first_row() {
        let wanted = [0.0, 200.0, 400.0].map(|x| Wanted { x, width: 150.0 });
        let mut rows = LabelRows::new(0.0, 14.0);
        let layout = place_markers(&mut rows, &wanted, 3, |_| 20.0);
        assert_eq!(layout.rows, [Some(0); 3]);
        assert!(layout.chips.is_empty());
    }

    #[test]
    fn window_labels_are_placed_first_and_markers_go_around_them() {
        let mut rows = LabelRows::new(16.0, 14.0);
        assert_eq!(rows.take_any(50.0, 200.0), 0);
        assert_eq!(rows.take_any(60.0, 200.0), 1);
        // Beyond the windows' span a marker has row 0; within it, the first row below both windows.
        let wanted = [
            Wanted {
                x: 100.0,
                width: 80.0,
            },
            Wanted {
                x: 400.0,
                width: 80.0,
            },
        ];
        let layout = place_markers(&mut rows, &wanted, 3, |_| 20.0);
        assert_eq!(layout.rows, [Some(2), Some(0)]);
        assert_eq!(rows.y_of(2), 16.0 + 28.0);
        // With no row left under the windows, the marker goes to a chip below everything.
        let mut full = LabelRows::new(16.0, 14.0);
        full.take_any(50.0, 200.0);
        full.take_any(60.0, 200.0);
        let layout = place_markers(&mut full, &wanted[..1], 2, |_| 20.0);
        assert_eq!(layout.rows, [None]);
        assert_eq!(layout.chips[0].row, 2);
    }

    #[test]
    fn no_two_labels_overlap_whatever_the_markers() {
        // A seeded spread of marker clusters and widths (linear congruential, for a fixed case set).
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f32 / (1u64 << 31) as f32
        };
        for _ in 0..200 {
            let mut x = 0.0;
            let wanted: Vec<Wanted> = (0..40)
                .map(|_| {
                    x += if next() < 0.7 {
                        next() * 10.0
                    } else {
                        next() * 300.0
                    };
                    Wanted {
                        x,
                        width: 30.0 + next() * 300.0,
                    }
                })
                .collect();
            let mut rows = LabelRows::new(0.0, 14.0);
            rows.take_any(next() * 500.0, 200.0);
            let layout = place_markers(&mut rows, &wanted, 3, |n| 14.0 + 7.0 * n.to_string().len() as f32);
            let mut all = spans(&layout, &wanted);
            all.extend(rows.taken[0].first().map(|&(a, b)| (0, a, b)));
            assert_eq!(overlapping(&all), None);
            // Every marker is either labelled or in exactly one chip.
            for index in 0..wanted.len() {
                let in_chips = layout.chips.iter().filter(|c| c.markers.contains(&index)).count();
                assert_eq!(usize::from(layout.rows[index].is_some()) + in_chips, 1);
            }
        }
    }
}
