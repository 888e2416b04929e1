// SPDX-License-Identifier: GPL-2.0
//! Hand-assembled signed loaders and the scenario runner the loader cases
//! share, plus a BPF LSM probe on the new bpf_prog_load_post_integrity hook.

use crate::asm::*;
use crate::bpf::{self, Load};
use crate::sign::{self, Signer};
use crate::vmlinux::Vmlinux;
use bpfsig_core::btf::Kind;
use sha2::{Digest, Sha256};
use std::os::fd::{AsRawFd, OwnedFd};

/// The loader's BTF (SPEC §6) and the FUNC id of bpf_loader_verify_metadata.
pub fn loader_btf() -> (Vec<u8>, u32) {
    bpfsig_testkit::loader_btf()
}

/// A bpfsig loader: check the metadata map through the kfunc, return its result.
///
/// r1 = map (fd_array[0]); r2 = 32-byte stack buffer holding `hash`;
/// r3 = `hash_sz`; call `bpf_loader_verify_metadata` via program BTF; exit.
pub fn loader_insns(hash: &[u8; 32], hash_sz: i32, call: Slot) -> Vec<u8> {
    let mut p = check_block(0, hash, hash_sz, call);
    p.push(exit());
    p.concat()
}

/// The metadata check as gen_loader emits it, on fd_array[`map_idx`]: the
/// hash onto the stack, r1 = map, r2 = &hash, r3 = `hash_sz`, then `call`
/// (r0 is its result).
pub fn check_block(map_idx: u64, hash: &[u8; 32], hash_sz: i32, call: Slot) -> Vec<Slot> {
    let mut p: Vec<Slot> = Vec::new();
    p.extend(ld_imm64(1, 5, map_idx));
    for (i, chunk) in hash.chunks_exact(8).enumerate() {
        p.extend(ld_imm64(
            3,
            0,
            u64::from_le_bytes(chunk.try_into().unwrap()),
        ));
        p.push(stx_dw(10, -32 + 8 * i as i16, 3));
    }
    p.push(mov_reg(2, 10));
    p.push(add_imm(2, -32));
    p.push(mov_imm(3, hash_sz));
    p.push(call);
    p
}

/// A 7.2-style loader: the inline check (excl at +32 must be 1, then the four
/// words of map->sha against signed immediates), no kfunc, no BTF.
pub fn inline_check_insns(hash: &[u8; 32]) -> Vec<u8> {
    let mut p: Vec<Slot> = Vec::new();
    p.extend(ld_imm64(1, 5, 0));
    p.push(ldx_w(2, 1, 32));
    // Each failing compare jumps to the "r0 = -EINVAL" tail.
    let fail_jumps_at = |p: &Vec<Slot>| p.len();
    let mut jumps = vec![fail_jumps_at(&p)];
    p.push(jne_imm(2, 1, 0));
    for (i, chunk) in hash.chunks_exact(8).enumerate() {
        p.push(ldx_dw(2, 1, 8 * i as i16));
        p.extend(ld_imm64(
            3,
            0,
            u64::from_le_bytes(chunk.try_into().unwrap()),
        ));
        jumps.push(p.len());
        p.push(jne_reg(2, 3, 0));
    }
    p.push(mov_imm(0, 0));
    p.push(exit());
    let fail = p.len();
    p.push(mov_imm(0, -22));
    p.push(exit());
    for j in jumps {
        let mut i = bpfsig_core::insn::Insn::from_bytes(p[j]);
        i.off = (fail - j - 1) as i16;
        p[j] = i.to_bytes();
    }
    p.concat()
}

pub const METADATA: &[u8; 64] = b"bpfsig selftest metadata: maps, programs and relocations go here";

/// What a scenario changes from the happy path.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    None,
    /// Flip a byte of the instructions after signing.
    Insn,
    /// Flip a byte of the BTF (still valid BTF) after signing.
    BtfByte,
    /// Load a different valid BTF than the one signed.
    OtherBtf,
    /// Flip a byte of the metadata put in the map (the signed hash is of the original).
    Metadata,
    /// Sign the instructions only (7.2's scope), and load with the BTF and
    /// without BPF_F_SIG_BTF: the signature leaves the BTF unsigned.
    SignInsnsOnly,
    /// Load with BPF_F_SIG_BTF and the loader's BTF grown to exactly 16 MiB
    /// (the most BPF_BTF_LOAD takes): the signed bytes then exceed the
    /// 24-bit size of the dynptr the PKCS#7 check reads.
    HugeBtf,
    /// Sign header || insns || BTF, and load without BPF_F_SIG_BTF.
    FlagStripped,
    /// Sign the instructions only, and load with BPF_F_SIG_BTF.
    FlagAdded,
    /// Sign with a header that moves the split between insns and BTF.
    SplitMoved,
}

