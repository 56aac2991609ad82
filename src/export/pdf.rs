//! A minimal PDF writer (PDF 1.4, one or more pages): vector lines and rectangles, and text in the standard Helvetica and
//! Helvetica-Bold fonts (base-14, so nothing is embedded). Enough for the case report, with no dependency.
//!
//! Coordinates are PDF points from the bottom-left corner. Text is encoded as WinAnsi; characters outside it are
//! replaced by close ASCII equivalents. The document carries no creation date or other metadata.

/// Helvetica advance widths (1/1000 em) of the printable ASCII characters 32..=126, from Adobe's published
/// metrics for the base-14 fonts.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
    500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
    556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
    278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
/// Helvetica-Bold runs about this much wider than Helvetica (its digits are the same width).
const BOLD_FACTOR: f32 = 1.06;

/// The two fonts of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Font {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }
}

/// One page being drawn.
#[derive(Clone, Debug)]
pub struct Page {
    width_pt: f32,
    height_pt: f32,
    content: Vec<u8>,
}

/// The WinAnsi byte of `c`, or an ASCII stand-in.
fn win_ansi(c: char) -> Vec<u8> {
    match c {
        ' '..='~' => vec![c as u8],
        '²' => vec![0xB2],
        '³' => vec![0xB3],
        '¹' => vec![0xB9],
        '°' => vec![0xB0],
        'µ' => vec![0xB5],
        '±' => vec![0xB1],
        '·' => vec![0xB7],
        '×' => vec![0xD7],
        '–' => vec![0x96],
        '—' => vec![0x97],
        '⁻' | '−' => vec![b'-'],
        _ => vec![b'?'],
    }
}

/// The width of WinAnsi byte `b` in 1/1000 em (non-ASCII: a digit's width).
fn byte_width(b: u8) -> u16 {
    match b {
        32..=126 => HELVETICA_WIDTHS[(b - 32) as usize],
        _ => 556,
    }
}

impl Page {
    /// An empty page of the given size (A4 portrait is 595 x 842 points).
    pub fn new(width_pt: f32, height_pt: f32) -> Page {
        Page {
            width_pt,
            height_pt,
            content: Vec::new(),
        }
    }

    fn op(&mut self, text: &str) {
        self.content.extend_from_slice(text.as_bytes());
        self.content.push(b'\n');
    }

    /// Sets the stroke colour (components 0..=1).
    pub fn stroke_rgb(&mut self, rgb: [f32; 3]) {
        self.op(&format!("{:.3} {:.3} {:.3} RG", rgb[0], rgb[1], rgb[2]));
    }

    /// Sets the fill colour (components 0..=1), used by text and filled rectangles.
    pub fn fill_rgb(&mut self, rgb: [f32; 3]) {
        self.op(&format!("{:.3} {:.3} {:.3} rg", rgb[0], rgb[1], rgb[2]));
    }

    /// Sets the line width, points.
    pub fn line_width(&mut self, width_pt: f32) {
        self.op(&format!("{width_pt:.2} w"));
    }

    /// Dashed lines (`on`, `off` points) or solid (`None`).
    pub fn dash(&mut self, pattern: Option<(f32, f32)>) {
        match pattern {
            Some((on, off)) => self.op(&format!("[{on:.1} {off:.1}] 0 d")),
            None => self.op("[] 0 d"),
        }
    }

    /// Strokes a polyline; points that are not finite break it into pieces.
    pub fn polyline(&mut self, points: &[(f32, f32)]) {
        let mut drawing = false;
        let mut path = String::new();
        for &(x, y) in points {
            if !(x.is_finite() && y.is_finite()) {
                drawing = false;
                continue;
            }
            path.push_str(&format!("{x:.2} {y:.2} {}\n", if drawing { "l" } else { "m" }));
            drawing = true;
        }
        if !path.is_empty() {
            path.push('S');
            self.op(&path);
        }
    }

    /// A rectangle, stroked or filled.
    pub fn rect(&mut self, x: f32, y: f32, width: f32, height: f32, filled: bool) {
        self.op(&format!(
            "{x:.2} {y:.2} {width:.2} {height:.2} re {}",
            if filled { "f" } else { "S" }
        ));
    }

