//! Random plaintext documents for the sops oracle test, in every format,
//! written in many styles (quoting, block scalars, flow collections,
//! comments, anchors, several YAML documents) and with every value type.

/// splitmix64: small, seedable and good enough to pick test inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "secret",
    "password",
    "token",
    "user",
    "host",
    "port",
    "db",
    "api",
    "key",
    "value",
    "note",
    "x",
    "data",
    "stringData",
    "name",
    "émoji",
    "日本",
    "plain",
];

fn word(rng: &mut Rng) -> String {
    rng.pick(WORDS).to_string()
}

fn words(rng: &mut Rng, max: usize) -> String {
    let n = 1 + rng.below(max);
    (0..n).map(|_| word(rng)).collect::<Vec<_>>().join(" ")
}

/// Text for a string value, in all the shapes that stress quoting rules.
fn string_text(rng: &mut Rng) -> String {
    match rng.below(24) {
        0 => String::new(),
        1 => " leading space".to_string(),
        2 => "trailing space ".to_string(),
        3 => "a: b".to_string(),
        4 => "- dash".to_string(),
        5 => "#not a comment".to_string(),
        6 => "it's \"quoted\"".to_string(),
        7 => "back\\slash".to_string(),
        8 => rng
            .pick(&[
                "yes",
                "no",
                "on",
                "off",
                "y",
                "n",
                "true",
                "null",
                "~",
                "1:20",
                "0x1F",
                "1e3",
                "2024-01-01",
            ])
            .to_string(),
        9 => "tab\there".to_string(),
        10 => "line one\nline two".to_string(),
        11 => "ends with newline\n".to_string(),
        12 => "two trailing\n\n".to_string(),
        13 => "\n leading break".to_string(),
        14 => "space before break \nnext".to_string(),
        15 => "unicode: héllo wörld ✓ 😀".to_string(),
        16 => "control \u{1} \u{7f} \u{85} \u{2028} chars".to_string(),
        17 => {
            // Long text, to exercise line folding at 80 columns.
            (0..12).map(|_| word(rng)).collect::<Vec<_>>().join(" ")
        }
        18 => "x".repeat(90 + rng.below(60)),
        19 => "@at sign".to_string(),
        20 => "%percent".to_string(),
        21 => "`backtick`".to_string(),
        22 => "{braces} [brackets], commas".to_string(),
        _ => words(rng, 4),
    }
}

fn yaml_double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{85}' || c == '\u{2028}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn yaml_single_quoted(s: &str) -> Option<String> {
    if s.contains(['\n', '\t', '\u{1}', '\u{7f}', '\u{85}', '\u{2028}']) {
        return None;
    }
    Some(format!("'{}'", s.replace('\'', "''")))
}

/// A scalar in YAML syntax, for a value at `indent`.
fn yaml_scalar(rng: &mut Rng, indent: usize) -> String {
    match rng.below(20) {
        0 => rng
            .pick(&["42", "-7", "0", "0x1F", "0o17", "017", "1_000", "+12"])
            .to_string(),
        1 => rng
            .pick(&[
                "3.14",
                "-0.5",
                "1e10",
                "1.5E-3",
                ".inf",
                "-.inf",
                ".nan",
                "1234568000.0",
                "0.0001",
                "1e-7",
                "2.5e+300",
            ])
            .to_string(),
        2 => rng.pick(&["true", "false", "True", "FALSE"]).to_string(),
        3 => rng.pick(&["null", "~", ""]).to_string(),
        4 => rng
            .pick(&[
                "2024-01-02",
                "2001-12-14 21:59:43.10",
                "2024-01-01T10:00:00+02:00",
                "2024-01-01T10:00:00Z",
            ])
            .to_string(),
        5 => "!!binary aGVsbG8gd29ybGQ=".to_string(),
        6 | 7 => {
            // A block scalar.
            let style = rng.pick(&["|", "|-", "|+", ">", ">-"]);
            let pad = " ".repeat(indent + 2);
            // Only lines after the first may be more indented: the first
            // line sets the block's indentation.
            let lines: Vec<String> = (0..1 + rng.below(3))
                .map(|i| {
                    if i > 0 && rng.chance(15) {
                        format!("  {}", words(rng, 3))
                    } else {
                        words(rng, 5)
                    }
                })
                .collect();
            let mut out = format!("{style}\n");
            for line in lines {
                out.push_str(&pad);
                out.push_str(&line);
                out.push('\n');
            }
            if rng.chance(30) {
                out.push('\n');
            }
            // The caller adds the final line break.
            out.pop();
            out
        }
        8 | 9 => yaml_double_quoted(&string_text(rng)),
        10 => {
            let s = string_text(rng);
            yaml_single_quoted(&s).unwrap_or_else(|| yaml_double_quoted(&s))
        }
        _ => {
            // A plain scalar when the text allows it.
            let s = words(rng, 4);
            if rng.chance(20) { format!("{s}:x") } else { s }
        }
    }
}

