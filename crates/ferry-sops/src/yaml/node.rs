//! go-yaml v3's document model (`yaml.Node`), as built for emitting.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Document,
    Sequence,
    Mapping,
    Scalar,
    Alias,
}

/// Presentation flags of a node (go-yaml's `yaml.Style` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Style(u8);

impl Style {
    pub const TAGGED: Style = Style(1);
    pub const DOUBLE_QUOTED: Style = Style(2);
    pub const SINGLE_QUOTED: Style = Style(4);
    pub const LITERAL: Style = Style(8);
    pub const FOLDED: Style = Style(16);
    pub const FLOW: Style = Style(32);

    pub fn has(self, other: Style) -> bool {
        self.0 & other.0 != 0
    }

    pub fn with(self, other: Style) -> Style {
        Style(self.0 | other.0)
    }

    pub fn is_quoted_or_block(self) -> bool {
        self.has(Style::DOUBLE_QUOTED)
            || self.has(Style::SINGLE_QUOTED)
            || self.has(Style::LITERAL)
            || self.has(Style::FOLDED)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    pub style: Style,
    pub tag: String,
    pub value: String,
    pub anchor: String,
    pub content: Vec<Node>,
    pub head_comment: String,
    pub line_comment: String,
    pub foot_comment: String,
}

impl Node {
    pub fn new(kind: Kind) -> Node {
        Node {
            kind,
            style: Style::default(),
            tag: String::new(),
            value: String::new(),
            anchor: String::new(),
            content: Vec::new(),
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
        }
    }
}
