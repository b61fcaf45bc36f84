//! A throw-away PostgreSQL cluster that really checks passwords (`scram-sha-256` for every
//! TCP login), for the tests that must prove a password logs in or does not. The shared test
//! cluster may trust every local login, where any password "works".
//!
//! Built with the server binaries of the cluster under test (`pg_config --bindir`, or
//! `WRIT_TEST_PG_BINDIR`), in a temporary directory, on a port the OS had free; started with
//! `pg_ctl -w` (which waits until it accepts connections) and stopped when dropped. As root,
//! whom `initdb` refuses, it runs as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running scratch cluster.
pub(super) struct ScratchCluster {
    /// The cluster's data directory (inside `_dir`).
    data: PathBuf,
    bindir: PathBuf,
    run_as: Option<String>,
    /// The TCP port it listens on, at 127.0.0.1.
    pub(super) port: u16,
    /// The superuser's name and password.
    pub(super) superuser: (String, String),
    _dir: tempfile::TempDir,
}

impl ScratchCluster {
    /// Starts one, or `None` (with a message) when PostgreSQL's server binaries are not here.
    pub(super) fn start() -> Option<Self> {
        let bindir = match std::env::var_os("WRIT_TEST_PG_BINDIR") {
            Some(dir) => PathBuf::from(dir),
            None => {
                let output = Command::new("pg_config").arg("--bindir").output().ok()?;
                PathBuf::from(String::from_utf8(output.stdout).ok()?.trim())
            }
        };
        if !bindir.join("initdb").exists() {
            eprintln!(
                "skipped: no initdb in `{}` (set WRIT_TEST_PG_BINDIR)",
                bindir.display()
            );
            return None;
        }
        let run_as = is_root().then(|| "postgres".to_string());
        let dir = tempfile::tempdir().expect("a temporary directory");
        if run_as.is_some() {
            chown_to_postgres(dir.path());
        }
        let data = dir.path().join("data");
        let password = uuid::Uuid::new_v4().simple().to_string();
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, &password).expect("write the password file");
        if run_as.is_some() {
            chown_to_postgres(&pwfile);
        }
        let mut cluster = Self {
            data,
            bindir,
            run_as,
            port: 0,
            superuser: ("writ_admin".to_string(), password),
            _dir: dir,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                path(&cluster.data),
                "-U",
                "writ_admin",
                "--pwfile",
                path(&pwfile),
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--no-sync",
            ],
        );
        std::fs::remove_file(&pwfile).expect("remove the password file");
        cluster.port = free_port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            cluster.port,
            path(&cluster.data)
        );
        let log = cluster.data.join("server.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                path(&cluster.data),
                "-l",
                path(&log),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        Some(cluster)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let binary = self.bindir.join(program);
        let output = match &self.run_as {
            Some(user) => Command::new("runuser")
                .args(["-u", user, "--"])
                .arg(&binary)
                .args(args)
                .output(),
            None => Command::new(&binary).args(args).output(),
        }
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for ScratchCluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let data = path(&self.data).to_string();
            self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        }
    }
}

fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn chown_to_postgres(path: &Path) {
    let id = |flag: &str| -> u32 {
        let output = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("id postgres");
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("the postgres user exists (initdb refuses to run as root)")
    };
    std::os::unix::fs::chown(path, Some(id("-u")), Some(id("-g"))).expect("chown to postgres");
}

/// A port nothing listens on right now (the OS picks it; it is released before the server
/// binds it, a window too small to matter here).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
