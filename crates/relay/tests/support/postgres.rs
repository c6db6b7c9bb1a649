//! A real PostgreSQL (Debian's) on a loopback port, owned by a user of its
//! own (the server refuses to run as root), that a test can stop as an
//! outage would and start again on the same port. Its cluster is copied
//! from one made by `initdb` once per machine, which takes seconds.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// The system user the tests' clusters run as when the tests run as root;
/// `cargo xtask test` creates it.
const CLUSTER_USER: &str = "billing-pg";

pub struct PostgresServer {
    pub port: u16,
    dir: tempfile::TempDir,
    running: bool,
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BILLING_PG_BIN") {
        return dir.into();
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(|entry| Some(entry.ok()?.path().join("bin"))).collect())
        .unwrap_or_default();
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed: run `cargo xtask test`, which installs Debian's postgresql")
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// Runs a PostgreSQL program as the cluster's owner.
fn as_owner(program: &str) -> Command {
    let path = bin_dir().join(program);
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", CLUSTER_USER, "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}

fn run(mut command: Command, what: &str) {
    let output = command.stdin(Stdio::null()).output().unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn chown_to_owner(path: &Path) {
    if is_root() {
        let mut command = Command::new("chown");
        command.args(["-R", &format!("{CLUSTER_USER}:")]).arg(path);
        run(command, "chown");
    }
}

/// `initdb` once per machine and PostgreSQL version, under `target/`.
fn template() -> PathBuf {
    let version = bin_dir().parent().and_then(|dir| dir.file_name()).unwrap().to_string_lossy().into_owned();
    // Test binaries live in target/<profile>/deps, whichever crate's they are.
    let exe = std::env::current_exe().unwrap();
    let root = exe.ancestors().nth(3).expect("target/<profile>/deps/<test>").join("test-postgres");
    let template = root.join(format!("template-{version}"));
    if template.join("PG_VERSION").is_file() {
        return template;
    }
    std::fs::create_dir_all(&root).unwrap();
    let building = tempfile::tempdir_in(&root).unwrap();
    let data = building.path().join("data");
    chown_to_owner(building.path());
    let mut initdb = as_owner("initdb");
    initdb.arg("-D").arg(&data).args(["-U", "billing", "--auth=trust", "--no-sync", "-E", "UTF8"]);
    run(initdb, "initdb");
    // Another test binary may have made it meanwhile; either is as good.
    let _ = std::fs::rename(&data, &template);
    template
}

impl PostgresServer {
    pub async fn start() -> Self {
        let template = tokio::task::spawn_blocking(template).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut copy = Command::new("cp");
        copy.arg("-a").arg(&template).arg(dir.path().join("data"));
        run(copy, "copying the template cluster");
        chown_to_owner(dir.path());
        let port = super::ports::free_loopback_port();
        let mut server = Self { port, dir, running: false };
        server.start_again().await;
        server
    }

    /// A new, empty database on this server.
    pub async fn database(&self, name: &str) -> String {
        let mut create = Command::new("psql");
        create
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "billing", "-d", "postgres", "-c"])
            .arg(format!("CREATE DATABASE \"{name}\""));
        tokio::task::spawn_blocking(move || run(create, "CREATE DATABASE")).await.unwrap();
        format!("postgres://billing@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops it at once, as a crash would.
    pub async fn stop(&mut self) {
        self.running = false;
        let command = self.pg_ctl(&["-m", "immediate", "stop"]);
        tokio::task::spawn_blocking(move || run(command, "pg_ctl stop")).await.unwrap();
    }

    pub async fn start_again(&mut self) {
        assert!(!self.running, "already running");
        let options = format!("-h 127.0.0.1 -p {} -k {} -c fsync=off", self.port, self.dir.path().display());
        let mut command = self.pg_ctl(&["-o", &options, "-l"]);
        command.arg(self.dir.path().join("log")).arg("start");
        tokio::task::spawn_blocking(move || run(command, "pg_ctl start")).await.unwrap();
        self.running = true;
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut command = as_owner("pg_ctl");
        command.arg("-D").arg(self.dir.path().join("data")).arg("-w").args(args);
        command
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if self.running {
            let _ = self
                .pg_ctl(&["-m", "immediate", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}
