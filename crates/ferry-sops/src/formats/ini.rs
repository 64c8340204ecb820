//! sops' INI store, which reads and writes through go-ini (`gopkg.in/ini.v1`)
//! with its default options: sections become branches, a section's leading
//! comment and each key's preceding comment become comment items.

use crate::tree::{Branch, Item, Value};

use super::FormatError;
use super::dotenv::scalar_text;

const DEFAULT_SECTION: &str = "DEFAULT";

struct Key {
    name: String,
    value: String,
    comment: String,
}

struct Section {
    name: String,
    comment: String,
    keys: Vec<Key>,
}

struct Lines<'a> {
    rest: &'a str,
    eof: bool,
}

impl<'a> Lines<'a> {
    /// go-ini's `readUntil('\n')`: the next line including its LF.
    fn next_line(&mut self) -> &'a str {
        match self.rest.find('\n') {
            Some(i) => {
                let line = &self.rest[..=i];
                self.rest = &self.rest[i + 1..];
                line
            }
            None => {
                self.eof = true;
                std::mem::take(&mut self.rest)
            }
        }
    }
}

fn syntax(line: usize, message: &str) -> FormatError {
    FormatError::Syntax {
        format: "INI",
        line,
        message: message.to_string(),
    }
}

fn clean_comment(text: &str) -> Option<&str> {
    text.find(['#', ';']).map(|i| &text[i..])
}

fn has_surrounded_quote(s: &str, quote: char) -> bool {
    s.len() >= 2
        && s.starts_with(quote)
        && s.ends_with(quote)
        && s[1..].find(quote) == Some(s.len() - 2)
}

/// go-ini's `readKeyName` with the default delimiters `=` and `:`.
fn read_key_name(line: &str) -> Option<(String, usize)> {
    let quote = if line.starts_with('"') {
        if line.len() > 6 && line.starts_with("\"\"\"") {
            "\"\"\""
        } else {
            "\""
        }
    } else if line.starts_with('`') {
        "`"
    } else {
        ""
    };
    if !quote.is_empty() {
        let start = quote.len();
        let pos = line[start..].find(quote)? + start;
        let i = line.get(pos + start..)?.find(['=', ':'])?;
        let end = pos + i;
        return Some((line[start..pos].trim().to_string(), end + start + 1));
    }
    let end = line.find(['=', ':'])?;
    Some((line[..end].trim().to_string(), end + 1))
}

/// go-ini's `readValue` with default options.
fn read_value(
    raw: &str,
    lines: &mut Lines<'_>,
    comment: &mut String,
    number: usize,
) -> Result<String, FormatError> {
    let line = raw.trim_start();
    if line.is_empty() {
        return Ok(String::new());
    }
    let quote = if line.len() > 3 && line.starts_with("\"\"\"") {
        "\"\"\""
    } else if line.starts_with('`') {
        "`"
    } else {
        ""
    };
    if !quote.is_empty() {
        let start = quote.len();
        if let Some(pos) = line[start..].rfind(quote) {
            return Ok(line[start..start + pos].to_string());
        }
        // A value spanning several lines up to the closing quote.
        let mut value = line[start..].to_string();
        loop {
            let next = lines.next_line();
            if let Some(pos) = next.rfind(quote) {
                value.push_str(&next[..pos]);
                if let Some(c) = clean_comment(&next[pos..]) {
                    comment.push_str(c.trim());
                }
                return Ok(value);
            }
            value.push_str(next);
            if lines.eof {
                return Err(syntax(
                    number,
                    "missing closing quote of a multi-line value",
                ));
            }
        }
    }
    let mut line = line.trim().to_string();
    if line.ends_with('\\') {
        // Continuation lines.
        line.pop();
        loop {
            let next = lines.next_line().trim();
            if next.is_empty() {
                break;
            }
            line.push_str(next);
            if !line.ends_with('\\') {
                break;
            }
            line.pop();
        }
        return Ok(line);
    }
    if let Some(i) = line.find(['#', ';']) {
        comment.push_str(&line[i..]);
        line = line[..i].trim().to_string();
    }
    if has_surrounded_quote(&line, '\'') || has_surrounded_quote(&line, '"') {
        line = line[1..line.len() - 1].to_string();
    }
    Ok(line)
}

