//! Helm chart rendering: Go text/template, Sprig and Helm's chart semantics.
