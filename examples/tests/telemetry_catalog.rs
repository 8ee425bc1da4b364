//! The README's CI recipe: the operations of the example and the
//! `error.type` values they can report, compared with the checked-in
//! `telemetry-catalog.md`. A renamed variant or operation fails this test
//! with the lines that changed; `UPDATE_TELEMETRY_CATALOG=1 cargo test -p
//! instrument-errors-examples --test telemetry_catalog` rewrites the file.

#[test]
fn telemetry_catalog_is_up_to_date() {
    // The services must be linked in: name them.
    let _ = instrument_errors_examples::store::Store::new();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("telemetry-catalog.md");
    let actual = instrument_errors::catalog::markdown();
    if std::env::var_os("UPDATE_TELEMETRY_CATALOG").is_some() {
        std::fs::write(&path, &actual).expect("the catalog is written");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if let Some(diff) = instrument_errors::catalog::diff(&expected, &actual) {
        panic!("the telemetry catalog changed (UPDATE_TELEMETRY_CATALOG=1 to accept):\n{diff}");
    }
}