#[derive(Clone, Copy)]
pub struct Scenario {
    pub signed: bool,
    pub with_btf: bool,
    pub exclusive: bool,
    pub freeze: bool,
    pub compute_hash: bool,
    pub hash_sz: i32,
    pub call_off: i16,
    pub call_imm: Option<i32>,
    pub tamper: Tamper,
    pub inline_check: bool,
    /// The kfunc name the loader's BTF declares.
    pub func_name: &'static str,
    /// Size of the third parameter the loader's BTF declares (when it names
    /// another function than the kfunc).
    pub len_size: u32,
    /// Call the kfunc as an ordinary kfunc call, by its vmlinux BTF id.
    pub vmlinux_call: bool,
    /// Pass one CO-RE relocation record (unsigned input) with the load.
    pub core_relo: bool,
    /// Run the loaded program a second time.
    pub second_run: bool,
    /// Verify against this keyring instead of the signer's own.
    pub keyring: Option<i32>,
}

impl Scenario {
    /// The happy path: a signed loader with its BTF and a good map.
    pub const DEFAULT: Self = Self {
        signed: true,
        with_btf: true,
        exclusive: true,
        freeze: true,
        compute_hash: true,
        hash_sz: 32,
        call_off: 0,
        call_imm: None,
        tamper: Tamper::None,
        inline_check: false,
        func_name: "bpf_loader_verify_metadata",
        len_size: 4,
        vmlinux_call: false,
        core_relo: false,
        second_run: false,
        keyring: None,
    };
}

impl Default for Scenario {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What happened.
pub struct Report {
    /// The load's errno, if it failed, and the verifier log.
    pub load_err: Option<(i32, String)>,
    pub retval: i32,
    pub verdict: u64,
    /// Post-integrity hook calls during the run, and the last program id it saw.
    pub hook_calls: u64,
    pub hook_saw_this_prog: bool,
    /// The second run's return value, if there was one.
    pub retval2: Option<i32>,
}

/// The BPF LSM probe on bpf_prog_load_post_integrity: counts its calls,
/// records the program id it was called with, and denies from a given call
/// on, with -EPERM or -ENOKEY.
pub struct Probe {
    map: OwnedFd,
    _prog: OwnedFd,
    _link: OwnedFd,
}

/// The probe's map value: calls, last program id, deny from this call on
/// (0: never), errno selector (0: -EPERM, 1: -ENOKEY).
const PROBE_VALUE: usize = 32;
pub const ENOKEY: i32 = -126;

impl Probe {
    pub fn attach(vm: &mut Vmlinux) -> Result<Self, String> {
        let hook = vm
            .find(Kind::Func, "bpf_lsm_bpf_prog_load_post_integrity")
            .ok_or("no bpf_lsm_bpf_prog_load_post_integrity in vmlinux BTF")?;
        let aux = vm
            .member_offset("bpf_prog", "aux")
            .ok_or("no bpf_prog.aux")?;
        let id = vm
            .member_offset("bpf_prog_aux", "id")
            .ok_or("no bpf_prog_aux.id")?;
        let map =
            bpf::array_map(PROBE_VALUE as u32, None).map_err(|e| format!("probe map: {e}"))?;
        let mut p: Vec<Slot> = vec![
            mov_reg(6, 1),
            ldx_dw(7, 6, 0),
            ldx_dw(8, 7, aux),
            ldx_w(9, 8, id),
            st_w(10, -4, 0),
        ];
        p.extend(ld_imm64(1, 1, map.as_raw_fd() as u64));
        p.extend([
            mov_reg(2, 10),
            add_imm(2, -4),
            call_helper(1),    // bpf_map_lookup_elem
            jeq_imm(0, 0, 13), // no value: allow
            mov_imm(1, 1),
            atomic_add_dw(0, 0, 1),
            stx_dw(0, 8, 9),
            ldx_dw(1, 0, 0),  // calls, this one included
            ldx_dw(2, 0, 16), // deny from
            ldx_dw(3, 0, 24), // errno selector
            jeq_imm(2, 0, 6),
            ins(0xad, 1, 2, 5, 0), // if calls < deny_from: allow
            jeq_imm(3, 1, 2),
            mov_imm(0, -1), // -EPERM
            exit(),
            mov_imm(0, ENOKEY),
            exit(),
            mov_imm(0, 0),
            exit(),
        ]);
        let insns = p.concat();
        let prog = bpf::prog_load(&Load {
            prog_type: bpf::BPF_PROG_TYPE_LSM,
            insns: &insns,
            expected_attach_type: bpf::BPF_LSM_MAC,
            attach_btf_id: hook,
            name: "bpfsig_probe",
            ..Load::default()
        })
        .map_err(|(e, log)| format!("probe load: {e}\n{log}"))?;
        let link = bpf::lsm_attach(&prog).map_err(|e| format!("probe attach: {e}"))?;
        Ok(Self {
            map,
            _prog: prog,
            _link: link,
        })
    }