fn parse(text: &str) -> Result<Vec<Section>, FormatError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut sections = vec![Section {
        name: DEFAULT_SECTION.to_string(),
        comment: String::new(),
        keys: Vec::new(),
    }];
    let mut current = 0;
    let mut comment = String::new();
    let mut lines = Lines {
        rest: text,
        eof: false,
    };
    let mut number = 0;
    while !lines.eof {
        let raw = lines.next_line();
        number += 1;
        let line = raw.trim_start();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') || line.starts_with(';') {
            comment.push_str(line);
            continue;
        }
        if line.starts_with('[') {
            let close = line
                .rfind(']')
                .ok_or_else(|| syntax(number, "unclosed section"))?;
            let name = &line[1..close];
            if name.is_empty() {
                return Err(syntax(number, "empty section name"));
            }
            current = match sections.iter().position(|s| s.name == name) {
                Some(i) => i,
                None => {
                    sections.push(Section {
                        name: name.to_string(),
                        comment: String::new(),
                        keys: Vec::new(),
                    });
                    sections.len() - 1
                }
            };
            if let Some(c) = clean_comment(&line[close + 1..]) {
                comment.push_str(c);
            }
            sections[current].comment = comment.trim().to_string();
            comment.clear();
            continue;
        }
        let (name, offset) =
            read_key_name(line).ok_or_else(|| syntax(number, "key-value delimiter not found"))?;
        let name = if name == "-" {
            // go-ini numbers "-" keys; keep that behaviour.
            format!("#{}", sections[current].keys.len() + 1)
        } else {
            name
        };
        let value = read_value(&line[offset..], &mut lines, &mut comment, number)?;
        let key_comment = comment.trim().to_string();
        comment.clear();
        let section = &mut sections[current];
        match section.keys.iter_mut().find(|k| k.name == name) {
            Some(existing) => {
                existing.value = value;
                existing.comment = key_comment;
            }
            None => section.keys.push(Key {
                name,
                value,
                comment: key_comment,
            }),
        }
    }
    Ok(sections)
}

/// sops strips the comment marker: leading `;`/`#` and spaces.
fn strip_comment_char(comment: &str) -> String {
    if comment.starts_with(';') {
        comment.trim_start_matches([';', ' ']).to_string()
    } else if comment.starts_with('#') {
        comment.trim_start_matches(['#', ' ']).to_string()
    } else {
        comment.to_string()
    }
}

/// sops' `LoadPlainFile` for INI: one branch whose items are sections.
pub(crate) fn load(text: &[u8]) -> Result<Branch, FormatError> {
    let text = std::str::from_utf8(text).map_err(|_| syntax(0, "the file is not UTF-8"))?;
    let mut branch = Branch::default();
    for section in parse(text)? {
        let mut items = Branch::default();
        if !section.comment.is_empty() {
            items
                .0
                .push(Item::comment(strip_comment_char(&section.comment), false));
        }
        for key in section.keys {
            items.0.push(Item::new(key.name, Value::Str(key.value)));
            if !key.comment.is_empty() {
                items
                    .0
                    .push(Item::comment(strip_comment_char(&key.comment), false));
            }
        }
        branch.0.push(Item::new(section.name, Value::Map(items)));
    }
    Ok(branch)
}

/// The `[sops]` section's keys with their raw values (metadata is read from
/// it, flattened).
pub(crate) fn metadata_entries(branch: &Branch) -> Option<Vec<(String, String)>> {
    let Value::Map(section) = branch.get("sops")? else {
        return None;
    };
    Some(
        section
            .0
            .iter()
            .filter_map(|item| match (&item.key, &item.value) {
                (Value::Str(k), Value::Str(v)) => Some((k.clone(), v.clone())),
                _ => None,
            })
            .collect(),
    )
}

fn write_comment_lines(out: &mut String, comment: &str, trim_plain: bool) {
    for line in comment.split('\n') {
        let first = line.chars().next();
        if first != Some('#') && first != Some(';') {
            out.push_str("; ");
            out.push_str(if trim_plain { line.trim() } else { line });
        } else {
            let (marker, rest) = line.split_at(1);
            out.push_str(marker);
            out.push(' ');
            out.push_str(rest.trim());
        }
        out.push('\n');
    }
}

