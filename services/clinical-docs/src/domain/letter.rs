//! Letters: the trust's wording filled in from an outcome or a discharge, and a final
//! letter's version rendered for sending — an A4 PDF in Helvetica (one of the fonts every
//! PDF reader has, so nothing is embedded), the text wrapped and paged, the same bytes for
//! the same version every time (ADR 34).
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};
use std::collections::BTreeMap;

/// Fills `{name}` placeholders; an unknown one is left as written.
pub fn fill(template: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if values.contains_key(&after[..close]) => {
                out.push_str(&values[&after[..close]]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What is printed: a heading block, then the letter's text.
pub struct Sheet<'a> {
    pub title: &'a str,
    /// `label: value` lines under the title (trust, recipient, patient, signatures).
    pub heading: Vec<(String, String)>,
    pub text: &'a str,
}

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const SIZE: f32 = 10.0;
const LEADING: f32 = 14.0;
/// Helvetica at 10 pt averages about 5 pt a character: 483 pt of line, 90 characters.
const COLUMNS: usize = 90;

/// Text as the base-14 fonts' WinAnsi encoding shows it: Latin-1 as is, anything else `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match u32::from(c) {
            n @ (0x20..=0x7e | 0xa0..=0xff) => n as u8,
            _ => b'?',
        })
        .collect()
}

/// Wraps one paragraph at word boundaries (a word longer than a line is cut).
fn wrap(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    for word in line.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > COLUMNS {
            let head: String = word.chars().take(COLUMNS).collect();
            word = word.chars().skip(COLUMNS).collect();
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(head);
        }
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > COLUMNS {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    out.push(cur);
    out
}

/// The sheet as PDF bytes.
pub fn render(sheet: &Sheet<'_>) -> Vec<u8> {
    let mut lines: Vec<(bool, String)> =
        vec![(true, sheet.title.to_string()), (false, String::new())];
    for (label, value) in &sheet.heading {
        lines.push((false, format!("{label}: {value}")));
    }
    lines.push((false, String::new()));
    for paragraph in sheet
        .text
        .replace('\r', "")
        .replace('\t', "    ")
        .split('\n')
    {
        lines.extend(wrap(paragraph).into_iter().map(|l| (false, l)));
    }
    let per_page = ((HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
    let pages: Vec<&[(bool, String)]> = lines.chunks(per_page.max(1)).collect();

    let mut pdf = Pdf::new();
    let (catalog, tree, regular, bold) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(5 + 2 * i as i32))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    for font in [
        (regular, b"Helvetica".as_slice()),
        (bold, b"Helvetica-Bold".as_slice()),
    ] {
        pdf.type1_font(font.0)
            .base_font(Name(font.1))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    let total = pages.len();
    for (i, page_lines) in pages.into_iter().enumerate() {
        let (page_id, content_id) = (page_ids[i], Ref::new(6 + 2 * i as i32));
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        page.parent(tree);
        page.contents(content_id);
        page.resources()
            .fonts()
            .pair(Name(b"F1"), regular)
            .pair(Name(b"F2"), bold);
        drop(page);
        let mut c = Content::new();
        c.begin_text();
        c.next_line(MARGIN, HEIGHT - MARGIN);
        for (heading, line) in page_lines {
            c.set_font(
                Name(if *heading { b"F2" } else { b"F1" }),
                if *heading { 14.0 } else { SIZE },
            );
            c.show(Str(&win_ansi(line)));
            c.next_line(0.0, -LEADING);
        }
        c.end_text();
        c.begin_text();
        c.set_font(Name(b"F1"), 8.0);
        c.next_line(MARGIN, MARGIN / 2.0);
        c.show(Str(&win_ansi(&format!("Page {} of {total}", i + 1))));
        c.end_text();
        pdf.stream(content_id, &c.finish());
    }
    pdf.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_unknown_ones_left() {
        let v = BTreeMap::from([("date", "2026-12-07".to_string())]);
        assert_eq!(
            fill("Seen on {date}. {nope} {", &v),
            "Seen on 2026-12-07. {nope} {"
        );
    }

    #[test]
    fn long_lines_wrap_at_words_and_long_words_are_cut() {
        let l = wrap(&"word ".repeat(40));
        assert!(l.len() >= 2 && l.iter().all(|x| x.chars().count() <= COLUMNS));
        let l = wrap(&"x".repeat(200));
        assert_eq!(l.iter().map(String::len).collect::<Vec<_>>(), [90, 90, 20]);
    }

    #[test]
    fn the_same_sheet_renders_the_same_bytes_and_text_outside_latin1_is_replaced() {
        let s = Sheet {
            title: "Letter",
            heading: vec![],
            text: "Café 😀",
        };
        assert_eq!(render(&s), render(&s));
        assert_eq!(win_ansi("Café 😀"), b"Caf\xe9 ?");
        assert!(render(&s).starts_with(b"%PDF-"));
    }
}
