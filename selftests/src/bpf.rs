// SPDX-License-Identifier: GPL-2.0
//! Thin, explicit wrappers over bpf(2) and add_key(2): `union bpf_attr` is
//! built as bytes at the 7.2 UAPI offsets (checked against the tree's header
//! with offsetof), so the tests depend on no libbpf and see every errno.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub const BPF_MAP_CREATE: u32 = 0;
pub const BPF_MAP_UPDATE_ELEM: u32 = 2;
pub const BPF_MAP_LOOKUP_ELEM: u32 = 1;
pub const BPF_PROG_LOAD: u32 = 5;
pub const BPF_PROG_TEST_RUN: u32 = 10;
pub const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;
pub const BPF_BTF_LOAD: u32 = 18;
pub const BPF_MAP_FREEZE: u32 = 22;
pub const BPF_LINK_CREATE: u32 = 28;

pub const BPF_MAP_TYPE_ARRAY: u32 = 2;
pub const BPF_PROG_TYPE_SOCKET_FILTER: u32 = 1;
pub const BPF_PROG_TYPE_EXT: u32 = 28;
pub const BPF_PROG_TYPE_LSM: u32 = 29;
pub const BPF_PROG_TYPE_SYSCALL: u32 = 31;
pub const BPF_LSM_MAC: u32 = 27;
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
pub const BPF_F_SIG_BTF: u32 = 1 << 8;

pub const ATTR_SIZE: usize = 168;

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
    pub fn fd(&mut self, off: usize, fd: &OwnedFd) -> &mut Self {
        self.u32(off, fd.as_raw_fd() as u32)
    }
    pub fn get_u32(&self, off: usize) -> u32 {
        u32::from_ne_bytes(self.0[off..off + 4].try_into().unwrap())
    }
}

