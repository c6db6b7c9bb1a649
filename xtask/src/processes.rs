//! The processes the benches start and stop: the relay, the emulator and
//! nginx, each announced on stdout or configured in a scratch directory.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};

use crate::tools::Toolchain;

/// The API key the benches' emulators accept and their relays send.
pub const KEY: &str = "bench-key-7f3a";

/// A child process that is stopped when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    /// SIGTERM first, so nginx's master stops its workers (SIGKILL would
    /// orphan them); SIGKILL if it is still there after a few seconds.
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    /// CPU time (user and system, in clock ticks) this process and its
    /// children spent so far: nginx's master and its workers, say.
    pub fn cpu_ticks(&self) -> anyhow::Result<u64> {
        let pid = self.0.id();
        let mut ticks = 0;
        for entry in std::fs::read_dir("/proc")? {
            let Ok(stat) = std::fs::read_to_string(entry?.path().join("stat")) else { continue };
            // Fields after the command, whose name may hold spaces and parentheses.
            let Some((head, fields)) = stat.rsplit_once(')') else { continue };
            let fields: Vec<&str> = fields.split_whitespace().collect();
            let own_pid = head.split_whitespace().next().and_then(|pid| pid.parse::<u32>().ok());
            let parent = fields.get(1).and_then(|pid| pid.parse::<u32>().ok());
            if own_pid == Some(pid) || parent == Some(pid) {
                let field = |index: usize| fields.get(index).and_then(|ticks| ticks.parse::<u64>().ok());
                // utime and stime: fields 14 and 15 of stat, 12 and 13 after the command.
                ticks += field(11).context("no utime")? + field(12).context("no stime")?;
            }
        }
        Ok(ticks)
    }

    pub fn peak_resident_megabytes(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:")).context("no VmHWM")?;
        let kilobytes: f64 = line.split_whitespace().nth(1).context("no value")?.parse()?;
        Ok(kilobytes / 1024.0)
    }
}

/// Starts `command` and waits for the line starting with `prefix` on its
/// stdout, returning what follows it.
pub fn start_announcing(mut command: Command, prefix: &str) -> anyhow::Result<(Running, String)> {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().context("cannot start")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let running = Running(child);
    for line in BufReader::new(stdout).lines() {
        if let Some(rest) = line?.strip_prefix(prefix) {
            return Ok((running, rest.trim_end_matches('/').to_owned()));
        }
    }
    bail!("the process ended without printing `{prefix}`")
}

/// The relay built in `binaries` with `config`, sending the benches' key,
/// logging at warn, keeping its data in `data_dir`, with `env` besides.
pub fn start_relay(
    binaries: &Path,
    config: &Path,
    data_dir: &Path,
    env: &[(&str, &str)],
) -> anyhow::Result<(Running, String)> {
    let mut relay = Command::new(binaries.join("billing-relay"));
    relay
        .arg("--config")
        .arg(config)
        .env("BENCH_KEY", KEY)
        .env("RUST_LOG", "warn")
        .env("BILLING_DATA_DIR", data_dir)
        .envs(env.iter().copied());
    start_announcing(relay, "billing-relay listening on ")
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// nginx with `dir/nginx.conf`, in the foreground so it stops with us.
pub fn start_nginx(toolchain: &Toolchain, dir: &Path) -> anyhow::Result<Running> {
    let nginx = toolchain
        .command("nginx")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start nginx")?;
    Ok(Running(nginx))
}

/// An nginx configuration whose files all go to `dir`; `http` is the rest
/// of its `http` block, with the block's closing brace.
pub fn nginx_config_in(dir: &Path, http: &str) -> String {
    let dir = dir.display();
    format!(
        r#"worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
{http}"#
    )
}