fn yaml_key(rng: &mut Rng, used: &mut Vec<String>) -> String {
    loop {
        let base = match rng.below(12) {
            0 => format!("{}_unencrypted", word(rng)),
            1 => format!("{}_plain", word(rng)),
            2 => yaml_double_quoted(&format!("{} {}", word(rng), word(rng))),
            3 => format!("'{}:{}'", word(rng), word(rng)),
            4 => "\"yes\"".to_string(),
            5 if rng.chance(20) => "k".repeat(130),
            _ => format!("{}{}", word(rng), rng.below(50)),
        };
        if !used.contains(&base) {
            used.push(base.clone());
            return base;
        }
    }
}

fn comment(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => "#".to_string(),
        1 => format!("#{}", words(rng, 3)),
        2 => "# sops:enc".to_string(),
        3 => "# sops:noenc".to_string(),
        _ => format!("# {}", words(rng, 4)),
    }
}

struct Yaml<'a> {
    rng: &'a mut Rng,
    /// Anchors whose value is complete (an alias inside its own anchor's
    /// value is refused by go-yaml).
    anchors: Vec<String>,
    /// The complete anchors of mappings: the only ones a merge key takes.
    map_anchors: Vec<String>,
    next_anchor: usize,
    out: String,
}

impl Yaml<'_> {
    fn anchor_name(&mut self, prefix: &str) -> String {
        self.next_anchor += 1;
        format!("{prefix}{}", self.next_anchor - 1)
    }

    fn maybe_head_comments(&mut self, indent: usize) {
        if self.rng.chance(25) {
            if self.rng.chance(30) {
                self.out.push('\n');
            }
            for _ in 0..1 + self.rng.below(2) {
                let c = comment(self.rng);
                self.out.push_str(&" ".repeat(indent));
                self.out.push_str(&c);
                self.out.push('\n');
            }
        }
    }

    fn line_comment(&mut self) {
        if self.rng.chance(20) {
            let c = comment(self.rng);
            self.out.push(' ');
            self.out.push_str(&c);
        }
    }

    fn flow_value(&mut self, depth: usize) -> String {
        match self.rng.below(4) {
            0 if depth < 3 => {
                let items: Vec<String> = (0..self.rng.below(4))
                    .map(|_| self.flow_value(depth + 1))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            1 if depth < 3 => {
                let mut used = Vec::new();
                let items: Vec<String> = (0..self.rng.below(3))
                    .map(|_| {
                        let k = format!("{}{}", word(self.rng), self.rng.below(9));
                        if used.contains(&k) {
                            return String::new();
                        }
                        used.push(k.clone());
                        format!("{k}: {}", self.flow_value(depth + 1))
                    })
                    .filter(|s| !s.is_empty())
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            _ => match self.rng.below(4) {
                0 => "12".to_string(),
                1 => yaml_double_quoted(&string_text(self.rng)),
                2 => "true".to_string(),
                _ => word(self.rng),
            },
        }
    }

    /// Writes ` value` (after `key:` or `-`), choosing a nested block when
    /// `block_ok`.
    fn value(&mut self, indent: usize, depth: usize) {
        let roll = self.rng.below(100);
        if depth < 4 && roll < 18 {
            // An anchored mapping, for aliases (and merge keys) after it.
            let anchor = self.rng.chance(10).then(|| self.anchor_name("m"));
            if let Some(name) = &anchor {
                self.out.push_str(&format!(" &{name}"));
            }
            self.line_comment_before_block();
            self.out.push('\n');
            let nested = indent + 2 + self.rng.below(2) * 2;
            self.mapping(nested, depth + 1);
            if let Some(name) = anchor {
                self.anchors.push(name.clone());
                self.map_anchors.push(name);
            }
        } else if depth < 4 && roll < 32 {
            self.line_comment_before_block();
            self.out.push('\n');
            // Sequences under a key may be indented or not.
            let seq_indent = if self.rng.chance(50) {
                indent
            } else {
                indent + 2
            };
            self.sequence(seq_indent, depth + 1);
        } else if roll < 38 {
            let v = self.flow_value(depth);
            self.out.push(' ');
            self.out.push_str(&v);
            self.line_comment();
            self.out.push('\n');
        } else if roll < 42 && !self.anchors.is_empty() {
            let a = self.rng.pick(&self.anchors).clone();
            self.out.push_str(&format!(" *{a}"));
            self.out.push('\n');
        } else {
            let anchor = self.rng.chance(5).then(|| self.anchor_name("a"));
            let s = yaml_scalar(self.rng, indent);
            if let Some(name) = anchor {
                self.out.push_str(&format!(" &{name}"));
                self.anchors.push(name);
            }
            if !s.is_empty() {
                self.out.push(' ');
                self.out.push_str(&s);
            }
            if !s.starts_with('|') && !s.starts_with('>') {
                self.line_comment();
            }
            self.out.push('\n');
        }
    }

    fn line_comment_before_block(&mut self) {
        if self.rng.chance(10) {
            let c = comment(self.rng);
            self.out.push(' ');
            self.out.push_str(&c);
        }
    }

    fn mapping(&mut self, indent: usize, depth: usize) {
        let mut used = Vec::new();
        for _ in 0..1 + self.rng.below(5) {
            self.maybe_head_comments(indent);
            if !self.map_anchors.is_empty()
                && self.rng.chance(4)
                && !used.contains(&"<<".to_string())
            {
                // A merge key: sops keeps `<<` as an ordinary key.
                used.push("<<".to_string());
                let a = self.rng.pick(&self.map_anchors).clone();
                self.out
                    .push_str(&format!("{}<<: *{a}\n", " ".repeat(indent)));
                continue;
            }
            let key = yaml_key(self.rng, &mut used);
            self.out.push_str(&" ".repeat(indent));
            if key.len() > 128 && self.rng.chance(50) {
                self.out
                    .push_str(&format!("? {key}\n{}:", " ".repeat(indent)));
            } else {
                self.out.push_str(&key);
                self.out.push(':');
            }
            self.value(indent, depth);
        }
        if self.rng.chance(15) {
            let c = comment(self.rng);
            self.out.push_str(&" ".repeat(indent));
            self.out.push_str(&c);
            self.out.push('\n');
        }
    }

    fn sequence(&mut self, indent: usize, depth: usize) {
        for _ in 0..1 + self.rng.below(4) {
            self.maybe_head_comments(indent);
            self.out.push_str(&" ".repeat(indent));
            self.out.push('-');
            if depth < 4 && self.rng.chance(15) {
                // A mapping as a sequence item, starting on the dash line.
                let mut used = Vec::new();
                let key = yaml_key(self.rng, &mut used);
                self.out.push_str(&format!(" {key}:"));
                let s = yaml_scalar(self.rng, indent + 2);
                if !s.is_empty() {
                    self.out.push(' ');
                    self.out.push_str(&s);
                }
                self.out.push('\n');
                if self.rng.chance(50) {
                    let key2 = yaml_key(self.rng, &mut used);
                    self.out.push_str(&format!(
                        "{}{key2}: {}\n",
                        " ".repeat(indent + 2),
                        word(self.rng)
                    ));
                }
            } else {
                self.value(indent, depth);
            }
        }
    }
}

/// A YAML stream of one to three documents, each a mapping.
pub fn yaml(rng: &mut Rng) -> String {
    let mut y = Yaml {
        rng,
        anchors: Vec::new(),
        map_anchors: Vec::new(),
        next_anchor: 0,
        out: String::new(),
    };
    let documents = if y.rng.chance(20) {
        2 + y.rng.below(2)
    } else {
        1
    };
    if y.rng.chance(15) {
        y.out.push_str("---\n");
    }
    for i in 0..documents {
        if i > 0 {
            y.out.push_str(if y.rng.chance(20) {
                "...\n---\n"
            } else {
                "---\n"
            });
        }
        y.maybe_head_comments(0);
        y.mapping(0, 0);
        y.anchors.clear();
        y.map_anchors.clear();
    }
    if y.rng.chance(15) {
        let c = comment(y.rng);
        y.out.push_str(&c);
        y.out.push('\n');
    }
    y.out
}

fn json_string(s: &str, rng: &mut Rng) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str(if rng.chance(50) { "\\n" } else { "\\u000a" }),
            '\t' => out.push_str("\\t"),
            '/' if rng.chance(50) => out.push_str("\\/"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) > 0xFFFF && rng.chance(50) => {
                let v = c as u32 - 0x10000;
                out.push_str(&format!(
                    "\\u{:04x}\\u{:04x}",
                    0xD800 + (v >> 10),
                    0xDC00 + (v & 0x3FF)
                ));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_value(rng: &mut Rng, depth: usize) -> String {
    match rng.below(12) {
        0 if depth < 4 => json_object(rng, depth + 1),
        1 if depth < 4 => {
            let items: Vec<String> = (0..rng.below(4))
                .map(|_| json_value(rng, depth + 1))
                .collect();
            format!("[{}]", items.join(if rng.chance(50) { ", " } else { "," }))
        }
        2 => rng
            .pick(&[
                "0",
                "-1",
                "42",
                "3.5",
                "-0.25",
                "1e21",
                "1.5e-7",
                "12345678901234567890",
                "1E+2",
                "0.1",
                "100",
            ])
            .to_string(),
        3 => rng.pick(&["true", "false", "null"]).to_string(),
        4 => {
            let s = rng
                .pick(&[
                    "<b>&amp;</b>",
                    "\u{8}\u{c}",
                    "\u{2028}\u{2029}",
                    "tab\t",
                    "😀 ünï",
                    "\u{1}",
                ])
                .to_string();
            json_string(&s, rng)
        }
        _ => {
            let s = string_text(rng);
            json_string(&s, rng)
        }
    }
}

fn json_object(rng: &mut Rng, depth: usize) -> String {
    let mut used = Vec::new();
    let mut items = Vec::new();
    for _ in 0..rng.below(5) {
        let key = match rng.below(6) {
            0 => format!("{}_unencrypted", word(rng)),
            1 => format!("{} {}", word(rng), word(rng)),
            _ => format!("{}{}", word(rng), rng.below(20)),
        };
        if used.contains(&key) {
            continue;
        }
        used.push(key.clone());
        items.push(format!(
            "{}: {}",
            json_string(&key, rng),
            json_value(rng, depth)
        ));
    }
    if items.is_empty() && depth == 0 {
        items.push("\"only\": 1".to_string());
    }
    let sep = if rng.chance(50) { ",\n  " } else { ", " };
    format!("{{{}}}", items.join(sep))
}

pub fn json(rng: &mut Rng) -> String {
    let mut out = json_object(rng, 0);
    out.push('\n');
    out
}

pub fn dotenv(rng: &mut Rng) -> String {
    let mut out = String::new();
    let mut used = Vec::new();
    for _ in 0..1 + rng.below(8) {
        match rng.below(10) {
            0 => out.push_str(&format!("#{}\n", words(rng, 3))),
            1 => out.push('\n'),
            _ => {
                let key = match rng.below(5) {
                    0 => format!("{}_UNENCRYPTED", word(rng).to_uppercase()),
                    _ => format!("{}_{}", word(rng).to_uppercase(), rng.below(30)),
                };
                if used.contains(&key) {
                    continue;
                }
                used.push(key.clone());
                let value = match rng.below(8) {
                    0 => String::new(),
                    1 => format!(" {} ", words(rng, 2)),
                    2 => "a=b=c".to_string(),
                    3 => "\"quoted\" 'single' # not comment".to_string(),
                    4 => "multi\\nline\\\\n".to_string(),
                    5 => "ünïcödé ✓".to_string(),
                    _ => words(rng, 3).replace(' ', "_"),
                };
                out.push_str(&format!("{key}={value}\n"));
            }
        }
    }
    if !out.contains('=') {
        out.push_str("KEY=value\n");
    }
    out
}

pub fn ini(rng: &mut Rng) -> String {
    let mut out = String::new();
    if rng.chance(25) {
        out.push_str(&format!("default_key = {}\n", words(rng, 2)));
    }
    let mut sections = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let name = match rng.below(4) {
            0 => format!("{} {}", word(rng), rng.below(9)),
            _ => format!("{}{}", word(rng), rng.below(9)),
        };
        if sections.contains(&name) {
            continue;
        }
        sections.push(name.clone());
        if rng.chance(30) {
            out.push_str(&format!("{} {}\n", rng.pick(&[";", "#"]), words(rng, 3)));
        }
        out.push_str(&format!("[{name}]\n"));
        let mut used = Vec::new();
        for _ in 0..rng.below(5) {
            let key = match rng.below(5) {
                0 => format!("{}_unencrypted", word(rng)),
                _ => format!("{}{}", word(rng), rng.below(20)),
            };
            if used.contains(&key) {
                continue;
            }
            used.push(key.clone());
            if rng.chance(20) {
                out.push_str(&format!("; {}\n", words(rng, 2)));
            }
            let value = match rng.below(7) {
                0 => String::new(),
                1 => format!("\"  {}  \"", words(rng, 2)),
                2 => words(rng, 4),
                3 => "ünïcödé ✓".to_string(),
                4 => rng.pick(&["42", "3.14", "true"]).to_string(),
                _ => word(rng),
            };
            let sep = rng.pick(&[" = ", "=", ": "]);
            out.push_str(&format!("{key}{sep}{value}\n"));
        }
        if rng.chance(50) {
            out.push('\n');
        }
    }
    out
}

pub fn binary(rng: &mut Rng) -> Vec<u8> {
    match rng.below(3) {
        0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
        1 => format!("{}\n{}\n", words(rng, 6), words(rng, 3)).into_bytes(),
        _ => words(rng, 2).into_bytes(),
    }
}
