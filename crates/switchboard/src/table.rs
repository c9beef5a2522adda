//! Plain text tables for terminals: right-aligned columns, a header rule.

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                    .chain([self.header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:>w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let mut out = line(&self.header);
        out.push('\n');
        out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)));
        for r in &self.rows {
            out.push('\n');
            out.push_str(&line(r));
        }
        out.push('\n');
        out
    }
}

/// A fraction as a percentage with two decimals, or "-" when undefined.
pub fn percent(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.2} %", v * 100.0))
}

/// Seconds with two decimals, or "-".
pub fn seconds(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let mut t = Table::new(&["agents", "SL"]);
        t.row(vec!["9".into(), percent(Some(0.5))]);
        t.row(vec!["10".into(), percent(None)]);
        assert_eq!(t.render(), "agents       SL\n---------------\n     9  50.00 %\n    10        -\n");
    }
}
