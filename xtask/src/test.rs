//! `cargo xtask test`: every check in order, stopping at the first failure,
//! ending with one line of passed and failed counts. The native tests run
//! beside the end-to-end tests, their output shown when they are done.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, ExitCode, Stdio},
    thread::JoinHandle,
    time::Instant,
};

use anyhow::Context;

use crate::{
    cmd::workspace_root,
    tools::{Needs, Toolchain},
};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    /// Adds libtest's (and wasm-bindgen-test-runner's) `test result:` line.
    fn count(&mut self, line: &str) {
        let Some(result) = line.trim().strip_prefix("test result: ") else { return };
        for part in result.split([';', '.']) {
            let mut words = part.split_whitespace();
            if let (Some(number), Some(kind)) = (words.next(), words.next())
                && let Ok(number) = number.parse::<u64>()
            {
                match kind {
                    "passed" => self.passed += number,
                    "failed" => self.failed += number,
                    _ => {}
                }
            }
        }
    }
}

pub fn run() -> ExitCode {
    let started = Instant::now();
    let mut tally = Tally::default();
    let outcome = run_steps(&mut tally);
    if let Err(error) = &outcome {
        eprintln!("xtask: {error:#}");
        // A failing step that ran no counted test (fmt, clippy, a build) still fails.
        tally.failed = tally.failed.max(1);
    }
    println!("xtask: finished in {:.0?}", started.elapsed());
    println!("test: {} passed, {} failed", tally.passed, tally.failed);
    if outcome.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn run_steps(tally: &mut Tally) -> anyhow::Result<()> {
    let toolchain = Toolchain::ensure(Needs::BuildAndBrowser)?;
    toolchain.ensure_oidc_provider()?;
    // The hosting tests run the real thing on loopback: shared sessions in
    // Redis, nginx with TLS in front of two relays.
    toolchain.ensure_debian_programs(&[
        ("redis-server", "redis-server"),
        ("nginx", "nginx"),
        ("openssl", "openssl"),
        // The README's month-end script, run as written.
        ("curl", "curl"),
        ("jq", "jq"),
        // Scheduled runs tell people by e-mail: a real SMTP server.
        ("aiosmtpd", "python3-aiosmtpd"),
    ])?;
    // The archive's suite runs on SQLite and on a real PostgreSQL.
    toolchain.ensure_postgres()?;
    let node_modules = crate::tools::node_modules()?;
    let cargo = |args: &[&str]| {
        let mut command = toolchain.command("cargo");
        command.args(args).env("BILLING_OIDC_PROVIDER_MODULES", &node_modules);
        command
    };

    step("formatting", tally, cargo(&["fmt", "--all", "--check"]))?;
    step(
        "clippy, native",
        tally,
        cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
    )?;
    step(
        "clippy, wasm",
        tally,
        cargo(&[
            "clippy",
            "--package",
            "billing-portal",
            "--package",
            "worker",
            "--target",
            WASM_TARGET,
            "--all-targets",
            // The page as built: its parts behind split points.
            "--features",
            "billing-portal/split",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // Built now, run beside the end-to-end tests: they wait on processes
    // and sockets more than they use the processor.
    let native_tests = ["test", "--workspace", "--exclude", "billing-portal", "--exclude", "worker"];
    step("native tests' build", tally, cargo(&[&native_tests[..], &["--no-run"]].concat()))?;
    step(
        "native tests of the app's pure code",
        tally,
        cargo(&["test", "--package", "billing-portal", "--lib"]),
    )?;
    // The runner drives headless Chromium through chromedriver on its own.
    // On a loaded machine chromedriver is sometimes killed before it binds
    // its port; that run tested nothing, so it is started once more.
    let wasm_tests = || cargo(&["test", "--package", "billing-portal", "--target", WASM_TARGET]);
    let name = "wasm-bindgen tests in headless Chromium";
    if let Err(error) = step(name, tally, wasm_tests()) {
        if !matches!(error.downcast_ref::<StepFailed>(), Some(failed) if failed.before_any_test && failed.said(DRIVER_STARTUP_FLAKE))
        {
            return Err(error);
        }
        println!("xtask: chromedriver did not start ({DRIVER_STARTUP_FLAKE}); starting the step once more");
        step(name, tally, wasm_tests())?;
    }

    crate::page::build_app(&toolchain)?;
    let root = workspace_root();
    // The native tests built it for the relay's own binary tests, with the
    // features they unify; building it again alone would rebuild its
    // dependencies with fewer features, for nothing.
    let relay = root.join("target/debug/billing-relay");
    anyhow::ensure!(relay.is_file(), "the native tests did not build {}", relay.display());
    let end_to_end_tests = ["test", "--package", "billing-portal", "--test", "e2e", "--test", "sign_in"];
    step("end-to-end tests' build", tally, cargo(&[&end_to_end_tests[..], &["--no-run"]].concat()))?;
    let mut end_to_end = cargo(&end_to_end_tests);
    end_to_end
        .env("BILLING_RELAY_BIN", &relay)
        .env("BILLING_VENDOR_BIN", root.join("target/debug/vendor-sim"))
        .env("BILLING_APP_DIR", root.join("dist"))
        .env("BILLING_AXE_SCRIPT", crate::tools::axe_core_script()?);
    // Started only once nothing can fail before both are waited for.
    let native = Running::start("native tests", cargo(&native_tests), Echo::WhenDone)?;
    let end_to_end = step("end-to-end tests in headless Chromium", tally, end_to_end);
    // Either may have failed: both are reported before the first failure ends the run.
    let native = native.finish(tally);
    end_to_end.and(native)
}

/// What wasm-bindgen-test-runner says when chromedriver died before it
/// bound its port.
const DRIVER_STARTUP_FLAKE: &str = "driver failed to bind port during startup";

/// A step that ran and failed: what it wrote to stderr, and whether any
/// test had reported before.
#[derive(Debug, thiserror::Error)]
#[error("{name} failed ({status})")]
struct StepFailed {
    name: String,
    status: std::process::ExitStatus,
    stderr: String,
    before_any_test: bool,
}

impl StepFailed {
    fn said(&self, words: &str) -> bool {
        self.stderr.contains(words)
    }
}

/// Runs one step, echoing its output and counting the tests it reports.
fn step(name: &str, tally: &mut Tally, command: Command) -> anyhow::Result<()> {
    Running::start(name, command, Echo::AsItComes)?.finish(tally)
}

/// When a running step's output is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Echo {
    AsItComes,
    /// Kept until the step is waited for: it runs beside other steps,
    /// whose output it would break into.
    WhenDone,
}

/// A step's command, started; stopped if dropped before it is waited for.
struct Running {
    name: String,
    started: Instant,
    echo: Echo,
    child: Option<Child>,
    stdout: Option<JoinHandle<Vec<String>>>,
    stderr: Option<JoinHandle<Vec<String>>>,
}

impl Running {
    fn start(name: &str, mut command: Command, echo: Echo) -> anyhow::Result<Self> {
        match echo {
            Echo::AsItComes => println!("xtask: ── {name}"),
            Echo::WhenDone => println!("xtask: ── {name}: started, shown when done"),
        }
        let started = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start the {name} step"))?;
        let (on_stdout, on_stderr): (OnLine, OnLine) = match echo {
            Echo::AsItComes => (|line| println!("{line}"), |line| eprintln!("{line}")),
            Echo::WhenDone => (|_| {}, |_| {}),
        };
        let stdout = keep_lines(child.stdout.take().expect("stdout is piped"), on_stdout);
        // Kept to tell a known startup failure, and to show a step run beside others.
        let stderr = keep_lines(child.stderr.take().expect("stderr is piped"), on_stderr);
        Ok(Self {
            name: name.to_owned(),
            started,
            echo,
            child: Some(child),
            stdout: Some(stdout),
            stderr: Some(stderr),
        })
    }

    /// Waits for the step, counting the tests it reports.
    fn finish(mut self, tally: &mut Tally) -> anyhow::Result<()> {
        let status = self.child.take().expect("waited for once").wait()?;
        let stdout = self.stdout.take().expect("waited for once").join().unwrap_or_default();
        let stderr: String = self
            .stderr
            .take()
            .expect("waited for once")
            .join()
            .unwrap_or_default()
            .into_iter()
            .map(|line| line + "\n")
            .collect();
        let name = &self.name;
        if self.echo == Echo::WhenDone {
            println!("xtask: ── {name}, run beside the steps above:");
            eprint!("{stderr}");
            stdout.iter().for_each(|line| println!("{line}"));
        }
        let reported_before = tally.passed + tally.failed;
        stdout.iter().for_each(|line| tally.count(line));
        println!(
            "xtask: ── {name}: {} in {:.1?}",
            if status.success() { "ok" } else { "FAILED" },
            self.started.elapsed()
        );
        if !status.success() {
            let before_any_test = tally.passed + tally.failed == reported_before;
            return Err(StepFailed { name: name.clone(), status, stderr, before_any_test }.into());
        }
        Ok(())
    }
}

/// What is done with a line of a step's output as it comes.
type OnLine = fn(&str);

/// Reads `output` line by line on a thread of its own, each line given to
/// `echo` as it comes and all of them kept.
fn keep_lines(output: impl Read + Send + 'static, echo: OnLine) -> JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            echo(&line);
            kept.push(line);
        }
        kept
    })
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{DRIVER_STARTUP_FLAKE, Echo, Running, StepFailed, Tally, step};

    fn failing_step(script: &str) -> StepFailed {
        let mut command = std::process::Command::new("sh");
        command.args(["-c", script]);
        let error = step("a step", &mut Tally::default(), command).expect_err("it fails");
        error.downcast::<StepFailed>().expect("a step that ran and failed")
    }

    #[test]
    fn a_failed_step_keeps_its_stderr_and_whether_a_test_had_reported() {
        let flake = failing_step(&format!("echo '{DRIVER_STARTUP_FLAKE}' >&2; exit 1"));
        assert!(flake.before_any_test && flake.said(DRIVER_STARTUP_FLAKE));
        let failed_tests = failing_step(&format!(
            "echo 'test result: FAILED. 1 passed; 1 failed; 0 ignored'; echo '{DRIVER_STARTUP_FLAKE}' >&2; exit 1"
        ));
        assert!(!failed_tests.before_any_test, "tests ran: not retried");
    }

    #[test]
    fn a_step_run_beside_others_is_counted_when_done_and_stopped_if_left() {
        let mut tally = Tally::default();
        let mut command = std::process::Command::new("sh");
        command.args(["-c", "echo 'test result: ok. 3 passed; 0 failed'; echo 'a warning' >&2"]);
        let running = Running::start("beside", command, Echo::WhenDone).unwrap();
        assert_eq!(tally.passed, 0);
        running.finish(&mut tally).unwrap();
        assert_eq!((tally.passed, tally.failed), (3, 0));

        let mut command = std::process::Command::new("sleep");
        command.arg("600");
        let running = Running::start("left", command, Echo::WhenDone).unwrap();
        let pid = running.child.as_ref().unwrap().id();
        drop(running);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        assert!(!status.contains("State:\tS"), "the left step's process is gone: {status}");
    }

    #[test]
    fn counts_libtest_and_wasm_runner_result_lines() {
        let mut tally = Tally::default();
        tally.count(
            "test result: ok. 4 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s",
        );
        tally.count("test result: FAILED. 2 passed; 3 failed; 1 ignored; 0 filtered out; finished in 0.20s");
        tally.count("running 4 tests");
        tally.count("test passed_and_failed_names ... ok");
        assert_eq!((tally.passed, tally.failed), (6, 3));
    }
}
