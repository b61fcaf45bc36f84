//! Aligned tables for people: a header row and columns padded to their widest cell.

/// Prints `rows` under `headers`, columns separated by two spaces; `-` for an empty cell.
pub fn print(headers: &[&str], rows: &[Vec<String>]) {
    print!("{}", render(headers, rows));
}

/// The table as text.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(i) {
                *width = (*width).max(shown(cell).chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(|c| shown(c)).collect()));
    }
    out
}

fn shown(cell: &str) -> &str {
    if cell.is_empty() { "-" } else { cell }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_to_their_widest_cell() {
        let text = render(
            &["NUMBER", "STATUS"],
            &[
                vec!["REQ-000001".into(), "fulfilled".into()],
                vec!["REQ-2".into(), String::new()],
            ],
        );
        assert_eq!(
            text,
            "NUMBER      STATUS\nREQ-000001  fulfilled\nREQ-2       -\n"
        );
    }
}
