//! [`Location`]: where a service was defined.

use std::fmt;

/// Where a service was defined: the attribute's position, or the caller of
/// [`Service::hosted`](crate::Service::hosted) / [`Service::periodic`](crate::Service::periodic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// Source file.
    pub file: &'static str,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

impl From<&'static std::panic::Location<'static>> for Location {
    fn from(l: &'static std::panic::Location<'static>) -> Self {
        Location {
            file: l.file(),
            line: l.line(),
            column: l.column(),
        }
    }
}
