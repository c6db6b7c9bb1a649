//! Installs the pinned toolchain when missing, idempotently: each tool is
//! checked by its `--version` and only installed when that does not match.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

use crate::cmd::{self, first_line_of, workspace_root};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// 0.22 needs a newer rustc than our machines have.
const TRUNK_VERSION: &str = "0.21.14";
/// Debian's binaryen (108) builds an app whose page stays blank.
const BINARYEN_NPM: &str = "binaryen@132.0.0";
/// The accessibility rules the browser tests audit the page with.
const AXE_CORE_NPM: &str = "axe-core@4.14.1";
/// The OpenID Connect provider of `serve --sign-in` and the sign-in tests.
const OIDC_PROVIDER_NPM: &str = "oidc-provider@9.13.3";
const WASM_OPT_VERSION: &str = "version 132";
/// What cuts the app's wasm into parts loaded as needed (xtask/src/page.rs).
const WASM_SPLIT_CRATE: &str = "wasm_split_cli_support";
const WASM_SPLIT_VERSION: &str = "0.2.4";
/// wasm-opt validates against the wasm MVP unless told which features
/// rustc emits by default; index.html gives trunk the same for the worker.
pub const WASM_OPT_FEATURES: [&str; 7] = [
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// What the task at hand needs installed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Building the app.
    Build,
    /// Building it and testing it in headless Chromium.
    BuildAndBrowser,
}

/// The installed tools, the PATH that reaches them, and the temporary
/// directory the commands they run are given.
pub struct Toolchain {
    path: OsString,
    scratch: PathBuf,
}

impl Toolchain {
    pub fn ensure(needs: Needs) -> anyhow::Result<Self> {
        let toolchain = Self { path: search_path()?, scratch: scratch_dir()? };
        toolchain.ensure_wasm_target()?;
        toolchain.ensure_trunk()?;
        toolchain.ensure_wasm_bindgen()?;
        toolchain.ensure_wasm_opt()?;
        toolchain.cache_wasm_opt()?;
        toolchain.ensure_wasm_split()?;
        if needs == Needs::BuildAndBrowser {
            toolchain.ensure_chromium()?;
            toolchain.ensure_npm_package(AXE_CORE_NPM)?;
        }
        Ok(toolchain)
    }

    /// oidc-provider from npm, for a real sign-in on loopback.
    pub fn ensure_oidc_provider(&self) -> anyhow::Result<()> {
        self.ensure_npm_package(OIDC_PROVIDER_NPM)
    }

