//! Minimal SVG line-chart renderer for `switchboard simulate --chart`.
//!
//! The chart has one fixed layout (title, left and optional right y axis, x labels, legend), so it is written by
//! hand as plain SVG 1.1 text: any browser can open the result and the binary needs no plotting dependency.

/// Which y axis a series is drawn against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    Left,
    Right,
}

/// One line on the chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label, e.g. "support: service level".
    pub name: String,
    /// One value per x label; `None` (and any NaN or infinite value) leaves a gap in the line.
    pub values: Vec<Option<f64>>,
    pub axis: Axis,
}

/// A line chart with a left value axis and, when a series asks for it, a right one.
#[derive(Clone, Debug)]
pub struct LineChart {
    pub title: String,
    /// Category labels along the x axis, e.g. "08:00", "08:30", …; thinned when drawn so they never overlap.
    pub x_labels: Vec<String>,
    pub left_label: String,
    /// Only drawn when at least one series uses [`Axis::Right`].
    pub right_label: String,
    /// Fixed left range (e.g. 0..100 for percentages); `None` derives it from the data, always including 0.
    pub left_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
    /// Optional dashed horizontal reference line on the left axis, with its label.
    pub target: Option<(f64, String)>,
}

const WIDTH: f64 = 960.0;
const PLOT_TOP: f64 = 48.0;
/// Together with PLOT_TOP and the space below the plot this gives a 480 px high document for a one-row legend;
/// extra legend rows grow the document instead of squeezing the plot.
const PLOT_HEIGHT: f64 = 364.0;
/// Distance from the bottom of the plot to the baseline of the first legend row (x labels sit in between).
const LEGEND_OFFSET: f64 = 44.0;
const LEGEND_ROW_HEIGHT: f64 = 20.0;
const BOTTOM_PADDING: f64 = 24.0;
/// Room for a rotated axis title at the outer edge of each side margin.
const AXIS_TITLE_SPACE: f64 = 30.0;
const SWATCH_WIDTH: f64 = 24.0;
const LEGEND_GAP: f64 = 20.0;
/// Rough average glyph width of 12 px sans-serif. SVG text has no metrics without a renderer, so the layout
/// estimates text extents from this.
const CHAR_WIDTH: f64 = 7.0;
/// Caps margins so a pathological tick label (huge numbers) cannot eat the whole plot.
const MAX_TICK_LABEL_WIDTH: f64 = 120.0;
const MAX_X_LABELS: usize = 16;
/// With this many points or more, markers would merge into a smear, so only isolated points get one.
const MARKER_LIMIT: usize = 50;
/// Upper bound on y tick intervals: about 60 px between gridlines on the plot height.
const Y_TICK_INTERVALS: f64 = 6.0;
/// Hard bound on generated ticks, so float edge cases can never loop for long.
const MAX_TICKS: usize = 64;
/// Okabe–Ito palette, distinguishable under the common forms of colour blindness. Yellow comes last because it has
/// the poorest contrast on white.
const PALETTE: [&str; 8] = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];
/// Right-axis series are dashed (and get hollow markers) so it is obvious which axis to read them against.
const RIGHT_DASH: &str = "7 4";
const CLIP_ID: &str = "plot-area";

