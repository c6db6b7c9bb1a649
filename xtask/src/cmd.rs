//! Running child processes with one-line announcements.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_owned()
}

fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every file under `dir`, in its subdirectories too.
pub fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(files_under(&path)?);
        } else {
            found.push(path);
        }
    }
    Ok(found)
}

/// Runs `command` to completion, failing with its command line on a non-zero exit.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    let line = describe(command);
    println!("xtask: $ {line}");
    let status = command.status().with_context(|| format!("cannot start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    Ok(())
}

/// The first line a command prints, or `None` when it cannot be run.
pub fn first_line_of(command: &mut Command) -> Option<String> {
    let output = command.stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout).lines().next().map(str::to_owned)
}

/// Becomes `command`, so Ctrl-C and SIGTERM reach it directly.
#[cfg(unix)]
pub fn replace_process(mut command: Command) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    let line = describe(&command);
    println!("xtask: $ {line}");
    let error = command.exec();
    Err(error).with_context(|| format!("cannot start `{line}`"))
}

#[cfg(not(unix))]
pub fn replace_process(mut command: Command) -> anyhow::Result<()> {
    run(&mut command)
}