    /// Text with its baseline starting at (`x`, `y`).
    pub fn text(&mut self, x: f32, y: f32, size_pt: f32, font: Font, text: &str) {
        let mut literal = Vec::new();
        for c in text.chars() {
            for b in win_ansi(c) {
                match b {
                    b'(' | b')' | b'\\' => literal.extend_from_slice(&[b'\\', b]),
                    32..=126 => literal.push(b),
                    _ => literal.extend_from_slice(format!("\\{b:03o}").as_bytes()),
                }
            }
        }
        self.content.extend_from_slice(
            format!("BT /{} {size_pt:.1} Tf {x:.2} {y:.2} Td (", font.resource()).as_bytes(),
        );
        self.content.extend_from_slice(&literal);
        self.content.extend_from_slice(b") Tj ET\n");
    }

    /// Text ending at `right_x`.
    pub fn text_right(&mut self, right_x: f32, y: f32, size_pt: f32, font: Font, text: &str) {
        let width = text_width(text, size_pt, font);
        self.text(right_x - width, y, size_pt, font, text);
    }

    /// The whole PDF document holding this page.
    pub fn to_pdf(&self) -> Vec<u8> {
        document_pdf(std::slice::from_ref(self))
    }
}

/// A PDF document of `pages`, in order. Objects: 1 catalog, 2 page tree, 3-4 fonts, then a page object and its
/// content stream per page.
pub fn document_pdf(pages: &[Page]) -> Vec<u8> {
    let page_object = |k: usize| 5 + 2 * k;
    let kids: Vec<String> = (0..pages.len())
        .map(|k| format!("{} 0 R", page_object(k)))
        .collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec(),
    ];
    for (k, page) in pages.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> \
                 >> /Contents {} 0 R >>",
                page.width_pt,
                page.height_pt,
                page_object(k) + 1
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", page.content.len()).into_bytes();
        stream.extend_from_slice(&page.content);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut pdf: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for offset in &offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// Width of `text` in points at `size_pt`.
pub fn text_width(text: &str, size_pt: f32, font: Font) -> f32 {
    let units: u32 = text
        .chars()
        .flat_map(win_ansi)
        .map(|b| u32::from(byte_width(b)))
        .sum();
    let factor = if font == Font::Bold { BOLD_FACTOR } else { 1.0 };
    units as f32 / 1000.0 * size_pt * factor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xref_table_points_at_every_object() {
        let mut page = Page::new(595.0, 842.0);
        page.text(
            72.0,
            770.0,
            12.0,
            Font::Bold,
            "Case (HER-TST-0001) \\ r² 0.99 – done",
        );
        page.polyline(&[(10.0, 10.0), (20.0, f32::NAN), (30.0, 30.0), (40.0, 40.0)]);
        let pdf = page.to_pdf();
        // One ASCII character per byte, so string positions are byte offsets.
        let text: String = pdf
            .iter()
            .map(|&b| if b < 128 { b as char } else { '?' })
            .collect();
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[startxref..].starts_with("xref\n0 7\n"));
        let entries: Vec<&str> = text[startxref..].lines().skip(3).take(6).collect();
        for (i, entry) in entries.iter().enumerate() {
            let offset: usize = entry[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj", i + 1).as_bytes()),
                "object {}",
                i + 1
            );
        }
        // Parentheses and backslashes escaped; r² as WinAnsi 0xB2; the dash as 0x96.
        assert!(text.contains("(Case \\(HER-TST-0001\\) \\\\ r\\262 0.99 \\226 done) Tj"));
        // The NaN point splits the line: a new `m` after it.
        assert!(text.contains("10.00 10.00 m\n30.00 30.00 m\n40.00 40.00 l\nS"));
        let length: usize = text
            .split("/Length ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let stream_start = text.find("stream\n").unwrap() + 7;
        assert_eq!(
            &pdf[stream_start + length..stream_start + length + 10],
            b"\nendstream"
        );
    }

    #[test]
    fn widths_follow_the_helvetica_metrics() {
        assert_eq!(text_width("0", 10.0, Font::Regular), 5.56);
        assert!((text_width("Wi", 10.0, Font::Regular) - 11.66).abs() < 1e-4);
    }
}
