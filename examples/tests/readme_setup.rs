//! The README's setup as a new user copies it: a fresh crate, outside this
//! workspace, whose `Cargo.toml` has exactly the README's `[dependencies]`
//! block and whose `main.rs` is the README's quickstart and setup code, must
//! build.
//!
//! To keep it cheap, the crate builds in this workspace's target directory
//! (`<target>/readme-setup`, a directory of its own so that its different
//! feature set does not rebuild the workspace's artifacts), offline, with this
//! workspace's `Cargo.lock` (the same versions, already downloaded), and a
//! `[patch.crates-io]` pointing `instrument-errors` and
//! `instrument-errors-macros` at the local crates.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The fenced code blocks of `markdown`, with their info strings.
fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some(_)) => blocks.extend(current.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// A rustdoc block as the compiler sees it: hidden lines (`# code`) shown.
fn unhide(block: &str) -> String {
    block
        .lines()
        .map(|line| match line.trim_start() {
            "#" => "",
            l if l.starts_with("# ") => &l[2..],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned()
}

#[test]
fn the_readme_setup_builds_as_a_new_crate() {
    let root = workspace();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let setup_at = readme.find("\n## Setup\n").expect("a Setup section");
    let blocks = code_blocks(&readme);
    let setup = code_blocks(&readme[setup_at..]);

    // The README's setup opens with the `[dependencies]` block to copy.
    let (info, dependencies) = &setup[0];
    assert_eq!(info, "toml");
    assert!(
        dependencies.starts_with("[dependencies]\n"),
        "{dependencies}"
    );
    for krate in [
        "instrument-errors",
        "opentelemetry",
        "opentelemetry_sdk",
        "opentelemetry-otlp",
        "opentelemetry-appender-tracing",
        "tracing-subscriber",
    ] {
        assert!(
            dependencies.contains(&format!("\n{krate} = ")),
            "{krate} is missing from\n{dependencies}"
        );
    }
    let (info, setup_code) = &setup[1];
    assert!(info.starts_with("rust"), "{info}");
    assert!(setup_code.contains("fn main()"), "{setup_code}");
    let (info, quickstart) = &blocks[0];
    assert_eq!(info, "rust");

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .expect("the target directory")
                .to_owned()
        });
    let target = if target.is_absolute() {
        target
    } else {
        root.join(target)
    };
    // Outside the workspace: a temporary directory.
    let dir = std::env::temp_dir().join(format!("ie-readme-setup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).expect("a temporary crate");
    let manifest = format!(
        "[package]\n\
         name = \"readme-setup\"\n\
         version = \"0.0.0\"\n\
         edition = \"2021\"\n\
         publish = false\n\
         \n\
         {dependencies}\n\
         [patch.crates-io]\n\
         instrument-errors = {{ path = {runtime:?} }}\n\
         instrument-errors-macros = {{ path = {macros:?} }}\n\
         \n\
         [workspace]\n",
        runtime = root.join("runtime"),
        macros = root.join("macros"),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("Cargo.toml");
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("Cargo.lock");
    let main = format!("{}\n\n{}\n", unhide(quickstart), unhide(setup_code));
    std::fs::write(dir.join("src/main.rs"), main).expect("main.rs");

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", target.join("readme-setup"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the README's setup does not build:\n{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