    pub(crate) fn value(&self) -> [u64; 4] {
        let mut v = [0u8; PROBE_VALUE];
        bpf::map_lookup(&self.map, 0, &mut v).expect("probe map lookup");
        [0, 1, 2, 3].map(|i| u64::from_ne_bytes(v[8 * i..8 * i + 8].try_into().unwrap()))
    }

    /// Denies from the `after`-th call from now on (1: the next one; 0:
    /// never), with -EPERM or, if `enokey`, -ENOKEY.
    pub fn deny_after(&self, after: u64, enokey: bool) {
        let [count, id, _, _] = self.value();
        let from = if after == 0 { 0 } else { count + after };
        let v = [count, id, from, u64::from(enokey)];
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
        bpf::map_update(&self.map, 0, &bytes).expect("probe map update");
    }

    pub fn set_deny(&self, deny: bool) {
        self.deny_after(u64::from(deny), false);
    }
}

/// `btf` (its string section last, as BtfBuilder writes it) grown to
/// exactly 16 MiB by zeros at the end of its string section: still valid,
/// still declaring the loader's kfunc.
fn huge_btf(btf: &[u8]) -> Vec<u8> {
    const SIZE: usize = 16 << 20;
    let mut b = btf.to_vec();
    let str_len = u32::from_ne_bytes(b[20..24].try_into().unwrap()) as usize + SIZE - b.len();
    b[20..24].copy_from_slice(&(str_len as u32).to_ne_bytes());
    b.resize(SIZE, 0);
    b
}

/// Runs one scenario end to end: metadata map, loader, signature, load, run.
pub fn run(sc: &Scenario, signer: &Signer, probe: &Probe) -> Result<Report, String> {
    let meta_hash: [u8; 32] = Sha256::digest(METADATA).into();
    let (btf, func) = if sc.func_name == "bpf_loader_verify_metadata" {
        loader_btf()
    } else {
        let mut b = bpfsig_testkit::BtfBuilder::new();
        let int = b.int("int", 4, true);
        let len = b.int("len_t", sc.len_size, false);
        let v = b.ptr(0);
        let p = b.proto(int, &[("map", v), ("hash", v), ("hash__sz", len)]);
        let f = b.func(sc.func_name, p);
        (b.finish(), f)
    };
    let mut insns = if sc.inline_check {
        inline_check_insns(&meta_hash)
    } else {
        let call = if sc.vmlinux_call {
            let id = Vmlinux::load()?
                .find(Kind::Func, "bpf_loader_verify_metadata")
                .ok_or("no bpf_loader_verify_metadata in vmlinux BTF")?;
            ins(0x85, 0, 2, 0, id as i32)
        } else {
            call_prog_btf(sc.call_imm.unwrap_or(func as i32), sc.call_off)
        };
        loader_insns(&meta_hash, sc.hash_sz, call)
    };
    // The map is exclusive to the program with this digest: the insns as
    // signed (MAP_IDX loads are not masked, so it is their plain SHA-256).
    let digest: [u8; 32] = Sha256::digest(&insns).into();
    let map = bpf::array_map(METADATA.len() as u32, sc.exclusive.then_some(&digest))
        .map_err(|e| format!("map: {e}"))?;
    let mut meta = *METADATA;
    if sc.tamper == Tamper::Metadata {
        meta[7] ^= 1;
    }
    bpf::map_update(&map, 0, &meta).map_err(|e| format!("map update: {e}"))?;
    if sc.freeze {
        bpf::map_freeze(&map).map_err(|e| format!("freeze: {e}"))?;
    }
    if sc.compute_hash {
        bpf::map_hash(&map).map_err(|e| format!("map hash: {e}"))?;
    }

    // Signed with BPF_F_SIG_BTF when the load has BTF, as bpftool signs.
    let (signed, mut sig_btf) = match sc.tamper {
        _ if !sc.with_btf => (insns.clone(), false),
        Tamper::SignInsnsOnly => (insns.clone(), false),
        Tamper::FlagAdded => (insns.clone(), true),
        Tamper::FlagStripped => (sign::btf_signed_bytes(&insns, &btf), false),
        Tamper::SplitMoved => {
            let mut b = sign::btf_signed_bytes(&insns, &btf);
            let i = (insns.len() + 8) as u32;
            let t = (btf.len() - 8) as u32;
            b[8..12].copy_from_slice(&i.to_le_bytes());
            b[12..16].copy_from_slice(&t.to_le_bytes());
            (b, true)
        }
        _ => (sign::btf_signed_bytes(&insns, &btf), true),
    };
    if sc.tamper == Tamper::HugeBtf {
        sig_btf = true;
    }
    // Only a signature can cover the BTF: unsigned loads never ask.
    sig_btf &= sc.signed;
    let sig = if sc.signed {
        Some(signer.sign(&signed)?)
    } else {
        None
    };
    let mut load_btf = btf.clone();
    match sc.tamper {
        Tamper::Insn => insns[4] ^= 1, // the map index imm of the first ld_imm64
        Tamper::BtfByte => {
            let n = load_btf.len();
            load_btf[n - 30] ^= 1; // "hash__sz" becomes "hash__rz": still valid BTF
        }
        Tamper::HugeBtf => load_btf = huge_btf(&btf),
        Tamper::OtherBtf => {
            let mut b = bpfsig_testkit::BtfBuilder::new();
            let int = b.int("int", 4, true);
            let u32_ = b.int("u32", 4, false);
            let v = b.ptr(0);
            let p = b.proto(int, &[("m", v), ("h", v), ("hash__sz", u32_)]);
            b.func("bpf_loader_verify_metadata", p);
            load_btf = b.finish();
        }
        _ => {}
    }
    let btf_fd = if sc.with_btf {
        Some(bpf::btf_load(&load_btf).map_err(|(e, log)| format!("BTF load: {e}\n{log}"))?)
    } else {
        None
    };
    let fds = [map.as_raw_fd()];
    // A TYPE_ID_LOCAL relocation of insn 0 to the BTF's type 1.
    let relo = if sc.core_relo {
        [0u32, 1, 0, 6].map(u32::to_ne_bytes).concat()
    } else {
        Vec::new()
    };
    let before = probe.value();
    let load = bpf::prog_load(&Load {
        prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
        prog_flags: bpf::BPF_F_SLEEPABLE | if sig_btf { bpf::BPF_F_SIG_BTF } else { 0 },
        insns: &insns,
        btf: btf_fd.as_ref(),
        fd_array: &fds,
        signature: sig.as_deref(),
        keyring: sc.keyring.unwrap_or(signer.keyring),
        name: "bpfsig_loader",
        core_relos: &relo,
        ..Load::default()
    });
    let prog = match load {
        Ok(p) => p,
        Err((e, log)) => {
            return Ok(Report {
                load_err: Some((bpf::errno(&e), log)),
                retval: 0,
                verdict: 0,
                hook_calls: probe.value()[0] - before[0],
                hook_saw_this_prog: false,
                retval2: None,
            })
        }
    };
    let retval = bpf::test_run(&prog).map_err(|e| format!("test run: {e}"))?;
    let retval2 = if sc.second_run {
        Some(bpf::test_run(&prog).map_err(|e| format!("second test run: {e}"))?)
    } else {
        None
    };
    let after = probe.value();
    let id = bpf::fdinfo(&prog, "prog_id").unwrap_or(0);
    Ok(Report {
        load_err: None,
        retval,
        verdict: bpf::fdinfo(&prog, "sig_verdict").ok_or("no sig_verdict in fdinfo")?,
        hook_calls: after[0] - before[0],
        hook_saw_this_prog: after[1] == id,
        retval2,
    })
}

/// An unsigned loader that calls the kfunc through its BTF on a plain map
/// (fd_array[0]): it loads, and each run's check fails with -EINVAL (the
/// map is not exclusive). Holds what the program was loaded with.
pub struct PlainLoader {
    pub prog: OwnedFd,
    pub insns: Vec<u8>,
    _btf: OwnedFd,
    _map: OwnedFd,
}

pub fn plain_loader(name: &str) -> Result<PlainLoader, String> {
    let (btf, func) = loader_btf();
    let btf = bpf::btf_load(&btf).map_err(|(e, log)| format!("BTF: {e}\n{log}"))?;
    let map = bpf::array_map(64, None).map_err(|e| format!("map: {e}"))?;
    let insns = loader_insns(&[0x5a; 32], 32, call_prog_btf(func as i32, 0));
    let fds = [map.as_raw_fd()];
    let prog = bpf::prog_load(&Load {
        prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
        prog_flags: bpf::BPF_F_SLEEPABLE,
        insns: &insns,
        btf: Some(&btf),
        fd_array: &fds,
        name,
        ..Load::default()
    })
    .map_err(|(e, log)| format!("{name}: {e}\n{log}"))?;
    Ok(PlainLoader {
        prog,
        insns,
        _btf: btf,
        _map: map,
    })
}
