//! Mounting (placeholder: being written).
use std::os::fd::OwnedFd;
use std::path::Path;

/// Mount options (placeholder).
#[derive(Debug, Clone, Default)]
pub struct MountOptions {}

/// Why mounting failed (placeholder).
#[derive(Debug, thiserror::Error)]
#[error("mount failed")]
pub struct MountError;

/// Handle that unmounts (placeholder).
#[derive(Debug)]
pub(crate) struct Mount;

impl Mount {
    pub(crate) fn unmount(&mut self) -> Result<(), MountError> {
        Ok(())
    }
}

pub(crate) fn mount(_: &Path, _: &MountOptions) -> Result<(OwnedFd, Mount), MountError> {
    Err(MountError)
}