impl LineChart {
    /// Renders the chart as a standalone SVG 1.1 document.
    pub fn to_svg(&self) -> String {
        let points = self.x_labels.len().max(self.series.iter().map(|s| s.values.len()).max().unwrap_or(0));
        let target = self.target.as_ref().map(|(value, _)| *value).filter(|v| v.is_finite());
        // The target is part of the auto range so its line is always visible.
        let left = YAxis::new(self.axis_values(Axis::Left).chain(target), self.left_range);
        let right =
            self.series.iter().any(|s| s.axis == Axis::Right).then(|| YAxis::new(self.axis_values(Axis::Right), None));

        let frame = Frame::new(&left, right.as_ref());
        let legend = legend_layout(&self.series, &frame);
        let height =
            frame.bottom + LEGEND_OFFSET + (legend.len().max(1) - 1) as f64 * LEGEND_ROW_HEIGHT + BOTTOM_PADDING;

        let mut svg = vec![
            r#"<?xml version="1.0" encoding="UTF-8"?>"#.to_string(),
            format!(
                r##"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="sans-serif" font-size="12" fill="#222222">"##
            ),
        ];
        if !self.title.is_empty() {
            svg.push(format!("<title>{}</title>", escape(&self.title)));
        }
        svg.push(r##"<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>"##.to_string());
        // Padded by a few pixels so markers sitting exactly on a fixed range's edge (e.g. 100 %) are not cut in half.
        svg.push(format!(
            r#"<defs><clipPath id="{CLIP_ID}"><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"/></clipPath></defs>"#,
            frame.left - 4.0,
            frame.top - 4.0,
            frame.right - frame.left + 8.0,
            frame.bottom - frame.top + 8.0
        ));
        if !self.title.is_empty() {
            svg.push(text(WIDTH / 2.0, 28.0, "middle", r#" font-size="16" font-weight="bold""#, &self.title));
        }

        self.draw_axes(&mut svg, &frame, points, &left, right.as_ref());
        self.draw_series(&mut svg, &frame, points, &left, right.as_ref());
        self.draw_target(&mut svg, &frame, &left);
        self.draw_legend(&mut svg, &frame, &legend);
        if !self.series.iter().any(|s| s.values.iter().any(|v| finite(*v).is_some())) {
            let middle = (frame.top + frame.bottom) / 2.0;
            svg.push(text((frame.left + frame.right) / 2.0, middle, "middle", r##" fill="#888888""##, "no data"));
        }

        svg.push("</svg>".to_string());
        let mut out = svg.join("\n");
        out.push('\n');
        out
    }

    /// All usable values of the series drawn against `axis`.
    fn axis_values(&self, axis: Axis) -> impl Iterator<Item = f64> + '_ {
        self.series.iter().filter(move |s| s.axis == axis).flat_map(|s| s.values.iter().copied().filter_map(finite))
    }

    /// Gridlines, axis lines, tick labels and axis titles.
    fn draw_axes(&self, svg: &mut Vec<String>, frame: &Frame, points: usize, left: &YAxis, right: Option<&YAxis>) {
        const GRID: &str = r##"stroke="#e0e0e0" stroke-width="1""##;
        const AXIS: &str = r##"stroke="#333333" stroke-width="1""##;

        // Horizontal gridlines follow the left axis only; a second set for the right axis would just be clutter.
        for &tick in &left.ticks {
            let y = frame.y(left, tick);
            svg.push(line(frame.left, y, frame.right, y, GRID));
            svg.push(line(frame.left - 4.0, y, frame.left, y, AXIS));
            svg.push(text(frame.left - 8.0, y + 4.0, "end", "", &fmt_num(tick, left.decimals)));
        }
        for i in labelled_indices(&self.x_labels, points, frame) {
            let x = frame.x(i, points);
            svg.push(line(x, frame.top, x, frame.bottom, GRID));
            svg.push(line(x, frame.bottom, x, frame.bottom + 4.0, AXIS));
            svg.push(text(x, frame.bottom + 18.0, "middle", "", &self.x_labels[i]));
        }

        svg.push(line(frame.left, frame.top, frame.left, frame.bottom, AXIS));
        svg.push(line(frame.left, frame.bottom, frame.right, frame.bottom, AXIS));
        let middle = (frame.top + frame.bottom) / 2.0;
        svg.push(rotated_text(AXIS_TITLE_SPACE / 2.0 + 4.0, middle, -90.0, &self.left_label));

        if let Some(right) = right {
            svg.push(line(frame.right, frame.top, frame.right, frame.bottom, AXIS));
            for &tick in &right.ticks {
                let y = frame.y(right, tick);
                svg.push(line(frame.right, y, frame.right + 4.0, y, AXIS));
                svg.push(text(frame.right + 8.0, y + 4.0, "start", "", &fmt_num(tick, right.decimals)));
            }
            svg.push(rotated_text(WIDTH - AXIS_TITLE_SPACE / 2.0 - 4.0, middle, 90.0, &self.right_label));
        }
    }

    /// The dotted reference line (e.g. the service level target) with its label at the right end; drawn over the
    /// series so the reference stays visible where lines cross it.
    fn draw_target(&self, svg: &mut Vec<String>, frame: &Frame, left: &YAxis) {
        let Some((value, label)) = &self.target else { return };
        // A fixed range may exclude the target; a line clamped to the edge would misstate it, so draw nothing.
        if !value.is_finite() || *value < left.lo || *value > left.hi {
            return;
        }
        let y = frame.y(left, *value);
        svg.push(line(
            frame.left,
            y,
            frame.right,
            y,
            r##"stroke="#444444" stroke-width="1.5" stroke-dasharray="2 3""##,
        ));
        if !label.is_empty() {
            // Drawn after the series, on a translucent backdrop, so crossing lines do not make the label unreadable.
            let width = text_width(label) * 11.0 / 12.0 + 6.0;
            svg.push(format!(
                r##"<rect x="{:.1}" y="{:.1}" width="{width:.1}" height="14" fill="#ffffff" fill-opacity="0.8"/>"##,
                frame.right - 1.0 - width,
                y - 17.0
            ));
            svg.push(text(frame.right - 4.0, y - 6.0, "end", r##" font-size="11" fill="#444444""##, label));
        }
    }

    fn draw_series(&self, svg: &mut Vec<String>, frame: &Frame, points: usize, left: &YAxis, right: Option<&YAxis>) {
        svg.push(format!(r#"<g clip-path="url(#{CLIP_ID})">"#));
        for (index, series) in self.series.iter().enumerate() {
            let colour = PALETTE[index % PALETTE.len()];
            let axis = match series.axis {
                Axis::Right => right.unwrap_or(left),
                Axis::Left => left,
            };
            let runs = runs(&series.values);

            svg.push(format!(
                r#"<g fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"{}>"#,
                dash_attr(series.axis)
            ));
            svg.push(format!("<title>{}</title>", escape(&series.name)));
            for run in runs.iter().filter(|run| run.len() > 1) {
                let coords: Vec<String> =
                    run.iter().map(|&(i, v)| format!("{:.1},{:.1}", frame.x(i, points), frame.y(axis, v))).collect();
                svg.push(format!(r#"<polyline points="{}"/>"#, coords.join(" ")));
            }
            svg.push("</g>".to_string());

            // Markers help read individual values on short series; a point without neighbours has no line at all,
            // so it always gets one or it would be invisible.
            for run in runs.iter().filter(|run| points < MARKER_LIMIT || run.len() == 1) {
                for &(i, v) in run {
                    svg.push(marker(frame.x(i, points), frame.y(axis, v), colour, series.axis));
                }
            }
        }
        svg.push("</g>".to_string());
    }

    fn draw_legend(&self, svg: &mut Vec<String>, frame: &Frame, legend: &[Vec<(usize, f64)>]) {
        for (row, entries) in legend.iter().enumerate() {
            let y = frame.bottom + LEGEND_OFFSET + row as f64 * LEGEND_ROW_HEIGHT;
            for &(index, x) in entries {
                let series = &self.series[index];
                let colour = PALETTE[index % PALETTE.len()];
                svg.push(line(
                    x,
                    y - 4.0,
                    x + SWATCH_WIDTH,
                    y - 4.0,
                    &format!(r#"stroke="{colour}" stroke-width="2"{}"#, dash_attr(series.axis)),
                ));
                svg.push(marker(x + SWATCH_WIDTH / 2.0, y - 4.0, colour, series.axis));
                svg.push(text(x + SWATCH_WIDTH + 6.0, y, "start", "", &series.name));
            }
        }
    }
}

/// A y axis after range selection: the value domain spread over the plot height and the ticks to label.
struct YAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    /// Decimals needed to tell neighbouring ticks apart.
    decimals: usize,
}

impl YAxis {
    /// A valid fixed range is used exactly as given (so 0–100 % stays 0–100 % whatever the data); otherwise the
    /// data range, widened to include 0 and rounded out to whole tick steps so the top gridline closes the plot.
    fn new(values: impl Iterator<Item = f64>, fixed: Option<(f64, f64)>) -> Self {
        let fixed =
            fixed.map(|(a, b)| (a.min(b), a.max(b))).filter(|&(lo, hi)| lo.is_finite() && hi.is_finite() && lo < hi);
        if let Some((lo, hi)) = fixed {
            let step = nice_step(hi - lo);
            return YAxis { lo, hi, ticks: ticks_within(lo, hi, step), decimals: decimals_for(step) };
        }

        let (lo, mut hi) = values.fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if hi <= lo {
            // All values equal (necessarily 0 here, or no data at all): any non-empty range will do.
            hi = lo + 1.0;
        }
        let step = nice_step(hi - lo);
        // The small slack stops float noise (0.30000000000000004 / 0.05) from adding a whole extra step.
        let lo = ((lo / step) + 1e-9).floor() * step;
        let hi = ((hi / step) - 1e-9).ceil() * step;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            // Only reachable with values near f64::MAX; keep the document sane rather than exact.
            return YAxis { lo: 0.0, hi: 1.0, ticks: vec![0.0, 1.0], decimals: 0 };
        }
        YAxis { lo, hi, ticks: ticks_within(lo, hi, step), decimals: decimals_for(step) }
    }

    fn max_label_width(&self) -> f64 {
        self.ticks.iter().map(|&t| text_width(&fmt_num(t, self.decimals))).fold(0.0, f64::max).min(MAX_TICK_LABEL_WIDTH)
    }
}

/// Smallest step of the form 1, 2 or 5 × 10^k that splits `span` into at most `Y_TICK_INTERVALS` parts; such steps
/// give round tick labels that are easy to read.
fn nice_step(span: f64) -> f64 {
    let raw = span / Y_TICK_INTERVALS;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    if step.is_finite() && step > 0.0 { step } else { 1.0 }
}

/// Multiples of `step` inside `[lo, hi]`, computed from integer multiples so errors do not accumulate.
fn ticks_within(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let slack = step * 1e-9;
    let first = ((lo - slack) / step).ceil();
    (0..MAX_TICKS).map(|i| (first + i as f64) * step).take_while(|&v| v <= hi + slack).collect()
}

/// Decimals needed to print multiples of `step` exactly (0.2 → 1, 0.05 → 2, 20 → 0).
fn decimals_for(step: f64) -> usize {
    // The slack puts exact powers of ten (log10(0.1) = -0.99999…) on the right side of the floor.
    let exponent = (step.log10() + 1e-9).floor();
    if exponent < 0.0 { (-exponent).min(12.0) as usize } else { 0 }
}

/// Tick label text: fixed decimals, no "-0", and exponent notation where fixed notation would be absurdly long.
fn fmt_num(value: f64, decimals: usize) -> String {
    if value.abs() >= 1e9 {
        return format!("{value:.2e}");
    }
    let text = format!("{value:.decimals$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}

/// Pixel geometry of the plot area.
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    /// Margins leave room for the tick labels and rotated axis titles; without a right axis the plot gets that width.
    fn new(left: &YAxis, right: Option<&YAxis>) -> Self {
        let left_margin = AXIS_TITLE_SPACE + left.max_label_width() + 12.0;
        let right_margin = right.map_or(AXIS_TITLE_SPACE, |axis| AXIS_TITLE_SPACE + axis.max_label_width() + 12.0);
        Frame { left: left_margin, right: WIDTH - right_margin, top: PLOT_TOP, bottom: PLOT_TOP + PLOT_HEIGHT }
    }

    /// Each value describes an interval, so points sit in the middle of equal-width slots; that also keeps markers
    /// off the axis lines and centres a single point.
    fn x(&self, index: usize, points: usize) -> f64 {
        let slot = (self.right - self.left) / points.max(1) as f64;
        self.left + (index as f64 + 0.5) * slot
    }

    fn y(&self, axis: &YAxis, value: f64) -> f64 {
        let t = (value - axis.lo) / (axis.hi - axis.lo);
        // Bounded so far out-of-range values (possible with a fixed range) still give finite coordinates; the clip
        // path hides them, and the slope inside the plot barely changes.
        let t = if t.is_finite() { t.clamp(-10.0, 11.0) } else { 0.5 };
        self.bottom - t * (self.bottom - self.top)
    }
}

/// Indices of the x labels to draw: every n-th, so that at most `MAX_X_LABELS` are shown and the longest label
/// still fits its share of the width.
fn labelled_indices(labels: &[String], points: usize, frame: &Frame) -> impl Iterator<Item = usize> {
    let widest = labels.iter().map(|l| text_width(l)).fold(0.0, f64::max) + 8.0;
    let fitting = ((frame.right - frame.left) / widest).floor() as usize;
    let stride = points.div_ceil(fitting.clamp(1, MAX_X_LABELS)).max(1);
    (0..labels.len()).step_by(stride)
}

/// Legend entries as `(series index, x)` per row; rows wrap at the plot width and are centred under the plot.
fn legend_layout(series: &[Series], frame: &Frame) -> Vec<Vec<(usize, f64)>> {
    let available = frame.right - frame.left;
    let mut rows: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut row_width = f64::INFINITY;
    for (index, s) in series.iter().enumerate() {
        let width = SWATCH_WIDTH + 6.0 + text_width(&s.name);
        if row_width + LEGEND_GAP + width > available {
            rows.push(Vec::new());
            row_width = -LEGEND_GAP;
        }
        if let Some(row) = rows.last_mut() {
            row.push((index, width));
        }
        row_width += LEGEND_GAP + width;
    }
    // Second pass: turn widths into x positions now that each row's total width is known.
    for row in &mut rows {
        let total: f64 = row.iter().map(|&(_, w)| w).sum::<f64>() + LEGEND_GAP * (row.len() - 1) as f64;
        let mut x = frame.left + ((available - total) / 2.0).max(0.0);
        for entry in row.iter_mut() {
            let width = entry.1;
            entry.1 = x;
            x += width + LEGEND_GAP;
        }
    }
    rows
}

/// Splits a series into runs of consecutive usable values. Each run becomes its own polyline, so a gap stays visible
/// instead of being bridged by a misleading straight line.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (index, value) in values.iter().enumerate() {
        match finite(*value) {
            Some(v) => current.push((index, v)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// NaN and infinities cannot be placed on an axis; they are treated like missing values.
fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_WIDTH
}

fn dash_attr(axis: Axis) -> String {
    match axis {
        Axis::Left => String::new(),
        Axis::Right => format!(r#" stroke-dasharray="{RIGHT_DASH}""#),
    }
}

/// Filled circle for left-axis series, hollow for right-axis ones, echoing the solid/dashed line distinction.
fn marker(x: f64, y: f64, colour: &str, axis: Axis) -> String {
    let fill = match axis {
        Axis::Left => colour,
        Axis::Right => "#ffffff",
    };
    format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{fill}" stroke="{colour}" stroke-width="1.5"/>"#)
}

fn line(x1: f64, y1: f64, x2: f64, y2: f64, style: &str) -> String {
    format!(r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" {style}/>"#)
}

/// A text element; `extra` carries additional attributes and must start with a space.
fn text(x: f64, y: f64, anchor: &str, extra: &str, content: &str) -> String {
    format!(r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}"{extra}>{}</text>"#, escape(content))
}

/// Axis title centred on `(x, y)` and turned by `degrees` so it runs along the axis.
fn rotated_text(x: f64, y: f64, degrees: f64, content: &str) -> String {
    format!(
        r#"<text transform="translate({x:.1},{y:.1}) rotate({degrees:.0})" text-anchor="middle">{}</text>"#,
        escape(content)
    )
}

/// Escapes XML special characters and drops control characters that XML 1.0 does not allow at all, so arbitrary
/// queue names and labels cannot break the document.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks XML well-formedness well enough for generated SVG: balanced and properly nested tags, quoted
    /// attributes without raw `<`, `&` only in entities, a single `svg` root element.
    fn assert_well_formed(doc: &str) {
        fn check_entities(text: &str) {
            let mut rest = text;
            while let Some(pos) = rest.find('&') {
                rest = &rest[pos + 1..];
                let end = rest.find(';').unwrap_or_else(|| panic!("unterminated entity in {text:?}"));
                let name = &rest[..end];
                let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                    || (name.starts_with('#') && name.len() > 1 && name[1..].chars().all(|c| c.is_ascii_digit()));
                assert!(ok, "bad entity &{name}; in {text:?}");
            }
        }

        let mut stack: Vec<String> = Vec::new();
        let mut roots = 0;
        let mut rest = doc;
        while let Some(open) = rest.find('<') {
            let text = &rest[..open];
            check_entities(text);
            assert!(!stack.is_empty() || text.trim().is_empty(), "text outside root: {text:?}");
            rest = &rest[open..];
            if let Some(after) = rest.strip_prefix("<?") {
                let end = after.find("?>").expect("unterminated processing instruction");
                rest = &after[end + 2..];
                continue;
            }
            if let Some(after) = rest.strip_prefix("<!--") {
                let end = after.find("-->").expect("unterminated comment");
                rest = &after[end + 3..];
                continue;
            }
            // Find the closing '>' that is not inside a quoted attribute value.
            let mut quote = None;
            let mut close = None;
            for (i, c) in rest.char_indices().skip(1) {
                match (quote, c) {
                    (None, '"' | '\'') => quote = Some(c),
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), '<') => panic!("raw '<' in attribute value: {rest:.80}"),
                    (None, '<') => panic!("'<' inside tag: {rest:.80}"),
                    (None, '>') => {
                        close = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let close = close.expect("unterminated tag");
            let tag = &rest[1..close];
            rest = &rest[close + 1..];
            check_entities(tag);
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().unwrap_or_else(|| panic!("closing </{name}> without open tag"));
                assert_eq!(open, name.trim(), "mismatched closing tag");
                continue;
            }
            let name: String = tag.chars().take_while(|c| !c.is_whitespace() && *c != '/').collect();
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == ':'),
                "bad tag name in <{tag}>"
            );
            if stack.is_empty() {
                roots += 1;
                assert_eq!(name, "svg", "root element must be svg");
            }
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        assert!(rest.trim().is_empty(), "trailing content after root: {rest:?}");
        assert!(stack.is_empty(), "unclosed tags: {stack:?}");
        assert_eq!(roots, 1, "expected exactly one root element");
        assert!(doc.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
        assert!(doc.contains("viewBox="));
        assert!(!doc.contains("NaN") && !doc.contains("inf"), "non-finite number leaked into the SVG");
    }

    fn half_hours(count: usize) -> Vec<String> {
        (0..count).map(|i| format!("{:02}:{:02}", 8 + i / 2, (i % 2) * 30)).collect()
    }

    fn typical() -> LineChart {
        let wave = |offset: f64| -> Vec<Option<f64>> {
            (0..32).map(|i| if i == 10 { None } else { Some(70.0 + offset + 20.0 * (i as f64 / 5.0).sin()) }).collect()
        };
        LineChart {
            title: "Service level & queue length over the day".to_string(),
            x_labels: half_hours(32),
            left_label: "service level (%)".to_string(),
            right_label: "max queue length".to_string(),
            left_range: Some((0.0, 100.0)),
            series: vec![
                Series { name: "support: service level".to_string(), values: wave(0.0), axis: Axis::Left },
                Series { name: "sales <VIP>: service level".to_string(), values: wave(5.0), axis: Axis::Left },
                Series {
                    name: "support: max queue".to_string(),
                    values: (0..32).map(|i| Some((i % 7) as f64)).collect(),
                    axis: Axis::Right,
                },
            ],
            target: Some((80.0, "SL target 80 %".to_string())),
        }
    }

    fn base() -> LineChart {
        LineChart {
            title: "t".to_string(),
            x_labels: half_hours(4),
            left_label: "left".to_string(),
            right_label: "right axis".to_string(),
            left_range: None,
            series: Vec::new(),
            target: None,
        }
    }

    fn with_series(values: Vec<Option<f64>>, axis: Axis) -> LineChart {
        LineChart { series: vec![Series { name: "s".to_string(), values, axis }], ..base() }
    }

    fn ticks(values: &[f64], fixed: Option<(f64, f64)>) -> Vec<f64> {
        YAxis::new(values.iter().copied(), fixed).ticks
    }

    #[test]
    fn nice_ticks_use_round_steps() {
        assert_eq!(ticks(&[3.0, 87.0], None), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(&[7.0], None), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(ticks(&[1234.0], None), vec![0.0, 500.0, 1000.0, 1500.0]);
        assert_eq!(ticks(&[10.0, 20.0], Some((0.0, 100.0))), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(&[-12.0, 30.0], None), vec![-20.0, -10.0, 0.0, 10.0, 20.0, 30.0]);

        let small = YAxis::new([0.3].into_iter(), None);
        assert_eq!(small.decimals, 2);
        let labels: Vec<String> = small.ticks.iter().map(|&t| fmt_num(t, small.decimals)).collect();
        assert_eq!(labels, ["0.00", "0.05", "0.10", "0.15", "0.20", "0.25", "0.30"]);
    }

    #[test]
    fn auto_range_starts_at_zero_and_covers_data() {
        let axis = YAxis::new([40.0, 55.0].into_iter(), None);
        assert_eq!((axis.lo, axis.hi), (0.0, 60.0));
        let flat = YAxis::new([0.0, 0.0].into_iter(), None);
        assert!(flat.lo < flat.hi);
        let fixed = YAxis::new([500.0].into_iter(), Some((0.0, 90.0)));
        assert_eq!((fixed.lo, fixed.hi), (0.0, 90.0), "a fixed range is kept even if data exceed it");
        let reversed = YAxis::new(std::iter::empty(), Some((100.0, 0.0)));
        assert_eq!((reversed.lo, reversed.hi), (0.0, 100.0));
        let invalid = YAxis::new([5.0].into_iter(), Some((f64::NAN, 3.0)));
        assert_eq!((invalid.lo, invalid.hi), (0.0, 5.0), "an unusable fixed range falls back to auto");
    }

    #[test]
    fn number_formatting() {
        assert_eq!(fmt_num(-0.0, 1), "0.0");
        assert_eq!(fmt_num(-0.0001, 2), "0.00");
        assert_eq!(fmt_num(-5.0, 0), "-5");
        assert_eq!(fmt_num(0.1 + 0.2, 1), "0.3");
        assert_eq!(decimals_for(20.0), 0);
        assert_eq!(decimals_for(1.0), 0);
        assert_eq!(decimals_for(0.1), 1);
        assert_eq!(decimals_for(0.05), 2);
    }

    #[test]
    fn escapes_xml_special_characters() {
        assert_eq!(escape(r#"a & b <c> "d" 'e'"#), "a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;");
        assert_eq!(escape("plain: 80 % → ok"), "plain: 80 % → ok");
        assert_eq!(escape("bell\u{7}\u{0}tab\t"), "belltab\t");
    }

    #[test]
    fn gaps_split_polylines() {
        let runs = runs(&[Some(1.0), Some(2.0), None, Some(f64::NAN), Some(3.0), Some(4.0), None, Some(5.0)]);
        let lengths: Vec<usize> = runs.iter().map(Vec::len).collect();
        assert_eq!(lengths, [2, 2, 1]);
        assert_eq!(runs[1][0], (4, 3.0));
    }

    #[test]
    fn typical_chart() {
        let chart = typical();
        let svg = chart.to_svg();
        assert_well_formed(&svg);
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(r#"width="960" height="480""#));
        // Two left series are split by their gap at index 10; the right series is one dashed line.
        assert_eq!(svg.matches("<polyline").count(), 5);
        assert!(svg.contains(&format!(r#"stroke-dasharray="{RIGHT_DASH}""#)));
        assert!(svg.contains(">support: service level</text>"));
        assert!(svg.contains(">sales &lt;VIP&gt;: service level</text>"));
        assert!(svg.contains(">support: max queue</text>"));
        assert!(svg.contains("Service level &amp; queue length over the day"));
        assert!(svg.contains(">SL target 80 %</text>"));
        assert!(svg.contains(">service level (%)</text>") && svg.contains(">max queue length</text>"));
        assert!(svg.contains("<circle"), "fewer than 50 points get markers");
        let x_labels = chart.x_labels.iter().filter(|l| svg.contains(&format!(">{l}</text>"))).count();
        assert!((8..=16).contains(&x_labels), "{x_labels} x labels drawn");
        assert!(svg.contains(">100</text>") && svg.contains(">80</text>"));
    }

    #[test]
    fn right_axis_only_when_used() {
        let svg = with_series(vec![Some(1.0), Some(2.0)], Axis::Left).to_svg();
        assert_well_formed(&svg);
        assert!(!svg.contains("right axis"));
        let svg = with_series(vec![Some(1.0), Some(2.0)], Axis::Right).to_svg();
        assert_well_formed(&svg);
        assert!(svg.contains(">right axis</text>"));
    }

    #[test]
    fn many_points_are_thinned() {
        let chart = LineChart {
            x_labels: (0..288).map(|i| format!("{:02}:{:02}", i / 12, (i % 12) * 5)).collect(),
            series: vec![Series {
                name: "s".to_string(),
                values: (0..288).map(|i| Some(i as f64)).collect(),
                axis: Axis::Left,
            }],
            ..base()
        };
        let svg = chart.to_svg();
        assert_well_formed(&svg);
        let drawn = chart.x_labels.iter().filter(|l| svg.contains(&format!(">{l}</text>"))).count();
        assert!((2..=MAX_X_LABELS).contains(&drawn), "{drawn} x labels drawn");
        assert_eq!(svg.matches("<circle").count(), 1, "a dense series gets no markers, only the legend swatch has one");
    }

    #[test]
    fn edge_cases_give_valid_documents() {
        let cases = [
            base(),
            LineChart { x_labels: Vec::new(), ..base() },
            LineChart { title: String::new(), left_label: String::new(), ..with_series(Vec::new(), Axis::Right) },
            with_series(vec![None, None, None, None], Axis::Left),
            with_series(vec![Some(42.0)], Axis::Left),
            with_series(vec![Some(5.0); 4], Axis::Right),
            with_series(vec![Some(0.0); 4], Axis::Left),
            with_series(vec![Some(f64::NAN), Some(f64::INFINITY), Some(f64::NEG_INFINITY), Some(3.0)], Axis::Left),
            with_series(vec![Some(1e300), Some(-1e300), Some(f64::MAX), Some(f64::MIN)], Axis::Left),
            with_series(vec![Some(1e-320), Some(0.0)], Axis::Left),
            LineChart { x_labels: Vec::new(), ..with_series(vec![Some(1.0), Some(2.0), Some(3.0)], Axis::Left) },
            LineChart { x_labels: half_hours(40), ..with_series(vec![Some(1.0)], Axis::Left) },
            LineChart { left_range: Some((0.0, 0.0)), ..with_series(vec![Some(150.0), Some(-20.0)], Axis::Left) },
            LineChart { left_range: Some((0.0, 100.0)), ..with_series(vec![Some(150.0), Some(-20.0)], Axis::Left) },
            LineChart { target: Some((f64::NAN, "nan target".to_string())), ..base() },
            LineChart { target: Some((250.0, "above".to_string())), left_range: Some((0.0, 100.0)), ..base() },
            LineChart { x_labels: vec!["<&>\"'".to_string(); 3], title: "a]]>b".to_string(), ..base() },
            LineChart {
                series: (0..20)
                    .map(|i| Series {
                        name: format!("queue number {i} with a long name"),
                        values: vec![Some(i as f64); 4],
                        axis: if i % 2 == 0 { Axis::Left } else { Axis::Right },
                    })
                    .collect(),
                ..base()
            },
        ];
        for chart in &cases {
            let svg = chart.to_svg();
            assert_well_formed(&svg);
            assert!(svg.contains("<svg") && svg.contains("</svg>"), "{chart:?}");
        }

        let empty = base().to_svg();
        assert!(empty.contains(">no data</text>") && !empty.contains("<polyline"));
        let single = with_series(vec![Some(42.0)], Axis::Left).to_svg();
        assert_eq!(single.matches("<circle").count(), 2, "a lone point gets a marker (plus the legend's)");
        let dropped = cases[15].to_svg();
        assert!(!dropped.contains(">above</text>"), "a target outside a fixed range is not drawn");
        let legend = cases[17].to_svg();
        let height: f64 = legend.split("height=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().parse().unwrap();
        assert!(height > 480.0, "many legend entries grow the document");
    }
}
