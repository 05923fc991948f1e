//! A throwaway PostgreSQL cluster for the suites that run on both engines, started and
//! stopped by `.ci/postgres` (the same script CI uses).

use crate::{captured, root, say, tools, Result};
use std::path::PathBuf;
use std::process::Command;

/// Debian's PostgreSQL server (its binaries are not on PATH; this file comes with it).
const PACKAGE: tools::Package = tools::Package {
    name: "postgresql",
    provides: "/usr/bin/pg_ctlcluster",
};

/// A running cluster in a temporary folder; stopped and removed when dropped.
pub struct Cluster {
    dir: PathBuf,
    /// `postgres://nearmiss@127.0.0.1:PORT/postgres`.
    pub url: String,
}

impl Cluster {
    /// Installs PostgreSQL when missing, then starts a cluster on a free port.
    pub fn start() -> Result<Cluster> {
        tools::ensure_packages(&[PACKAGE])?;
        // Straight under /tmp: as root the cluster runs as `postgres`, which must reach it.
        let dir = PathBuf::from(format!("/tmp/nearmiss-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        say(&format!(
            "starting a throwaway PostgreSQL in {}",
            dir.display()
        ));
        let url = captured(
            Command::new(root().join(".ci/postgres"))
                .arg("start")
                .arg(&dir),
        )?;
        Ok(Cluster {
            dir,
            url: url.trim().to_owned(),
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let stopped = captured(
            Command::new(root().join(".ci/postgres"))
                .arg("stop")
                .arg(&self.dir),
        );
        if let Err(err) = stopped {
            say(&format!("stopping the test PostgreSQL: {err}"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