    /// A command run from the workspace root with the tools on its PATH.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.current_dir(workspace_root()).env("PATH", &self.path).env("TMPDIR", &self.scratch);
        command
    }

    fn version_of(&self, program: &str) -> Option<String> {
        first_line_of(self.command(program).arg("--version"))
    }

    fn ensure_wasm_target(&self) -> anyhow::Result<()> {
        let installed = self
            .command("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .context("cannot run rustup: install Rust through rustup")?;
        if String::from_utf8_lossy(&installed.stdout).lines().any(|line| line.trim() == WASM_TARGET) {
            println!("xtask: ok   {WASM_TARGET} target");
            return Ok(());
        }
        println!("xtask: installing the {WASM_TARGET} target (rustup, under a minute)");
        cmd::run(self.command("rustup").args(["target", "add", WASM_TARGET]))
    }

    fn ensure_trunk(&self) -> anyhow::Result<()> {
        let wanted = format!("trunk {TRUNK_VERSION}");
        if self.version_of("trunk").as_deref() == Some(wanted.as_str()) {
            println!("xtask: ok   {wanted}");
            return Ok(());
        }
        println!("xtask: installing {wanted} (cargo install, about 10 minutes on a cold machine)");
        self.cargo_install("trunk", TRUNK_VERSION, &["--locked"])
    }

    fn ensure_wasm_bindgen(&self) -> anyhow::Result<()> {
        let version = locked_wasm_bindgen_version()?;
        check_trunk_pin("wasm_bindgen", &version)?;
        let matches = |program| {
            self.version_of(program)
                .is_some_and(|line| line.split_whitespace().nth(1) == Some(version.as_str()))
        };
        if matches("wasm-bindgen") && matches("wasm-bindgen-test-runner") {
            println!("xtask: ok   wasm-bindgen-cli {version}");
            return Ok(());
        }
        println!(
            "xtask: installing wasm-bindgen-cli {version}, the version in Cargo.lock (cargo install, about 4 minutes)"
        );
        // Not --locked: one of its locked dependencies is missing from the registry mirror.
        self.cargo_install("wasm-bindgen-cli", &version, &["--force"])
    }

    fn ensure_wasm_split(&self) -> anyhow::Result<()> {
        let wanted = format!("{WASM_SPLIT_CRATE} v{WASM_SPLIT_VERSION}:");
        let listed = self
            .command("cargo")
            .args(["install", "--list"])
            .output()
            .context("cannot run cargo install --list")?;
        if String::from_utf8_lossy(&listed.stdout).lines().any(|line| line == wanted) {
            println!("xtask: ok   wasm-split-cli ({WASM_SPLIT_CRATE} {WASM_SPLIT_VERSION})");
            return Ok(());
        }
        println!(
            "xtask: installing wasm-split-cli ({WASM_SPLIT_CRATE} {WASM_SPLIT_VERSION}, cargo install, about 2 minutes)"
        );
        self.cargo_install(WASM_SPLIT_CRATE, WASM_SPLIT_VERSION, &["--features", "build-binary", "--locked"])
    }

    /// `cargo install` of `krate` at `version`, with `flags`.
    fn cargo_install(&self, krate: &str, version: &str, flags: &[&str]) -> anyhow::Result<()> {
        cmd::run(self.command("cargo").args(["install", krate, "--version", version]).args(flags))
    }

    fn ensure_wasm_opt(&self) -> anyhow::Result<()> {
        if self.version_of("wasm-opt").is_some_and(|line| line.contains(WASM_OPT_VERSION)) {
            println!("xtask: ok   wasm-opt {WASM_OPT_VERSION}");
            return Ok(());
        }
        let dir = tools_dir()?;
        println!("xtask: installing wasm-opt from npm's {BINARYEN_NPM} into {} (seconds)", dir.display());
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        cmd::run(
            self.command("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(&dir)
                .arg(BINARYEN_NPM),
        )
        .context("wasm-opt comes from npm: install Node.js and npm (apt-get install nodejs npm)")?;
        match self.version_of("wasm-opt") {
            Some(line) if line.contains(WASM_OPT_VERSION) => Ok(()),
            other => bail!("wasm-opt still reports {other:?} after installing {BINARYEN_NPM}"),
        }
    }

    /// Puts a `wasm-opt` in front of npm's that answers an input it has
    /// optimised before from a cache: trunk runs wasm-opt on every build, and
    /// -O3 over the worker, which a change to the page leaves as it was,
    /// takes minutes on these machines.
    fn cache_wasm_opt(&self) -> anyhow::Result<()> {
        let script =
            cached_wasm_opt_script(&tools_dir()?.join("node_modules/.bin/wasm-opt"), &wasm_opt_cache()?);
        let dir = cached_tools_dir()?;
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let wrapper = dir.join("wasm-opt");
        if std::fs::read_to_string(&wrapper).ok().as_deref() != Some(script.as_str()) {
            std::fs::write(&wrapper, &script)
                .with_context(|| format!("cannot write {}", wrapper.display()))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))?;
        }
        Ok(())
    }

    /// Installs `package@version` from npm into the tools directory unless
    /// that version is there.
    fn ensure_npm_package(&self, package: &str) -> anyhow::Result<()> {
        let (name, version) = package.rsplit_once('@').expect("name@version");
        let manifest = tools_dir()?.join("node_modules").join(name).join("package.json");
        let installed = std::fs::read_to_string(&manifest)
            .ok()
            .and_then(|manifest| serde_json::from_str::<serde_json::Value>(&manifest).ok())
            .is_some_and(|manifest| manifest["version"] == version);
        if installed {
            println!("xtask: ok   {package}");
            return Ok(());
        }
        let dir = tools_dir()?;
        println!("xtask: installing {package} from npm into {} (seconds)", dir.display());
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        cmd::run(
            self.command("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(&dir)
                .arg(package),
        )
        .with_context(|| {
            format!("{name} comes from npm: install Node.js and npm (apt-get install nodejs npm)")
        })
    }

    fn ensure_chromium(&self) -> anyhow::Result<()> {
        if let (Some(browser), Some(driver)) = (self.version_of("chromium"), self.version_of("chromedriver"))
        {
            println!("xtask: ok   {browser}, {driver}");
            return Ok(());
        }
        self.install_debian_packages(&["chromium", "chromium-driver"])
    }

    /// Installs the Debian packages providing `programs` (program, package)
    /// that are not on PATH.
    pub fn ensure_debian_programs(&self, programs: &[(&str, &str)]) -> anyhow::Result<()> {
        let missing: Vec<&str> = programs
            .iter()
            .filter(|(program, _)| !self.on_path(program))
            .map(|(_, package)| *package)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        self.install_debian_packages(&missing)
    }

    /// Debian's PostgreSQL for the tests' throwaway clusters, and (as
    /// root) the user they run as, since the server refuses root.
    pub fn ensure_postgres(&self) -> anyhow::Result<()> {
        if postgres_bin().is_err() {
            self.install_debian_packages(&["postgresql"])?;
        }
        let user_exists =
            Command::new("id").arg(POSTGRES_USER).output().is_ok_and(|output| output.status.success());
        if is_root() && !user_exists {
            println!("xtask: adding the system user {POSTGRES_USER} for the tests' PostgreSQL clusters");
            cmd::run(Command::new("useradd").args([
                "--system",
                "-M",
                "-s",
                "/usr/sbin/nologin",
                POSTGRES_USER,
            ]))?;
        }
        Ok(())
    }

    fn on_path(&self, program: &str) -> bool {
        std::env::split_paths(&self.path)
            .chain(["/usr/sbin".into(), "/sbin".into()])
            .any(|dir| dir.join(program).is_file())
    }

    fn install_debian_packages(&self, packages: &[&str]) -> anyhow::Result<()> {
        let list = packages.join(" ");
        println!("xtask: installing Debian's {list} (apt-get, about a minute)");
        cmd::run(self.command("apt-get").arg("update")).with_context(|| {
            format!("installing {list} needs root: run `apt-get update && apt-get install -y {list}`")
        })?;
        cmd::run(
            self.command("apt-get")
                .args(["install", "-y", "--no-install-recommends"])
                .args(packages)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    }
}

/// Who the tests' PostgreSQL clusters run as (crates/relay/tests/support/postgres.rs).
pub const POSTGRES_USER: &str = "billing-pg";

pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// The newest installed PostgreSQL's programs.
pub fn postgres_bin() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed")?
        .flatten()
        .map(|version| version.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().context("PostgreSQL is not installed")
}

/// A `wasm-opt` that keeps each output under a hash of the input, the
/// arguments (paths aside) and the real wasm-opt's version, and copies it
/// back for the same again; anything it does not recognise goes straight
/// to the real one. The newest 256 outputs are kept (the split app alone
/// is some 60 files).
const WASM_OPT_CACHE_SCRIPT: &str = r#"#!/bin/sh
# Written by `cargo xtask` (xtask/src/tools.rs): wasm-opt with a cache.
set -eu
real="@REAL@"
cache="@CACHE@"
input=""
output=""
key_args=""
expect_output=""
for arg in "$@"; do
    if [ -n "$expect_output" ]; then output="$arg"; expect_output=""; continue; fi
    case "$arg" in
        -o|--output) expect_output=1; continue ;;
        --output=*) output="${arg#--output=}"; continue ;;
    esac
    if [ -z "$input" ] && [ -f "$arg" ]; then input="$arg"; continue; fi
    key_args="$key_args $arg"
