//! The compile-time error suite. Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test --test test_ui`, then read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    t.pass("ui-pass/*.rs");
}
