//! Dropping root: started as root (to bind port 53), zonal becomes the configured
//! `user` (and its group, or `group`) once its sockets are bound and before it
//! reads or writes a zone, journal or state file, so every file it makes belongs
//! to that user — as NSD's `username` and BIND's `-u` do. Under systemd the unit's
//! `User=`/`DynamicUser=` with `CAP_NET_BIND_SERVICE` does the same without root.

use std::ffi::CString;

/// Who to run as, resolved from the user database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    /// The user's name, as configured.
    pub user: String,
    /// Its user ID.
    pub uid: libc::uid_t,
    /// The group ID: the configured group's, else the user's own.
    pub gid: libc::gid_t,
}

/// Why the privileges could not be dropped; zonal does not start.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// No such user.
    #[error("user: no user '{0}' in the user database")]
    NoUser(String),
    /// No such group.
    #[error("group: no group '{0}' in the group database")]
    NoGroup(String),
    /// `user` is set, zonal is not root and not that user already.
    #[error("user = '{user}' needs zonal to be started as root (it runs as uid {uid})")]
    NotRoot {
        /// The configured user.
        user: String,
        /// Who zonal runs as.
        uid: libc::uid_t,
    },
    /// A system call failed.
    #[error("cannot become user '{user}': {call}: {source}")]
    Call {
        /// The configured user.
        user: String,
        /// Which call.
        call: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

/// Looks up `user` (and `group`, when given) in the system's databases.
pub fn resolve(user: &str, group: Option<&str>) -> Result<RunAs, PrivilegeError> {
    let name = CString::new(user).map_err(|_| PrivilegeError::NoUser(user.to_owned()))?;
    // SAFETY: getpwnam returns a pointer to static storage or null; it is read at
    // once, before any other call that could overwrite it (zonal is single-threaded
    // here, at start).
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        return Err(PrivilegeError::NoUser(user.to_owned()));
    }
    // SAFETY: `entry` is non-null and points to a passwd struct.
    let (uid, mut gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    if let Some(group) = group {
        let name = CString::new(group).map_err(|_| PrivilegeError::NoGroup(group.to_owned()))?;
        // SAFETY: as for getpwnam.
        let entry = unsafe { libc::getgrnam(name.as_ptr()) };
        if entry.is_null() {
            return Err(PrivilegeError::NoGroup(group.to_owned()));
        }
        // SAFETY: `entry` is non-null and points to a group struct.
        gid = unsafe { (*entry).gr_gid };
    }
    Ok(RunAs {
        user: user.to_owned(),
        uid,
        gid,
    })
}

/// Becomes `run_as`: supplementary groups dropped, then the group, then the user
/// (real, effective and saved IDs all changed, so root cannot be taken back).
/// Nothing to do when zonal already runs as that user.
pub fn drop_to(run_as: &RunAs) -> Result<(), PrivilegeError> {
    // SAFETY: these calls take and return plain integers.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid == run_as.uid && gid == run_as.gid {
        return Ok(());
    }
    if uid != 0 {
        return Err(PrivilegeError::NotRoot {
            user: run_as.user.clone(),
            uid,
        });
    }
    let fail = |call| PrivilegeError::Call {
        user: run_as.user.clone(),
        call,
        source: std::io::Error::last_os_error(),
    };
    let groups = [run_as.gid];
    // SAFETY: setgroups reads `groups.len()` IDs from a live array.
    if unsafe { libc::setgroups(groups.len(), groups.as_ptr()) } != 0 {
        return Err(fail("setgroups"));
    }
    // SAFETY: plain integer arguments.
    if unsafe { libc::setresgid(run_as.gid, run_as.gid, run_as.gid) } != 0 {
        return Err(fail("setresgid"));
    }
    // SAFETY: plain integer arguments.
    if unsafe { libc::setresuid(run_as.uid, run_as.uid, run_as.uid) } != 0 {
        return Err(fail("setresuid"));
    }
    // Root must be gone for good.
    // SAFETY: plain integer argument; it must fail.
    if run_as.uid != 0 && unsafe { libc::setuid(0) } == 0 {
        return Err(PrivilegeError::Call {
            user: run_as.user.clone(),
            call: "setuid(0) after the drop",
            source: std::io::Error::other("root could be taken back"),
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn users_and_groups_are_looked_up() {
        let root = resolve("root", None).unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert!(matches!(
            resolve("no-such-user-zonal", None),
            Err(PrivilegeError::NoUser(_))
        ));
        assert!(matches!(
            resolve("root", Some("no-such-group-zonal")),
            Err(PrivilegeError::NoGroup(_))
        ));
    }

    #[test]
    fn becoming_who_we_are_is_nothing() {
        // SAFETY: plain integer results.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let me = RunAs {
            user: "me".into(),
            uid,
            gid,
        };
        drop_to(&me).unwrap();
    }
}
