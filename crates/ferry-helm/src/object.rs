//! Go struct and pointer values exposed to templates (`.Capabilities`, semver versions, times,
//! certificates): their fields, methods, printing and JSON form.

use crate::value::Value;

/// Parameter types of Go functions and methods, as far as argument checking needs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// `interface {}`
    Any,
    /// `string`
    Str,
    /// `int`
    Int,
    /// `int64`
    Int64,
    /// `float64`
    Float,
    /// `bool`
    Bool,
    /// `[]interface {}`
    List,
    /// `map[string]interface {}`
    Map,
    /// `common.Values`
    Values,
    /// `reflect.Value` (Go's builtins that inspect their operands)
    Refl,
    /// `uint32`
    Uint32,
    /// `sprig.certificate`
    Cert,
    /// `time.Time`
    Time,
    /// `*semver.Version`
    SemVer,
}

impl Param {
    pub fn go_name(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Str => "string",
            Param::Int => "int",
            Param::Int64 => "int64",
            Param::Float => "float64",
            Param::Bool => "bool",
            Param::List => "[]interface {}",
            Param::Map => "map[string]interface {}",
            Param::Values => "common.Values",
            Param::Refl => "reflect.Value",
            Param::Uint32 => "uint32",
            Param::Cert => "sprig.certificate",
            Param::Time => "time.Time",
            Param::SemVer => "*semver.Version",
        }
    }

    /// Whether Go can give this type a nil zero value (`canBeNil`).
    pub fn can_be_nil(self) -> bool {
        matches!(
            self,
            Param::Any | Param::List | Param::Map | Param::Values | Param::SemVer | Param::Refl
        )
    }
}

/// The signature of a method.
#[derive(Clone, Copy, Debug)]
pub struct Sig {
    pub params: &'static [Param],
    pub variadic: Option<Param>,
}

impl Sig {
    pub const NONE: Sig = Sig {
        params: &[],
        variadic: None,
    };
    pub const STR: Sig = Sig {
        params: &[Param::Str],
        variadic: None,
    };
}

/// A Go struct or pointer-to-struct value.
pub trait Object {
    /// For downcasting to the concrete type (`time.Time` arguments, certificates).
    fn as_any(&self) -> &dyn std::any::Any;
    /// `%T`, e.g. `*common.Capabilities`.
    fn type_name(&self) -> &'static str;
    /// reflect kind: `ptr` or `struct`.
    fn kind_name(&self) -> &'static str {
        "ptr"
    }
    /// Template truth: non-nil pointers and structs are true.
    fn truth(&self) -> bool {
        true
    }
    /// An exported field.
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    /// A method's signature, if the type has it.
    fn method(&self, _name: &str) -> Option<Sig> {
        None
    }
    /// Calls a method found by [`Object::method`] with checked arguments.
    fn call(&self, name: &str, _args: &[Value]) -> Result<Value, String> {
        Err(format!("can't call method {name}"))
    }
    /// `String()` if the type is a fmt.Stringer.
    fn stringer(&self) -> Option<String> {
        None
    }
    /// `%v` without a Stringer: Go prints structs as `{f1 f2}` (and `&{...}` through a pointer).
    fn format_fields(&self) -> String {
        String::new()
    }
    /// The value encoding/json would produce, as plain maps, lists and scalars.
    fn json(&self) -> Value;
    /// For structs: the JSON object fields in declaration order (encoding/json keeps it).
    fn json_struct(&self) -> Option<Vec<(&'static str, Value)>> {
        None
    }
}
