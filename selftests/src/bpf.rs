// SPDX-License-Identifier: GPL-2.0
//! Thin, explicit wrappers over bpf(2): `union bpf_attr` is built as bytes
//! at the documented offsets (7.2 UAPI), so the tests depend on no libbpf.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

pub const BPF_PROG_LOAD: u32 = 5;
pub const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;

pub const BPF_PROG_TYPE_SOCKET_FILTER: u32 = 1;

/// `union bpf_attr` is 160+ bytes in 7.2; unknown tail bytes must be zero.
pub const ATTR_SIZE: usize = 256;

/// A zeroed `union bpf_attr` with typed setters at byte offsets.
pub struct Attr(pub [u8; ATTR_SIZE]);

impl Default for Attr {
    fn default() -> Self {
        Self([0; ATTR_SIZE])
    }
}

impl Attr {
    pub fn u32(&mut self, off: usize, v: u32) -> &mut Self {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }
    pub fn u64(&mut self, off: usize, v: u64) -> &mut Self {
        self.0[off..off + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }
    pub fn ptr<T>(&mut self, off: usize, p: *const T) -> &mut Self {
        self.u64(off, p as usize as u64)
    }
}

/// bpf(cmd, attr, size): the new fd or value, or the errno.
pub fn sys_bpf(cmd: u32, attr: &mut Attr, size: usize) -> io::Result<i64> {
    // SAFETY: attr points to `size` <= ATTR_SIZE valid, writable bytes.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr.0.as_mut_ptr(),
            size as libc::c_long,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

pub fn fd_result(r: io::Result<i64>) -> io::Result<OwnedFd> {
    // SAFETY: a successful bpf() that returns an fd hands us ownership of it.
    r.map(|fd| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Offsets in `union bpf_attr` for BPF_PROG_LOAD (7.2 UAPI).
pub mod prog_load {
    pub const PROG_TYPE: usize = 0;
    pub const INSN_CNT: usize = 4;
    pub const INSNS: usize = 8;
    pub const LICENSE: usize = 16;
    pub const LOG_LEVEL: usize = 24;
    pub const LOG_SIZE: usize = 28;
    pub const LOG_BUF: usize = 32;
    pub const PROG_NAME: usize = 48;
}

/// Loads a program; on failure returns the errno and the verifier log.
pub fn prog_load(prog_type: u32, insns: &[u8], name: &str) -> Result<OwnedFd, (io::Error, String)> {
    let license = c"GPL";
    let mut log = vec![0u8; 64 * 1024];
    let mut a = Attr::default();
    a.u32(prog_load::PROG_TYPE, prog_type)
        .u32(prog_load::INSN_CNT, (insns.len() / 8) as u32)
        .ptr(prog_load::INSNS, insns.as_ptr())
        .ptr(prog_load::LICENSE, license.as_ptr())
        .u32(prog_load::LOG_LEVEL, 1)
        .u32(prog_load::LOG_SIZE, log.len() as u32)
        .ptr(prog_load::LOG_BUF, log.as_mut_ptr());
    let n = name.len().min(15);
    a.0[prog_load::PROG_NAME..prog_load::PROG_NAME + n].copy_from_slice(&name.as_bytes()[..n]);
    fd_result(sys_bpf(BPF_PROG_LOAD, &mut a, ATTR_SIZE)).map_err(|e| {
        let end = log.iter().position(|&b| b == 0).unwrap_or(0);
        (e, String::from_utf8_lossy(&log[..end]).into_owned())
    })
}

/// `struct bpf_prog_info` fields used here.
pub struct ProgInfo {
    pub tag: [u8; 8],
    pub prog_type: u32,
}

pub fn prog_info(fd: &OwnedFd) -> io::Result<ProgInfo> {
    use std::os::fd::AsRawFd;
    let mut info = [0u8; 256];
    let mut a = Attr::default();
    a.u32(0, fd.as_raw_fd() as u32)
        .u32(4, info.len() as u32)
        .ptr(8, info.as_mut_ptr());
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut a, 16)?;
    Ok(ProgInfo {
        prog_type: u32::from_ne_bytes(info[0..4].try_into().unwrap()),
        tag: info[8..16].try_into().unwrap(),
    })
}