/// bpf(cmd, attr): the result, or the errno as an io::Error.
pub fn sys_bpf(cmd: u32, attr: &mut Attr) -> io::Result<i64> {
    // SAFETY: attr is ATTR_SIZE valid, writable bytes.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr.0.as_mut_ptr(),
            ATTR_SIZE as libc::c_long,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

pub fn new_fd(cmd: u32, attr: &mut Attr) -> io::Result<OwnedFd> {
    // SAFETY: a successful fd-returning bpf() hands us ownership of the fd.
    sys_bpf(cmd, attr).map(|fd| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The negative errno of a failed call (what the kernel returned).
pub fn errno(e: &io::Error) -> i32 {
    -e.raw_os_error().unwrap_or(0)
}

/// An array map with one value of `value_size` bytes; exclusive to the
/// program whose digest is `excl` when given.
pub fn array_map(value_size: u32, excl: Option<&[u8; 32]>) -> io::Result<OwnedFd> {
    let mut a = Attr::default();
    a.u32(0, BPF_MAP_TYPE_ARRAY)
        .u32(4, 4)
        .u32(8, value_size)
        .u32(12, 1);
    if let Some(h) = excl {
        a.ptr(80, h.as_ptr()).u32(88, 32);
    }
    new_fd(BPF_MAP_CREATE, &mut a)
}

pub fn map_update(map: &OwnedFd, key: u32, value: &[u8]) -> io::Result<()> {
    let mut a = Attr::default();
    a.fd(0, map).ptr(8, &key).ptr(16, value.as_ptr());
    sys_bpf(BPF_MAP_UPDATE_ELEM, &mut a).map(|_| ())
}

pub fn map_lookup(map: &OwnedFd, key: u32, value: &mut [u8]) -> io::Result<()> {
    let mut a = Attr::default();
    a.fd(0, map).ptr(8, &key).ptr(16, value.as_mut_ptr());
    sys_bpf(BPF_MAP_LOOKUP_ELEM, &mut a).map(|_| ())
}

pub fn map_freeze(map: &OwnedFd) -> io::Result<()> {
    let mut a = Attr::default();
    a.fd(0, map);
    sys_bpf(BPF_MAP_FREEZE, &mut a).map(|_| ())
}

/// BPF_OBJ_GET_INFO_BY_FD with info.hash: makes the kernel compute and cache
/// `map->sha` (frozen maps only).
pub fn map_hash(map: &OwnedFd) -> io::Result<[u8; 32]> {
    let mut hash = [0u8; 32];
    let mut info = [0u8; 104];
    info[88..96].copy_from_slice(&(hash.as_mut_ptr() as usize as u64).to_ne_bytes());
    info[96..100].copy_from_slice(&32u32.to_ne_bytes());
    let mut a = Attr::default();
    a.fd(0, map)
        .u32(4, info.len() as u32)
        .ptr(8, info.as_mut_ptr());
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut a)?;
    Ok(hash)
}

pub fn btf_load(data: &[u8]) -> Result<OwnedFd, (io::Error, String)> {
    let mut log = vec![0u8; 16 * 1024];
    let mut a = Attr::default();
    a.ptr(0, data.as_ptr())
        .ptr(8, log.as_mut_ptr())
        .u32(16, data.len() as u32)
        .u32(20, log.len() as u32)
        .u32(24, 1);
    new_fd(BPF_BTF_LOAD, &mut a).map_err(|e| (e, cstr(&log)))
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Everything BPF_PROG_LOAD takes that the tests vary.
#[derive(Default)]
pub struct Load<'a> {
    pub prog_type: u32,
    pub insns: &'a [u8],
    pub btf: Option<&'a OwnedFd>,
    pub fd_array: &'a [RawFd],
    pub signature: Option<&'a [u8]>,
    pub keyring: i32,
    pub expected_attach_type: u32,
    pub attach_btf_id: u32,
    pub attach_prog: Option<&'a OwnedFd>,
    pub prog_flags: u32,
    pub name: &'a str,
    /// `struct bpf_func_info` records (insn_off, type_id), 8 bytes each.
    pub func_info: &'a [u8],
    /// `struct bpf_line_info` records (insn_off, file_name_off, line_off,
    /// line_col), 16 bytes each.
    pub line_info: &'a [u8],
    /// `struct bpf_core_relo` records, 16 bytes each.
    pub core_relos: &'a [u8],
    /// No verifier log (benchmarks: logging costs more than verifying).
    pub quiet: bool,
}

/// Loads a program; on failure returns the errno and the verifier log.
pub fn prog_load(l: &Load<'_>) -> Result<OwnedFd, (io::Error, String)> {
    let license = c"GPL";
    let mut log = vec![0u8; if l.quiet { 1 } else { 256 * 1024 }];
    let mut a = Attr::default();
    a.u32(0, l.prog_type)
        .u32(4, (l.insns.len() / 8) as u32)
        .ptr(8, l.insns.as_ptr())
        .ptr(16, license.as_ptr())
        .u32(24, u32::from(!l.quiet));
    if !l.quiet {
        a.u32(28, log.len() as u32).ptr(32, log.as_mut_ptr());
    }
    a.u32(44, l.prog_flags)
        .u32(68, l.expected_attach_type)
        .u32(108, l.attach_btf_id);
    let n = l.name.len().min(15);
    a.0[48..48 + n].copy_from_slice(&l.name.as_bytes()[..n]);
    if let Some(btf) = l.btf {
        a.fd(72, btf);
    }
    if let Some(p) = l.attach_prog {
        a.fd(112, p);
    }
    if !l.fd_array.is_empty() {
        a.ptr(120, l.fd_array.as_ptr())
            .u32(148, l.fd_array.len() as u32);
    }
    if !l.func_info.is_empty() {
        a.u32(76, 8)
            .ptr(80, l.func_info.as_ptr())
            .u32(88, (l.func_info.len() / 8) as u32);
    }
    if !l.line_info.is_empty() {
        a.u32(92, 16)
            .ptr(96, l.line_info.as_ptr())
            .u32(104, (l.line_info.len() / 16) as u32);
    }
    if !l.core_relos.is_empty() {
        a.u32(116, (l.core_relos.len() / 16) as u32)
            .ptr(128, l.core_relos.as_ptr())
            .u32(136, 16);
    }
    if let Some(sig) = l.signature {
        a.ptr(152, sig.as_ptr())
            .u32(160, sig.len() as u32)
            .u32(164, l.keyring as u32);
    }
    new_fd(BPF_PROG_LOAD, &mut a).map_err(|e| (e, cstr(&log)))
}

/// BPF_PROG_TEST_RUN without input; returns the program's return value.
pub fn test_run(prog: &OwnedFd) -> io::Result<i32> {
    let mut a = Attr::default();
    a.fd(0, prog);
    sys_bpf(BPF_PROG_TEST_RUN, &mut a)?;
    Ok(a.get_u32(4) as i32)
}

/// BPF_PROG_TEST_RUN with `ctx` as the context; the program's return value.
pub fn test_run_ctx(prog: &OwnedFd, ctx: &[u8]) -> io::Result<i32> {
    let mut a = Attr::default();
    a.fd(0, prog)
        .u32(40, ctx.len() as u32)
        .ptr(48, ctx.as_ptr());
    sys_bpf(BPF_PROG_TEST_RUN, &mut a)?;
    Ok(a.get_u32(4) as i32)
}

/// BPF_LINK_CREATE for an LSM program.
pub fn lsm_attach(prog: &OwnedFd) -> io::Result<OwnedFd> {
    let mut a = Attr::default();
    a.fd(0, prog).u32(8, BPF_LSM_MAC);
    new_fd(BPF_LINK_CREATE, &mut a)
}

/// A numeric field of the program's fdinfo (e.g. "sig_verdict", "prog_id").
pub fn fdinfo(fd: &OwnedFd, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(":")?.trim().parse().ok())
}

/// `struct bpf_prog_info` fields used here.
pub struct ProgInfo {
    pub tag: [u8; 8],
    pub prog_type: u32,
    pub btf_id: u32,
}

pub fn prog_info(fd: &OwnedFd) -> io::Result<ProgInfo> {
    let mut info = [0u8; 256];
    let mut a = Attr::default();
    a.fd(0, fd)
        .u32(4, info.len() as u32)
        .ptr(8, info.as_mut_ptr());
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut a)?;
    Ok(ProgInfo {
        prog_type: u32::from_ne_bytes(info[0..4].try_into().unwrap()),
        tag: info[8..16].try_into().unwrap(),
        btf_id: u32::from_ne_bytes(info[128..132].try_into().unwrap()),
    })
}

