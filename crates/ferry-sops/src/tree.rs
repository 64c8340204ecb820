//! sops' document model: an ordered tree of branches (mappings), lists and
//! typed scalars, with comments as tree items. Every format store reads into
//! it and writes from it; encryption and the MAC walk it in order.

use zeroize::Zeroize;

use crate::timestamp::Timestamp;

/// A comment line (without its `#`). `inline` marks a YAML comment that sat
/// at the end of a value's line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comment {
    pub text: String,
    pub inline: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Map(Branch),
    /// Items may be comments.
    List(Vec<Value>),
    Str(String),
    /// A string whose bytes are not UTF-8 (decrypted `type:str` or YAML
    /// `!!binary`).
    RawStr(Vec<u8>),
    /// A decrypted `type:bytes` value.
    Bytes(Vec<u8>),
    Int(i64),
    /// An integer above `i64::MAX` (YAML only); sops cannot encrypt or
    /// decrypt a tree holding one.
    Uint(u64),
    Float(f64),
    Bool(bool),
    Time(Timestamp),
    Null,
    Comment(Comment),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Branch(pub Vec<Item>);

/// A mapping entry. A comment item has `key: Value::Comment` and a null value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub key: Value,
    pub value: Value,
}

impl Item {
    pub fn new(key: impl Into<String>, value: Value) -> Item {
        Item {
            key: Value::Str(key.into()),
            value,
        }
    }

    pub fn comment(text: impl Into<String>, inline: bool) -> Item {
        Item {
            key: Value::Comment(Comment {
                text: text.into(),
                inline,
            }),
            value: Value::Null,
        }
    }

    pub fn key_str(&self) -> Option<&str> {
        match &self.key {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl Branch {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|item| item.key_str() == Some(key))
            .map(|item| &item.value)
    }
}

impl Value {
    /// Overwrites every string and byte buffer in place before the tree is
    /// freed, so decrypted values do not linger in released memory.
    pub fn zeroize_in_place(&mut self) {
        match self {
            Value::Map(branch) => branch.zeroize_in_place(),
            Value::List(items) => items.iter_mut().for_each(Value::zeroize_in_place),
            Value::Str(s) => s.zeroize(),
            Value::RawStr(b) | Value::Bytes(b) => b.zeroize(),
            Value::Comment(c) => c.text.zeroize(),
            Value::Int(i) => *i = 0,
            Value::Uint(u) => *u = 0,
            Value::Float(f) => *f = 0.0,
            Value::Bool(b) => *b = false,
            Value::Time(_) | Value::Null => {}
        }
    }
}

impl Branch {
    pub fn zeroize_in_place(&mut self) {
        for item in &mut self.0 {
            item.key.zeroize_in_place();
            item.value.zeroize_in_place();
        }
    }
}

/// The documents of one file (YAML may hold several), wiped on drop.
#[derive(Debug, Default)]
pub(crate) struct Branches(pub Vec<Branch>);

impl Drop for Branches {
    fn drop(&mut self) {
        for branch in &mut self.0 {
            branch.zeroize_in_place();
        }
    }
}
