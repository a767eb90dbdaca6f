//! The local AWS: moto server from the project's venv, on a loopback port, dying with us.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum EmulatorError {
    #[error("no emulator at {0}: run `make venv` (or `infra/scripts/venv.sh`) to install moto")]
    NotInstalled(PathBuf),
    #[error("could not start moto_server: {0}")]
    Spawn(std::io::Error),
    #[error("moto_server did not listen on 127.0.0.1:{0} within 30 s (see {1})")]
    NotListening(u16, PathBuf),
    #[error("127.0.0.1:{0} is already in use: {1}")]
    PortInUse(u16, String),
}

/// A running moto server; stopped when dropped. It is spawned from a keeper thread that lives
/// as long as the server, so if this process dies the kernel stops it too (PR_SET_PDEATHSIG
/// fires when the *thread* that forked the child exits).
pub struct Moto {
    pid: u32,
    pub port: u16,
    keeper: Option<JoinHandle<()>>,
}

impl Moto {
    /// Starts moto under `root` on `port` (0: any free port), logging to `log`, through
    /// `infra/scripts/moto_server.py` (DynamoDB transactions made atomic; see there).
    pub fn start(root: &Path, port: u16, log: &Path) -> Result<Moto, EmulatorError> {
        let python = root.join(".venv/bin/python3");
        let launcher = root.join("infra/scripts/moto_server.py");
        let installed = root.join(".venv/bin/moto_server");
        if !installed.exists() {
            return Err(EmulatorError::NotInstalled(installed));
        }
        let port = if port == 0 { free_port() } else { port };
        if let Err(e) = TcpListener::bind(("127.0.0.1", port)) {
            return Err(EmulatorError::PortInUse(port, e.to_string()));
        }
        let log_file = std::fs::File::create(log).map_err(EmulatorError::Spawn)?;
        let (sender, receiver) = mpsc::channel();
        let keeper = std::thread::spawn(move || {
            let mut command = Command::new(python);
            command
                .arg(launcher)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(log_file);
            // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                    Ok(())
                });
            }
            match command.spawn() {
                Ok(mut child) => {
                    let _ = sender.send(Ok(child.id()));
                    let _ = child.wait();
                }
                Err(e) => {
                    let _ = sender.send(Err(e));
                }
            }
        });
        let pid = receiver
            .recv()
            .map_err(|e| EmulatorError::Spawn(std::io::Error::other(e)))?
            .map_err(EmulatorError::Spawn)?;
        let moto = Moto {
            pid,
            port,
            keeper: Some(keeper),
        };
        if !wait_until_listening(port, Duration::from_secs(30)) {
            return Err(EmulatorError::NotListening(port, log.to_path_buf()));
        }
        Ok(moto)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's resident memory (Linux), for the replay's report.
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // SAFETY: sending a signal to our own child's pid.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

pub fn wait_until_listening(port: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}