/// BPF_BTF_GET_FD_BY_ID.
pub fn btf_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    let mut a = Attr::default();
    a.u32(0, id);
    new_fd(19, &mut a)
}

/// The id of a BTF object (`struct bpf_btf_info.id`).
pub fn btf_id(fd: &OwnedFd) -> io::Result<u32> {
    let mut info = [0u8; 32];
    let mut a = Attr::default();
    a.fd(0, fd)
        .u32(4, info.len() as u32)
        .ptr(8, info.as_mut_ptr());
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut a)?;
    Ok(u32::from_ne_bytes(info[12..16].try_into().unwrap()))
}

/// keyctl(2) with two integer arguments.
pub fn keyctl(op: i32, key: i32, arg: u64) -> io::Result<()> {
    // SAFETY: plain integer arguments.
    let r = unsafe { libc::syscall(libc::SYS_keyctl, op, key, arg) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
pub const KEYCTL_SETPERM: i32 = 5;
pub const KEYCTL_SET_TIMEOUT: i32 = 15;

/// add_key(2): returns the new key's serial.
pub fn add_key(
    kind: &std::ffi::CStr,
    desc: &std::ffi::CStr,
    payload: &[u8],
    keyring: i32,
) -> io::Result<i32> {
    // SAFETY: valid NUL-terminated strings and a payload of the given size.
    let r = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            kind.as_ptr(),
            desc.as_ptr(),
            if payload.is_empty() {
                std::ptr::null()
            } else {
                payload.as_ptr()
            },
            payload.len(),
            keyring as libc::c_long,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as i32)
    }
}

/// KEY_SPEC_USER_KEYRING.
pub const KEY_SPEC_USER_KEYRING: i32 = -4;
