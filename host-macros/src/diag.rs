//! Helpers for error reporting: collecting independent errors, and "did you mean" suggestions.

/// Collects independent errors so that one expansion reports all of them at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Keeps the error of `result`, if any, and returns its value otherwise.
    pub(crate) fn take<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// `value` when no error was collected, otherwise every collected error.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

/// Both values, or the errors of both.
pub(crate) fn both<A, B>(a: syn::Result<A>, b: syn::Result<B>) -> syn::Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(mut a), Err(b)) => {
            a.combine(b);
            Err(a)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// The candidate closest to `given`, if it is close enough to be a likely typo: one edit per
/// three characters, at least one (`evry` → `every`, `fixed_dealy` → `fixed_delay`), the same rule
/// as the configuration's.
pub(crate) use host_syntax::did_you_mean;

/// `a, b, c` with each item in backticks.
pub(crate) fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items
        .into_iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let keys = ["every", "fixed_delay", "cron", "tz", "timeout"];
        assert_eq!(did_you_mean("evry", keys), Some("every"));
        assert_eq!(did_you_mean("fixed_dealy", keys), Some("fixed_delay"));
        assert_eq!(did_you_mean("Cron", keys), Some("cron"));
        assert_eq!(did_you_mean("interval", keys), None);
        assert_eq!(did_you_mean("x", keys), None);
    }
}