fn quote_key(name: &str) -> String {
    if name.contains('"') || name.contains(['=', ':']) {
        format!("`{name}`")
    } else if name.contains('`') {
        format!("\"\"\"{name}\"\"\"")
    } else {
        name.to_string()
    }
}

fn value_text(value: &Value) -> Result<String, FormatError> {
    let bytes = scalar_text(value).ok_or(FormatError::Unsupported {
        format: "INI",
        what: "nested values below a section",
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// sops' `EmitPlainFile` for INI (go-ini's writer with `PrettyFormat`):
/// `=` aligned within a section, a blank line between sections.
pub(crate) fn emit(branch: &Branch) -> Result<Vec<u8>, FormatError> {
    // Rebuild go-ini sections: the DEFAULT section always exists first.
    let mut sections: Vec<Section> = vec![Section {
        name: DEFAULT_SECTION.to_string(),
        comment: String::new(),
        keys: Vec::new(),
    }];
    for item in &branch.0 {
        let name = match &item.key {
            Value::Comment(_) => continue,
            Value::Str(s) => s.clone(),
            _ => {
                return Err(FormatError::Unsupported {
                    format: "INI",
                    what: "section names that are not strings",
                });
            }
        };
        let Value::Map(items) = &item.value else {
            return Err(FormatError::Unsupported {
                format: "INI",
                what: "values outside a section (every top-level value must be a section)",
            });
        };
        let index = match sections.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                sections.push(Section {
                    name,
                    comment: String::new(),
                    keys: Vec::new(),
                });
                sections.len() - 1
            }
        };
        let section = &mut sections[index];
        let mut rest = items.0.as_slice();
        if let Some((first, tail)) = rest.split_first()
            && let Value::Comment(c) = &first.key
        {
            section.comment = c.text.clone();
            rest = tail;
        }
        let mut last: Option<usize> = None;
        for entry in rest {
            match &entry.key {
                Value::Comment(c) => {
                    if let Some(i) = last {
                        section.keys[i].comment = c.text.clone();
                    }
                }
                key => {
                    let name = value_text(key)?;
                    let value = value_text(&entry.value)?;
                    match section.keys.iter().position(|k| k.name == name) {
                        Some(i) => {
                            section.keys[i].value = value;
                            last = Some(i);
                        }
                        None => {
                            section.keys.push(Key {
                                name,
                                value,
                                comment: String::new(),
                            });
                            last = Some(section.keys.len() - 1);
                        }
                    }
                }
            }
        }
    }

    let mut out = String::new();
    let mut first_written = true;
    for (i, section) in sections.iter().enumerate() {
        let header = i > 0 || section.name.to_uppercase() != DEFAULT_SECTION;
        if !header && section.keys.is_empty() && section.comment.is_empty() {
            continue;
        }
        if !first_written {
            // go-ini puts a line between sections.
            out.push('\n');
        }
        first_written = false;
        if !section.comment.is_empty() {
            write_comment_lines(&mut out, &section.comment, false);
        }
        if header {
            out.push('[');
            out.push_str(&section.name);
            out.push_str("]\n");
        }
        let align = section
            .keys
            .iter()
            .map(|k| {
                let mut n = k.name.len();
                if k.name.contains('"') || k.name.contains(['=', ':']) {
                    n += 2;
                } else if k.name.contains('`') {
                    n += 6;
                }
                n
            })
            .max()
            .unwrap_or(0);
        for key in &section.keys {
            if !key.comment.is_empty() {
                write_comment_lines(&mut out, &key.comment, true);
            }
            let name = quote_key(&key.name);
            out.push_str(&name);
            out.extend(std::iter::repeat_n(' ', align.saturating_sub(name.len())));
            out.push_str(" = ");
            let value = &key.value;
            if value.contains(['\n', '`']) {
                out.push_str("\"\"\"");
                out.push_str(value);
                out.push_str("\"\"\"");
            } else if value.contains(['#', ';']) {
                out.push('`');
                out.push_str(value);
                out.push('`');
            } else if value.trim().len() != value.len() {
                out.push('"');
                out.push_str(value);
                out.push('"');
            } else {
                out.push_str(value);
            }
            out.push('\n');
        }
    }
    Ok(out.into_bytes())
}