done
if [ -z "$input" ] || [ -z "$output" ]; then exec "$real" "$@"; fi
key=$({ "$real" --version; printf '%s
' "$key_args"; cat "$input"; } | sha256sum | cut -d ' ' -f 1)
if [ -f "$cache/$key.wasm" ]; then
    cp "$cache/$key.wasm" "$output"
    touch "$cache/$key.wasm"
    exit 0
fi
"$real" "$@"
mkdir -p "$cache"
cp "$output" "$cache/$key.wasm.$$"
mv "$cache/$key.wasm.$$" "$cache/$key.wasm"
ls -t "$cache"/*.wasm | tail -n +257 | xargs -r rm -f
"#;

/// The cached wasm-opt in front of `real`, keeping its outputs in `cache`.
fn cached_wasm_opt_script(real: &Path, cache: &Path) -> String {
    WASM_OPT_CACHE_SCRIPT
        .replace("@REAL@", &real.display().to_string())
        .replace("@CACHE@", &cache.display().to_string())
}

impl Drop for Toolchain {
    fn drop(&mut self) {
        // Best effort: a run stopped before this is cleared by the next one.
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// A temporary directory of this run's own under `target/tmp`, after
/// clearing those of runs whose process is gone. A browser the tests stop
/// leaves its profile (up to 130 MB) in the temporary directory, and a
/// dozen test runs filled the disk with them under `/tmp`.
fn scratch_dir() -> anyhow::Result<PathBuf> {
    let parent = workspace_root().join("target/tmp");
    for entry in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
        let pid = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = parent.join(std::process::id().to_string());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Where the built app's compressed copies are cached (xtask/src/precompress.rs).
pub fn precompressed_cache() -> anyhow::Result<PathBuf> {
    Ok(tools_dir()?.join("precompressed"))
}

/// Where the cached wasm-opt keeps its outputs.
fn wasm_opt_cache() -> anyhow::Result<PathBuf> {
    Ok(tools_dir()?.join("wasm-opt-cache"))
}

/// Our wrappers, first on PATH.
fn cached_tools_dir() -> anyhow::Result<PathBuf> {
    Ok(tools_dir()?.join("cached-bin"))
}

/// npm-installed tools live outside the clone, so fresh clones reuse them.
fn tools_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("BILLING_TOOLS_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").context("HOME is not set; set BILLING_TOOLS_DIR instead")?;
    Ok(Path::new(&home).join(".cache/billing-portal/tools"))
}

/// Where npm put oidc-provider; `xtask/oidc/provider.mjs` loads it from there.
pub fn node_modules() -> anyhow::Result<PathBuf> {
    Ok(tools_dir()?.join("node_modules"))
}

/// axe-core's browser build, which the browser tests inject into the page.
pub fn axe_core_script() -> anyhow::Result<PathBuf> {
    Ok(tools_dir()?.join("node_modules/axe-core/axe.min.js"))
}

/// The caller's PATH with cargo's bin directory and our npm tools in front.
fn search_path() -> anyhow::Result<OsString> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let entries = [cached_tools_dir()?, tools_dir()?.join("node_modules/.bin"), cargo_home.join("bin")]
        .into_iter()
        .chain(std::env::split_paths(&inherited));
    std::env::join_paths(entries).context("PATH cannot hold the tools directory")
}

/// wasm-bindgen's version in Cargo.lock: the CLI must match it exactly.
fn locked_wasm_bindgen_version() -> anyhow::Result<String> {
    let lock_path = workspace_root().join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("cannot read {}", lock_path.display()))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            let version = lines
                .next()
                .and_then(|line| line.strip_prefix("version = \""))
                .and_then(|rest| rest.strip_suffix('"'));
            if let Some(version) = version {
                return Ok(version.to_owned());
            }
        }
    }
    bail!("Cargo.lock has no wasm-bindgen package")
}

/// Fails when Trunk.toml pins `tool` to anything but `version`, since trunk
/// would otherwise try to download the pinned one.
fn check_trunk_pin(tool: &str, version: &str) -> anyhow::Result<()> {
    let trunk_toml =
        std::fs::read_to_string(workspace_root().join("Trunk.toml")).context("cannot read Trunk.toml")?;
    let expected = format!("{tool} = \"{version}\"");
    if trunk_toml.lines().any(|line| line.trim() == expected) {
        return Ok(());
    }
    bail!("Trunk.toml must pin `{expected}` under [tools] to match Cargo.lock")
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A wasm-opt stand-in that counts its runs and "optimises" by
    /// appending its level to the input.
    const STAND_IN: &str = r#"#!/bin/sh
set -eu
if [ "$1" = "--version" ]; then echo "wasm-opt version 132"; exit 0; fi
echo run >> "$(dirname "$0")/runs"
output="${1#--output=}"
cat "$3" > "$output"
printf '%s' "$2" >> "$output"
"#;

    fn executable(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_cached_wasm_opt_runs_the_real_one_once_per_input_and_level() {
        let dir = std::env::temp_dir().join(format!("xtask-wasm-opt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (real, wrapper) = (dir.join("real-wasm-opt"), dir.join("wasm-opt"));
        executable(&real, STAND_IN);
        executable(&wrapper, &cached_wasm_opt_script(&real, &dir.join("cache")));
        let input = dir.join("worker_bg.wasm");
        let optimise = |level: &str, output: &str| {
            let output = dir.join(output);
            let status = Command::new(&wrapper)
                .arg(format!("--output={}", output.display()))
                .arg(level)
                .arg(&input)
                .arg("--enable-bulk-memory")
                .status()
                .unwrap();
            assert!(status.success());
            std::fs::read_to_string(output).unwrap()
        };
        let runs = || std::fs::read_to_string(dir.join("runs")).unwrap_or_default().lines().count();
        std::fs::write(&input, "module-1").unwrap();
        assert_eq!(optimise("-O3", "first.wasm"), "module-1-O3");
        assert_eq!(optimise("-O3", "second.wasm"), "module-1-O3", "the same bytes from the cache");
        assert_eq!(runs(), 1, "the real wasm-opt ran once");
        assert_eq!(optimise("-Oz", "third.wasm"), "module-1-Oz", "another level is another output");
        std::fs::write(&input, "module-2").unwrap();
        assert_eq!(optimise("-O3", "fourth.wasm"), "module-2-O3", "a changed input is optimised anew");
        assert_eq!(runs(), 3);
        let version = Command::new(&wrapper).arg("--version").output().unwrap();
        assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), "wasm-opt version 132");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
