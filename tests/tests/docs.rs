//! The README's attribute option tables and the macros' rustdoc (what `cargo doc` shows for
//! `host::hosted_service` and `host::periodic`) say the same thing.

use std::collections::BTreeSet;

/// Table rows of options (`| \`…`), in order of appearance, without rustdoc's `/// ` prefix.
fn option_rows(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.trim_start().trim_start_matches("///").trim())
        .filter(|line| line.starts_with("| `"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_option_tables_match_the_rustdoc() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let read = |path: &str| std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"));
    let readme = read("README.md");
    let start = readme
        .find("## Attribute options")
        .expect("the README has an options section");
    let end = start + readme[start..].find("\n## ").expect("a section follows");
    let readme_rows: BTreeSet<String> = option_rows(&readme[start..end]).into_iter().collect();
    let rustdoc = read("host-macros/src/lib.rs") + &read("host-macros/docs/common-options.md");
    let rustdoc_rows: BTreeSet<String> = option_rows(&rustdoc).into_iter().collect();
    assert!(readme_rows.len() >= 17, "{readme_rows:#?}");
    assert_eq!(
        readme_rows.difference(&rustdoc_rows).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "README rows missing from the rustdoc"
    );
    assert_eq!(
        rustdoc_rows.difference(&readme_rows).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "rustdoc rows missing from the README"
    );
}
