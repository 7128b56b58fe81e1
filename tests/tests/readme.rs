//! README snippets that doctests cannot build (`rust,ignore`: they need optional features, or a
//! crate of their own) are excerpts of code CI builds: every line of such a snippet must be a line
//! of `examples/`, of the library-crate demo (`tests/library`) or of the tests (the test kit's).

use std::collections::HashSet;

#[test]
fn readme_snippets_that_need_features_are_excerpts_of_the_examples() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let mut example_lines = HashSet::new();
    let sources = ["examples", "tests/library/src/bin", "tests/tests"];
    for entry in sources
        .iter()
        .flat_map(|dir| std::fs::read_dir(format!("{root}/{dir}")).unwrap())
    {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            example_lines.extend(text.lines().map(|l| l.trim().to_owned()));
        }
    }
    let mut snippets = 0;
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```rust,ignore" {
            continue;
        }
        snippets += 1;
        for line in lines.by_ref().take_while(|l| l.trim() != "```") {
            let line = line.trim();
            if line.is_empty() || line == "// …" {
                continue;
            }
            assert!(example_lines.contains(line), "README line not in any example: {line}");
        }
    }
    assert_eq!(
        snippets, 5,
        "the library crate, the test kit, the replicas, the web app and the Prometheus snippets"
    );
}
